from pathlib import Path

import pytest

from actions.settings import Environment, Settings, SettingsError


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
        ({"EASYFLOW_ORDER_SOURCE": "amazon"}, "EASYFLOW_ORDER_SOURCE"),
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
        {"EASYFLOW_ENV": "production", "EASYFLOW_PUBLIC_URL": "https://shop.example/"}
    )
    assert settings.public_url == "https://shop.example"
