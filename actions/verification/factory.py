"""The process's one-time codes, built from the settings (``actions/services.py``)."""

from __future__ import annotations

from actions.settings import Settings
from actions.verification.codes import CodeStore, OneTimeCodes
from actions.verification.senders import CodeSender, FileCodeSender
from actions.verification.smtp import SmtpCodeSender, SmtpConfig
from actions.verification.stores import RedisCodeStore, SqliteCodeStore

CODES_LOG = "codes.log"


def build_code_sender(
    settings: Settings, smtp: SmtpConfig | None = None
) -> CodeSender | None:
    """The sender ``EASYFLOW_CODE_SENDER`` names; ``None`` turns the factor off."""
    if settings.code_sender == "file":
        return FileCodeSender(settings.data_dir / CODES_LOG)
    if settings.code_sender == "smtp" and smtp is not None:
        return SmtpCodeSender(smtp)
    return None


def build_codes(settings: Settings, sender: CodeSender | None) -> OneTimeCodes | None:
    if sender is None:
        return None
    store: CodeStore = (
        RedisCodeStore(settings.redis_url)
        if settings.redis_url
        else SqliteCodeStore(settings.data_dir / "verification.sqlite")
    )
    return OneTimeCodes(
        store,
        sender,
        ttl_s=settings.code_ttl_s,
        sends_per_hour=settings.code_sends_per_hour,
    )
