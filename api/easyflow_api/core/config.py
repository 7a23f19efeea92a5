"""One typed settings object for the api process, read once from the environment.

This module is the only place in the api that reads the process environment:
the typed settings, and `environment()` for the settings report that names
which of the other processes' variables are set.

Relative paths are resolved against the repository root, so the service finds
`var/` and `dashboard/dist` whether it is started from the root or from `api/`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from easyflow_api.core.hours import check_timezone
from easyflow_api.core.net import IPNetwork, parse_networks
from easyflow_api.core.passwords import password_problems
from easyflow_api.core.secretbox import (
    Keyring,
    SecretKeyError,
    local_key_file,
    parse_key,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message names the variable."""


def _resolve(path: Path) -> Path:
    return path if path.is_absolute() else REPO_ROOT / path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EASYFLOW_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    api_database_url: str | None = None
    events_database_url: str | None = None
    api_secret: str | None = None
    api_token_ttl_minutes: int = Field(default=720, ge=1)
    admin_user: str = "admin"
    admin_password: str | None = None
    api_metrics_token: str | None = None
    api_ingest: Literal["sql", "rabbitmq", "none"] = "sql"
    api_ingest_background: bool = True
    api_ingest_interval_s: float = Field(default=2.0, gt=0)
    api_ingest_batch: int = Field(default=500, ge=1)
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    rabbitmq_queue: str = "rasa_events"
    rasa_url: str = "http://localhost:5005"
    rasa_token: str | None = None
    action_server_url: str = "http://localhost:5055"
    # The action server's token (its failed notices, "try again"): the one Rasa
    # sends it; make run and the deploy profiles pass it to the api too.
    action_token: str | None = None
    api_http_timeout_s: float = Field(default=10.0, gt=0)
    api_low_confidence: float = Field(default=0.6, ge=0, le=1)
    api_login_max_failures: int = Field(default=5, ge=1)
    api_login_window_s: float = Field(default=60.0, gt=0)
    api_trusted_proxies: str = ""
    redis_url: str | None = None
    api_widget_rasa_url: str | None = None
    api_dashboard_dir: Path = Path("dashboard/dist")
    api_widget_dir: Path | None = None
    api_demo_page: Path | None = None
    api_domain_path: Path = Path("domain.yml")
    api_cors_origins: str = ""
    new_user_password: str | None = None  # create-user's password, else a prompt
    # Defaults of the shop settings until an admin first saves them
    # (services/shop_settings.py); the same variables the mobile app and the
    # action server read.
    shop_name: str | None = Field(default=None, max_length=80)
    shop_timezone: str = "Europe/Moscow"
    return_window_days: int = Field(default=14, ge=1, le=365)
    # The markdown the knowledge base is seeded from on first use
    # (services/knowledge.py); the variable the action server reads too.
    knowledge_dir: Path = Path("data/knowledge")
    # Integrations' secrets at rest (core/secretbox.py): the current key, or a
    # file holding it; older keys still open rows until rotate-secrets ran.
    # Development without either: var/secrets_key, made on first use.
    secrets_key: str | None = Field(default=None, repr=False)
    secrets_key_file: Path | None = None
    secrets_old_keys: str = Field(default="", repr=False)

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.env != "production":
            return self
        secret = self.api_secret or ""
        if secret.strip().lower() in PLACEHOLDER_SECRETS:
            raise ConfigError(
                "EASYFLOW_API_SECRET is missing or a placeholder; production needs "
                f"a random secret of at least {MIN_SECRET_LENGTH} characters"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"EASYFLOW_API_SECRET is shorter than {MIN_SECRET_LENGTH} characters"
            )
        if self.admin_password is not None:
            problems = password_problems(self.admin_password, self.admin_user)
            if problems:
                raise ConfigError(
                    f"EASYFLOW_ADMIN_PASSWORD is too weak ({'; '.join(problems)}); "
                    "set a strong one or unset it and use "
                    "`python -m easyflow_api create-user`"
                )
        return self

    @model_validator(mode="after")
    def _check_proxies(self) -> Settings:
        try:
            parse_networks(self.api_trusted_proxies)
        except ValueError as exc:
            raise ConfigError(f"EASYFLOW_API_TRUSTED_PROXIES: {exc}") from None
        return self

    @model_validator(mode="after")
    def _check_timezone(self) -> Settings:
        try:
            check_timezone(self.shop_timezone)
        except ValueError as exc:
            raise ConfigError(f"EASYFLOW_SHOP_TIMEZONE: {exc}") from None
        return self

    @model_validator(mode="after")
    def _check_secrets_key(self) -> Settings:
        try:
            if self.secrets_key:
                parse_key(self.secrets_key, "EASYFLOW_SECRETS_KEY")
            for old in self.secrets_old_keys.split(","):
                if old.strip():
                    parse_key(old, "EASYFLOW_SECRETS_OLD_KEYS")
        except SecretKeyError as exc:
            raise ConfigError(str(exc)) from None
        return self

    def keyring(self) -> Keyring:
        """The key that seals integration secrets and the older ones that still
        open them; in development without a key, var/secrets_key. The api
        builds it at start (main.build_state), so production without a key
        does not start; migrate and create-user need none."""
        if self.secrets_key:
            text, variable = self.secrets_key, "EASYFLOW_SECRETS_KEY"
        elif self.secrets_key_file is not None:
            path = _resolve(self.secrets_key_file)
            try:
                text = path.read_text()
            except OSError as exc:
                raise ConfigError(
                    f"EASYFLOW_SECRETS_KEY_FILE: cannot read {path}: {exc.strerror}"
                ) from None
            variable = "EASYFLOW_SECRETS_KEY_FILE"
        elif self.env == "production":
            raise ConfigError(
                "EASYFLOW_SECRETS_KEY (or EASYFLOW_SECRETS_KEY_FILE) is missing; "
                "production encrypts integration secrets with a key kept outside "
                "the database (32 random bytes, base64url)"
            )
        else:
            text, variable = local_key_file(self.data_path / "secrets_key"), "var"
        try:
            current = parse_key(text, variable)
            older = tuple(
                parse_key(old, "EASYFLOW_SECRETS_OLD_KEYS")
                for old in self.secrets_old_keys.split(",")
                if old.strip()
            )
        except SecretKeyError as exc:
            raise ConfigError(str(exc)) from None
        return Keyring(current, older)

    @property
    def trusted_proxies(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.api_trusted_proxies)

    @property
    def cors_origins(self) -> list[str]:
        """Browser origins allowed to call the api, from a comma-separated list."""
        return [o.strip() for o in self.api_cors_origins.split(",") if o.strip()]

    @property
    def widget_rasa_url(self) -> str:
        """Rasa as shoppers' browsers reach it (the api itself may use an
        internal name such as http://rasa:5005)."""
        return (self.api_widget_rasa_url or self.rasa_url).rstrip("/")

    @property
    def knowledge_path(self) -> Path:
        return _resolve(self.knowledge_dir)

    @property
    def data_path(self) -> Path:
        return _resolve(self.data_dir)

    @property
    def database_url(self) -> str:
        if self.api_database_url:
            return self.api_database_url
        return f"sqlite:///{self.data_path / 'api.db'}"

    @property
    def events_url(self) -> str:
        if self.events_database_url:
            return self.events_database_url
        return f"sqlite:///{self.data_path / 'events.db'}"

    @property
    def dashboard_path(self) -> Path:
        return _resolve(self.api_dashboard_dir)

    @property
    def widget_path(self) -> Path:
        if self.api_widget_dir is not None:
            return _resolve(self.api_widget_dir)
        return self.dashboard_path / "widget"

    @property
    def demo_page_path(self) -> Path:
        if self.api_demo_page is not None:
            return _resolve(self.api_demo_page)
        return self.dashboard_path / "demo" / "index.html"

    @property
    def domain_path(self) -> Path:
        return _resolve(self.api_domain_path)

    @property
    def bootstrap_admin_password(self) -> str | None:
        """Password of the first admin: the variable, or admin in development."""
        if self.admin_password:
            return self.admin_password
        return "admin" if self.env == "development" else None

    def signing_secret(self) -> str:
        """The JWT secret; in development a random one persisted under var/."""
        if self.api_secret:
            return self.api_secret
        path = self.data_path / "api_secret"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


def load_settings() -> Settings:
    """Settings from the environment; any invalid value is a ConfigError that
    names its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"EASYFLOW_{str(error['loc'][0]).upper()}: {error['msg']}"
            if error["loc"]
            else error["msg"]
            for error in exc.errors()
        )
        raise ConfigError(problems) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()


def environment() -> Mapping[str, str]:
    """The process environment as it is now, for reports that name which
    variables of the other processes are set (never their values)."""
    return os.environ
