"""How a one-time code reaches the shopper: the ``CodeSender`` interface and the
file sender of the embedded default.

``FileCodeSender`` delivers to a file instead of a mailbox: one JSON line per code
in ``<EASYFLOW_DATA_DIR>/codes.log`` (mode 600), where a developer or a test reads
it. It stands in for the mailbox, so it holds the code and the address; the log
only says that a code went out (``privacy.code_sent``), with the address masked.
Production sends e-mail (``actions/verification/smtp.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from actions.verification.mask import mask_email

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CodeMessage:
    to: str = field(repr=False)
    code: str = field(repr=False)
    order_id: str
    language: str  # ru | en: the conversation's
    ttl_minutes: int


class CodeNotSent(RuntimeError):
    """The code could not be handed to the mailbox (or file): nothing was sent."""


class CodeSender(Protocol):
    name: str

    async def send(self, message: CodeMessage) -> None:
        """Delivers the code or raises ``CodeNotSent``."""


class FileCodeSender:
    """Appends each code as a JSON line to ``path`` (development and tests)."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    async def send(self, message: CodeMessage) -> None:
        line = json.dumps(
            {
                "at": datetime.now(timezone.utc).isoformat(),
                "to": message.to,
                "order_id": message.order_id,
                "code": message.code,
                "language": message.language,
                "ttl_minutes": message.ttl_minutes,
            },
            ensure_ascii=False,
        )
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as error:
            raise CodeNotSent(f"cannot write {self.path}: {error}") from error
        logger.info(
            "privacy.code_sent",
            extra={
                "sender": self.name,
                "order_id": message.order_id,
                "to": mask_email(message.to),
            },
        )

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as file:
            file.write(line + "\n")
