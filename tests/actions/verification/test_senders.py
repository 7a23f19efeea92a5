"""The file sender of the embedded default: a JSON line per code, nothing in the log."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from actions.verification.senders import CodeMessage, CodeNotSent, FileCodeSender


def message(code: str = "482913") -> CodeMessage:
    return CodeMessage(
        to="tanya@example.ru", code=code, order_id="1001", language="ru", ttl_minutes=10
    )


async def test_each_code_is_a_json_line_only_the_owner_reads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "var" / "codes.log"
    sender = FileCodeSender(path)

    with caplog.at_level(logging.INFO):
        await sender.send(message("482913"))
        await sender.send(message("000417"))

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(x["to"], x["order_id"], x["code"]) for x in lines] == [
        ("tanya@example.ru", "1001", "482913"),
        ("tanya@example.ru", "1001", "000417"),
    ]
    assert lines[0]["language"] == "ru" and lines[0]["ttl_minutes"] == 10
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sent = [r for r in caplog.records if r.getMessage() == "privacy.code_sent"]
    assert len(sent) == 2 and sent[0].to == "t***@e***.ru"  # type: ignore[attr-defined]
    assert "482913" not in caplog.text and "tanya@example.ru" not in caplog.text


async def test_an_unwritable_file_is_not_sent(tmp_path: Path) -> None:
    (tmp_path / "codes.log").mkdir()  # a directory where the file should be

    with pytest.raises(CodeNotSent):
        await FileCodeSender(tmp_path / "codes.log").send(message())


def test_the_message_never_shows_the_code_or_address() -> None:
    assert "482913" not in repr(message()) and "tanya" not in repr(message())
