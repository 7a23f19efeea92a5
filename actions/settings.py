"""Settings of the action server: read once from the environment, validated at start.

Every variable is documented in ``.env.example``. A missing or invalid value stops
start-up with a ``SettingsError`` that names the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from actions.integrations.registry import read_source_configs
from actions.payments.registry import read_payment_config
from actions.proactive.quiet_hours import QuietHours
from actions.verification.smtp import SmtpConfig
from common.integration_feed import keyring_from
from common.secretbox import Keyring
from common.settings import (
    Reader,
    SettingsError,
    is_placeholder,
)
from common.settings import environment as process_environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where llm/'s local model server listens by default (llm/README.md).
LOCAL_LLM_URL = "http://127.0.0.1:8088/v1"


class Environment(str, Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclass(frozen=True)
class Settings:
    environment: Environment
    data_dir: Path
    demo_store_path: Path
    support_log_path: Path
    knowledge_dir: Path
    knowledge_cache_dir: Path
    order_sources: tuple[str, ...]
    payment_provider: str
    public_url: str
    actions_host: str
    actions_port: int
    return_window_days: int
    max_order_id_attempts: int
    default_language: str
    llm_backend: str = "extractive"  # extractive | openai | local (llm/, same protocol)
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""
    llm_timeout_s: float = 6.0
    fallback_budget_s: float = 8.0
    llm_max_per_conversation: int = 30
    llm_max_per_day: int = 5000
    redis_url: str = ""
    # The payment ledger and the support log: SQLite files in data_dir when
    # empty; production needs the database every replica shares.
    database_url: str = field(default="", repr=False)
    # phone_last4 unless a demo opts out with the unsafe "none" (actions/privacy.py).
    order_privacy: str = "phone_last4"
    # How one-time codes reach the e-mail on an order without a phone
    # (actions/verification/): file (development), smtp, or none (no code factor).
    code_sender: str = "file"
    code_ttl_s: int = 600
    code_sends_per_hour: int = 3
    # Order updates held overnight (actions/proactive/quiet_hours.py).
    quiet_hours: str = "22-9"
    # Followed orders read again this often (actions/proactive/poller.py); 0: off.
    order_poll_s: int = 300
    # Photos and files shoppers send (actions/attachments/): largest kept, and
    # how many one conversation may leave a day.
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachments_per_day: int = 30
    # The dashboard's knowledge base is read again this often from the api
    # (actions/knowledge/published.py; a 304 when unchanged); 0: the files only.
    knowledge_refresh_s: int = 10
    shop_timezone: str = "Europe/Moscow"
    # The admin API, for the Shop page's settings (actions/shop_profile.py);
    # empty: the environment's return window, nothing about operators' hours.
    api_url: str = ""
    rasa_url: str = "http://localhost:5005"
    rasa_token: str = ""
    action_token: str = ""
    # Integrations saved on the dashboard (actions/live_integrations/): read from
    # the api every this many seconds (0: never), secrets opened with the key the
    # api seals them with (EASYFLOW_SECRETS_KEY / _KEY_FILE / _OLD_KEYS).
    integrations_poll_s: int = 15
    secrets_key: str = field(default="", repr=False)
    secrets_key_file: str = ""
    secrets_old_keys: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_environment() if env is None else env
        reader = Reader(env)
        environment = reader.choice(
            "EASYFLOW_ENV",
            [e.value for e in Environment],
            Environment.DEVELOPMENT.value,
        )
        data_dir = reader.path("EASYFLOW_DATA_DIR", PROJECT_ROOT / "var")
        backend = reader.choice(
            "EASYFLOW_LLM_BACKEND", ["extractive", "openai", "local"], "extractive"
        )
        # local: the project's own model server (llm/), spoken to as any other
        # OpenAI-compatible endpoint, on its defaults and without an API key.
        local = backend == "local"
        settings = cls(
            environment=Environment(environment),
            data_dir=data_dir,
            demo_store_path=reader.path(
                "EASYFLOW_DEMO_STORE_PATH", data_dir / "demo_store.sqlite"
            ),
            support_log_path=reader.path(
                "EASYFLOW_SUPPORT_LOG_PATH", data_dir / "support.sqlite"
            ),
            knowledge_dir=reader.path(
                "EASYFLOW_KNOWLEDGE_DIR", PROJECT_ROOT / "data" / "knowledge"
            ),
            # Passage vectors, named by a digest of the model and the passages.
            knowledge_cache_dir=reader.path("EASYFLOW_KNOWLEDGE_CACHE_DIR", data_dir),
            order_sources=reader.choices(
                "EASYFLOW_ORDER_SOURCES",
                ["demo", "wildberries", "ozon", "bitrix24", "shopify"],
                "demo",
            ),
            payment_provider=reader.choice(
                "EASYFLOW_PAYMENT_PROVIDER",
                ["demo", "yookassa", "tbank", "sber", "stripe"],
                "demo",
            ),
            public_url=reader.url("EASYFLOW_PUBLIC_URL", "http://localhost:5055"),
            # Loopback on the embedded default (the demo pay page is on
            # localhost); production must reach pay pages and payment webhooks.
            actions_host=reader.text(
                "EASYFLOW_ACTIONS_HOST",
                "0.0.0.0"
                if environment == Environment.PRODUCTION.value
                else "127.0.0.1",
            ),
            actions_port=reader.integer("EASYFLOW_ACTIONS_PORT", 5055, 1, 65535),
            return_window_days=reader.integer(
                "EASYFLOW_RETURN_WINDOW_DAYS", 14, 1, 365
            ),
            max_order_id_attempts=reader.integer(
                "EASYFLOW_MAX_ORDER_ID_ATTEMPTS", 3, 1, 10
            ),
            default_language=reader.choice(
                "EASYFLOW_DEFAULT_LANGUAGE", ["ru", "en"], "ru"
            ),
            llm_backend=backend,
            llm_base_url=reader.text(
                "EASYFLOW_LLM_BASE_URL", LOCAL_LLM_URL if local else ""
            ),
            llm_api_key=reader.text("EASYFLOW_LLM_API_KEY", "local" if local else ""),
            llm_model=reader.text("EASYFLOW_LLM_MODEL", "local" if local else ""),
            llm_timeout_s=reader.seconds("EASYFLOW_LLM_TIMEOUT_S", 6.0),
            fallback_budget_s=reader.seconds("EASYFLOW_FALLBACK_BUDGET_S", 8.0),
            llm_max_per_conversation=reader.integer(
                "EASYFLOW_LLM_MAX_PER_CONVERSATION", 30, 0, 100_000
            ),
            llm_max_per_day=reader.integer("EASYFLOW_LLM_MAX_PER_DAY", 5000, 0, 10**9),
            redis_url=reader.text("EASYFLOW_REDIS_URL", ""),
            database_url=reader.text(
                "EASYFLOW_ACTIONS_DATABASE_URL",
                reader.text("EASYFLOW_DATABASE_URL", ""),
            ),
            rasa_url=reader.url("EASYFLOW_RASA_URL", "http://localhost:5005"),
            api_url=_optional_url(reader, "EASYFLOW_API_URL"),
            rasa_token=reader.text("EASYFLOW_RASA_TOKEN", ""),
            action_token=reader.text("EASYFLOW_ACTION_TOKEN", ""),
            order_privacy=reader.choice(
                "EASYFLOW_ORDER_PRIVACY", ["none", "phone_last4"], "phone_last4"
            ),
            # The file sender delivers to a file nobody reads in production: the
            # code factor is off there unless a real sender is chosen.
            code_sender=reader.choice(
                "EASYFLOW_CODE_SENDER",
                ["file", "smtp", "none"],
                "none" if environment == Environment.PRODUCTION.value else "file",
            ),
            code_ttl_s=reader.integer("EASYFLOW_CODE_TTL_S", 600, 60, 3600),
            code_sends_per_hour=reader.integer(
                "EASYFLOW_CODE_SENDS_PER_HOUR", 3, 1, 20
            ),
            quiet_hours=reader.text("EASYFLOW_QUIET_HOURS", "22-9"),
            order_poll_s=reader.integer("EASYFLOW_ORDER_POLL_S", 300, 0, 86400),
            attachment_max_bytes=reader.integer(
                "EASYFLOW_ATTACHMENT_MAX_BYTES",
                10 * 1024 * 1024,
                1024,
                50 * 1024 * 1024,
            ),
            attachments_per_day=reader.integer(
                "EASYFLOW_ATTACHMENTS_PER_DAY", 30, 1, 10_000
            ),
            knowledge_refresh_s=reader.integer(
                "EASYFLOW_KNOWLEDGE_REFRESH_S", 10, 0, 86400
            ),
            shop_timezone=reader.text("EASYFLOW_SHOP_TIMEZONE", "Europe/Moscow"),
            integrations_poll_s=reader.integer(
                "EASYFLOW_INTEGRATIONS_POLL_S", 15, 0, 3600
            ),
            secrets_key=reader.text("EASYFLOW_SECRETS_KEY", ""),
            secrets_key_file=reader.text("EASYFLOW_SECRETS_KEY_FILE", ""),
            secrets_old_keys=reader.text("EASYFLOW_SECRETS_OLD_KEYS", ""),
        )
        try:
            QuietHours.parse(settings.quiet_hours, settings.shop_timezone)
        except ValueError as error:
            raise SettingsError(
                f"EASYFLOW_QUIET_HOURS / EASYFLOW_SHOP_TIMEZONE: {error}"
            ) from None
        if settings.llm_backend == "openai":
            for name, value in (
                ("EASYFLOW_LLM_BASE_URL", settings.llm_base_url),
                ("EASYFLOW_LLM_MODEL", settings.llm_model),
                ("EASYFLOW_LLM_API_KEY", settings.llm_api_key),
            ):
                if not value:
                    raise SettingsError(
                        f"{name}: required when EASYFLOW_LLM_BACKEND=openai"
                    )
            if settings.environment is Environment.PRODUCTION and is_placeholder(
                settings.llm_api_key
            ):
                raise SettingsError(
                    "EASYFLOW_LLM_API_KEY: replace the placeholder value"
                )
        if not settings.knowledge_dir.is_dir():
            raise SettingsError(
                f"EASYFLOW_KNOWLEDGE_DIR: {settings.knowledge_dir} is not a directory"
            )
        if settings.environment is Environment.PRODUCTION:
            _check_production(settings, reader)
        return settings

    @property
    def live_integrations(self) -> bool:
        """Whether integrations saved on the dashboard are picked up."""
        return bool(self.api_url) and self.integrations_poll_s > 0

    def keyring(self) -> Keyring:
        """The keys that open integration secrets sealed by the api; in
        development without one, the api's var/secrets_key (same data dir)."""
        variables = {
            "EASYFLOW_SECRETS_KEY": self.secrets_key,
            "EASYFLOW_SECRETS_KEY_FILE": self.secrets_key_file,
            "EASYFLOW_SECRETS_OLD_KEYS": self.secrets_old_keys,
        }
        return keyring_from(
            Reader(variables),
            self.data_dir,
            self.environment is Environment.PRODUCTION,
        )

    def require_action_token(self) -> None:
        """Production serves actions only to callers that send the shared token."""
        if self.environment is Environment.PRODUCTION and (
            not self.action_token or is_placeholder(self.action_token)
        ):
            raise SettingsError(
                "EASYFLOW_ACTION_TOKEN: production needs the shared secret Rasa sends "
                "to the action server (endpoints action_endpoint.token)"
            )


def _check_production(settings: Settings, reader: Reader) -> None:
    """What production refuses to start without (README, Security model)."""
    if "localhost" in settings.public_url or "127.0.0.1" in settings.public_url:
        raise SettingsError(
            "EASYFLOW_PUBLIC_URL: production needs the public address shoppers "
            f"can open, not {settings.public_url}"
        )
    if not settings.database_url or settings.database_url.startswith("sqlite"):
        raise SettingsError(
            "EASYFLOW_ACTIONS_DATABASE_URL (or EASYFLOW_DATABASE_URL): production "
            "keeps the payment ledger and the support log in the database every "
            "action-server replica shares (PostgreSQL), not in a local file"
        )
    if settings.code_sender == "file":
        raise SettingsError(
            "EASYFLOW_CODE_SENDER: the file sender writes codes to a file on the "
            "server that no shopper reads; production needs smtp (or none, which "
            "sends orders without a phone to an operator)"
        )
    if settings.payment_provider == "demo" and not reader.flag(
        "EASYFLOW_DEMO_PAYMENTS_IN_PRODUCTION", False
    ):
        raise SettingsError(
            "EASYFLOW_PAYMENT_PROVIDER: the demo provider takes no money; production "
            "needs yookassa, tbank, sber or stripe (a staging stack may set "
            "EASYFLOW_DEMO_PAYMENTS_IN_PRODUCTION=1)"
        )


@dataclass(frozen=True)
class Providers:
    """Typed settings of each enabled marketplace (by name) and of the chosen
    payment provider (``None`` for the demo one), read once at start beside
    ``Settings`` and passed to the clients' constructors (``actions/services.py``).

    Apart from ``Settings`` so that the core settings can be checked on their own
    (deployment tests check a stack's wiring without its shop credentials).
    """

    marketplaces: Mapping[str, Any] = field(default_factory=dict, repr=False)
    payment: Any | None = field(default=None, repr=False)
    # The SMTP relay of the one-time codes, when EASYFLOW_CODE_SENDER=smtp.
    smtp: SmtpConfig | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls, settings: Settings, env: Mapping[str, str] | None = None
    ) -> Providers:
        reader = Reader(process_environment() if env is None else env)
        return cls(
            marketplaces=read_source_configs(settings.order_sources, reader),
            payment=read_payment_config(
                settings.payment_provider, reader, settings.public_url
            ),
            smtp=SmtpConfig.from_env(
                reader, settings.environment is Environment.PRODUCTION
            )
            if settings.code_sender == "smtp"
            else None,
        )


__all__ = ["Environment", "Providers", "Settings", "SettingsError"]


def _optional_url(reader: Reader, name: str) -> str:
    """A checked URL when the variable is set, else empty (the feature is off)."""
    return reader.url(name, "") if reader.raw(name) else ""
