"""The Telegram stack fixture for the e2e modules that use it (one per module)."""

from tests.e2e.telegram_stack import stack  # noqa: F401
