from pathlib import Path

import pytest

from actions.integrations.ozon import OzonConfig
from actions.integrations.router import RoutingOrderSource
from actions.payments.tbank import TBankConfig, TBankProvider
from actions.services import Services
from actions.settings import Environment, Providers, Settings, SettingsError
from actions.verification.senders import FileCodeSender
from actions.verification.smtp import SmtpCodeSender, SmtpConfig
from actions.verification.stores import RedisCodeStore, SqliteCodeStore

# What production needs beside the variable a test is about.
PRODUCTION = {
    "EASYFLOW_ENV": "production",
    "EASYFLOW_PUBLIC_URL": "https://shop.example",
    "EASYFLOW_ACTIONS_DATABASE_URL": "postgresql://easyflow@db:5432/easyflow",
    "EASYFLOW_PAYMENT_PROVIDER": "yookassa",
}


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.demo_store_path.name == "demo_store.sqlite"
    assert settings.return_window_days == 14
    assert settings.public_url == "http://localhost:5055"


def test_data_dir_moves_every_file(tmp_path: Path) -> None:
    settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    assert settings.demo_store_path.parent == tmp_path
    assert settings.support_log_path.parent == tmp_path


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EASYFLOW_RETURN_WINDOW_DAYS": "two weeks"}, "EASYFLOW_RETURN_WINDOW_DAYS"),
        ({"EASYFLOW_RETURN_WINDOW_DAYS": "0"}, "EASYFLOW_RETURN_WINDOW_DAYS"),
        ({"EASYFLOW_ENV": "staging"}, "EASYFLOW_ENV"),
        ({"EASYFLOW_ORDER_SOURCES": "demo,amazon"}, "EASYFLOW_ORDER_SOURCES"),
        ({"EASYFLOW_PUBLIC_URL": "localhost:5055"}, "EASYFLOW_PUBLIC_URL"),
        ({"EASYFLOW_KNOWLEDGE_DIR": "/nonexistent"}, "EASYFLOW_KNOWLEDGE_DIR"),
        ({"EASYFLOW_ACTIONS_PORT": "70000"}, "EASYFLOW_ACTIONS_PORT"),
    ],
)
def test_invalid_value_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_production_refuses_a_local_public_url() -> None:
    with pytest.raises(SettingsError, match="EASYFLOW_PUBLIC_URL"):
        Settings.from_env({"EASYFLOW_ENV": "production"})
    settings = Settings.from_env(
        {**PRODUCTION, "EASYFLOW_PUBLIC_URL": "https://shop.example/"}
    )
    assert settings.public_url == "https://shop.example"


def test_production_keeps_the_ledger_in_the_shared_database() -> None:
    """Two action-server replicas must settle a payment once between them: a
    local SQLite file each would let both tell the shopper."""
    for database in ({}, {"EASYFLOW_DATABASE_URL": "sqlite:////tmp/ledger.db"}):
        env = {**PRODUCTION, **database}
        env.pop("EASYFLOW_ACTIONS_DATABASE_URL", None)
        with pytest.raises(SettingsError, match="EASYFLOW_ACTIONS_DATABASE_URL"):
            Settings.from_env(env)
    shared = {**PRODUCTION, "EASYFLOW_ACTIONS_DATABASE_URL": ""}
    shared["EASYFLOW_DATABASE_URL"] = "postgresql://easyflow@db/easyflow"
    assert Settings.from_env(shared).database_url == shared["EASYFLOW_DATABASE_URL"]
    assert Settings.from_env({}).database_url == ""  # SQLite files in var/


def test_production_refuses_the_demo_payment_provider() -> None:
    demo = {**PRODUCTION, "EASYFLOW_PAYMENT_PROVIDER": "demo"}
    with pytest.raises(SettingsError, match="EASYFLOW_PAYMENT_PROVIDER"):
        Settings.from_env(demo)
    staging = {**demo, "EASYFLOW_DEMO_PAYMENTS_IN_PRODUCTION": "1"}
    assert Settings.from_env(staging).payment_provider == "demo"
    assert Settings.from_env({}).payment_provider == "demo"  # embedded default


def test_llm_backend_needs_its_endpoint_model_and_key() -> None:
    with pytest.raises(SettingsError, match="EASYFLOW_LLM_BASE_URL"):
        Settings.from_env({"EASYFLOW_LLM_BACKEND": "openai"})
    settings = Settings.from_env(
        {
            "EASYFLOW_LLM_BACKEND": "openai",
            "EASYFLOW_LLM_BASE_URL": "http://127.0.0.1:11434/v1",
            "EASYFLOW_LLM_MODEL": "qwen2.5:7b",
            "EASYFLOW_LLM_API_KEY": "ollama",
            "EASYFLOW_LLM_TIMEOUT_S": "2.5",
        }
    )
    assert settings.llm_timeout_s == 2.5


def test_production_refuses_a_placeholder_llm_key() -> None:
    with pytest.raises(SettingsError, match="EASYFLOW_LLM_API_KEY"):
        Settings.from_env(
            {
                "EASYFLOW_ENV": "production",
                "EASYFLOW_PUBLIC_URL": "https://shop.example",
                "EASYFLOW_LLM_BACKEND": "openai",
                "EASYFLOW_LLM_BASE_URL": "https://llm.api.cloud.yandex.net/v1",
                "EASYFLOW_LLM_MODEL": "yandexgpt-lite",
                "EASYFLOW_LLM_API_KEY": "changeme",
            }
        )


def test_local_backend_is_the_openai_protocol_at_the_llm_server() -> None:
    settings = Settings.from_env({"EASYFLOW_LLM_BACKEND": "local"})
    assert settings.llm_backend == "local"
    assert settings.llm_base_url == "http://127.0.0.1:8088/v1"
    assert settings.llm_model == "local"
    assert settings.llm_api_key  # none needed; the client still sends a value
    assert Settings.from_env({}).llm_backend == "extractive"


def test_local_backend_takes_another_address_model_and_key() -> None:
    settings = Settings.from_env(
        {
            **PRODUCTION,
            "EASYFLOW_LLM_BACKEND": "LOCAL",
            "EASYFLOW_LLM_BASE_URL": "http://easyflow-llm:8088/v1",
            "EASYFLOW_LLM_MODEL": "qwen-0.5b",
            "EASYFLOW_LLM_API_KEY": "s3cret-shared-key",
        }
    )
    assert settings.llm_backend == "local"
    assert settings.llm_base_url == "http://easyflow-llm:8088/v1"
    assert (settings.llm_model, settings.llm_api_key) == (
        "qwen-0.5b",
        "s3cret-shared-key",
    )
    with pytest.raises(SettingsError, match="EASYFLOW_LLM_BACKEND"):
        Settings.from_env({"EASYFLOW_LLM_BACKEND": "transformers"})


def test_action_server_listens_on_loopback_unless_production() -> None:
    """The embedded default's pay page is on localhost: nothing else needs to
    reach the action server; production serves pay pages and provider webhooks."""
    assert Settings.from_env({}).actions_host == "127.0.0.1"
    production = {**PRODUCTION, "EASYFLOW_PUBLIC_URL": "https://s.ex"}
    assert Settings.from_env(production).actions_host == "0.0.0.0"
    chosen = {**production, "EASYFLOW_ACTIONS_HOST": "10.0.0.5"}
    assert Settings.from_env(chosen).actions_host == "10.0.0.5"


def test_providers_read_only_what_is_enabled(tmp_path: Path) -> None:
    """The demo defaults need no provider settings; an enabled marketplace and the
    chosen payment provider get typed configs, read once, that build the clients."""
    assert Providers.from_env(Settings.from_env({}), {}) == Providers({}, None)
    env = {
        "EASYFLOW_DATA_DIR": str(tmp_path),
        "EASYFLOW_ORDER_SOURCES": "demo,ozon",
        "EASYFLOW_PAYMENT_PROVIDER": "tbank",
        "EASYFLOW_PUBLIC_URL": "https://bot.example.com/",
        "OZON_CLIENT_ID": "123",
        "OZON_API_KEY": "ozon-key",
        "OZON_TIMEOUT_S": "4",
        "TBANK_TERMINAL_KEY": "terminal",
        "TBANK_PASSWORD": "tbank-password",
    }
    settings = Settings.from_env(env)
    providers = Providers.from_env(settings, env)
    ozon = providers.marketplaces["ozon"]
    assert isinstance(ozon, OzonConfig) and list(providers.marketplaces) == ["ozon"]
    assert (ozon.client_id, ozon.timeout_s) == ("123", 4.0)
    assert isinstance(providers.payment, TBankConfig)
    assert providers.payment.notification_url == (
        "https://bot.example.com/payments/tbank/webhook"
    )
    # Secrets never reach a log line through repr.
    assert "ozon-key" not in repr(ozon)
    assert "tbank-password" not in repr(providers.payment)
    services = Services.from_settings(settings, providers)
    assert isinstance(services.orders, RoutingOrderSource)
    assert isinstance(services.payments, TBankProvider)
    assert services.payments.terminal_key == "terminal"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"EASYFLOW_ORDER_SOURCES": "wildberries"},
            "WB_API_TOKEN: required when EASYFLOW_ORDER_SOURCES includes wildberries",
        ),
        (
            {"EASYFLOW_PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk"},
            "STRIPE_WEBHOOK_SECRET: required when EASYFLOW_PAYMENT_PROVIDER is "
            "stripe",
        ),
    ],
)
def test_providers_name_the_missing_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        Providers.from_env(Settings.from_env(env), env)
    assert str(error.value) == message


def test_one_time_codes_go_to_a_file_in_development(tmp_path: Path) -> None:
    settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    assert (settings.code_sender, settings.code_ttl_s) == ("file", 600)
    assert settings.code_sends_per_hour == 3
    codes = Services.from_settings(settings, Providers()).codes
    assert codes is not None and isinstance(codes.sender, FileCodeSender)
    assert codes.sender.path == tmp_path / "codes.log"
    assert isinstance(codes.store, SqliteCodeStore)
    assert codes.store.path == tmp_path / "verification.sqlite"


def test_production_sends_codes_by_smtp_or_not_at_all(tmp_path: Path) -> None:
    production = {
        **PRODUCTION,
        "EASYFLOW_DATA_DIR": str(tmp_path),
        "EASYFLOW_PAYMENT_PROVIDER": "demo",  # no payment credentials needed here
        "EASYFLOW_DEMO_PAYMENTS_IN_PRODUCTION": "1",
    }
    settings = Settings.from_env(production)
    assert settings.code_sender == "none"
    assert Services.from_settings(settings, Providers()).codes is None
    with pytest.raises(SettingsError, match="EASYFLOW_CODE_SENDER"):
        Settings.from_env({**production, "EASYFLOW_CODE_SENDER": "file"})
    env = {
        **production,
        "EASYFLOW_CODE_SENDER": "smtp",
        "EASYFLOW_SMTP_HOST": "smtp.example.ru",
        "EASYFLOW_SMTP_FROM": "noreply@shop.example",
        "EASYFLOW_SMTP_USER": "bot",
        "EASYFLOW_SMTP_PASSWORD": "mail-password",
        "EASYFLOW_REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    settings = Settings.from_env(env)
    providers = Providers.from_env(settings, env)
    assert isinstance(providers.smtp, SmtpConfig)
    assert "mail-password" not in repr(providers)
    codes = Services.from_settings(settings, providers).codes
    assert codes is not None and isinstance(codes.sender, SmtpCodeSender)
    assert isinstance(codes.store, RedisCodeStore)  # shared by replicas
    with pytest.raises(SettingsError, match="EASYFLOW_SMTP_HOST"):
        Providers.from_env(settings, {"EASYFLOW_SMTP_FROM": "noreply@shop.example"})


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EASYFLOW_CODE_SENDER": "sms"}, "EASYFLOW_CODE_SENDER"),
        ({"EASYFLOW_CODE_TTL_S": "10"}, "EASYFLOW_CODE_TTL_S"),
        ({"EASYFLOW_CODE_SENDS_PER_HOUR": "0"}, "EASYFLOW_CODE_SENDS_PER_HOUR"),
    ],
)
def test_code_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_dashboard_integrations_need_the_api_and_the_secrets_key(
    tmp_path: Path,
) -> None:
    from common.secretbox import new_key_text, parse_key

    assert not Settings.from_env(PRODUCTION).live_integrations
    with_api = {**PRODUCTION, "EASYFLOW_API_URL": "http://api:8000"}
    settings = Settings.from_env(with_api)
    assert settings.live_integrations
    with pytest.raises(SettingsError, match="EASYFLOW_SECRETS_KEY"):
        settings.keyring()
    key = new_key_text()
    keyed = Settings.from_env({**with_api, "EASYFLOW_SECRETS_KEY": key})
    assert keyed.keyring().current == parse_key(key, "k")
    assert key not in repr(keyed)
    with pytest.raises(SettingsError, match="EASYFLOW_SECRETS_OLD_KEYS"):
        Settings.from_env(
            {**with_api, "EASYFLOW_SECRETS_KEY": key, "EASYFLOW_SECRETS_OLD_KEYS": "x"}
        ).keyring()
    off = Settings.from_env({**with_api, "EASYFLOW_INTEGRATIONS_POLL_S": "0"})
    assert not off.live_integrations
    # Development: the api's var/secrets_key, made once and shared.
    dev = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    assert (
        dev.keyring()
        == Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)}).keyring()
    )
    assert (tmp_path / "secrets_key").stat().st_mode & 0o777 == 0o600
