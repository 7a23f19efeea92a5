"""The attachment store on SQLite and on PostgreSQL: kept once, bounded, typed
by content, linked only within its own conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from actions.attachments.store import AttachmentStore, Refused
from tests.databases import fresh_postgres

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 8
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    if request.param == "sqlite":
        yield tmp_path / "attachments.sqlite"
    else:
        with fresh_postgres("attachments") as url:
            yield url


def keep(store: AttachmentStore, key: str = "1", **fields: object):
    row = {
        "source_key": f"telegram:update:{key}:0",
        "sender_id": "telegram:42",
        "channel": "telegram",
        "kind": "photo",
        "mime_type": "image/jpeg",
        "content": JPEG,
        **fields,
    }
    return asyncio.run(store.add(**row))  # type: ignore[arg-type]


def test_a_photo_is_kept_with_its_content_and_digest(target: Path | str) -> None:
    store = AttachmentStore(target)

    kept, fresh = keep(store)

    assert fresh
    assert kept.attachment_id.startswith("F-")
    assert (kept.size, kept.mime_type, kept.order_id) == (len(JPEG), "image/jpeg", None)
    attachment, content = asyncio.run(store.content(kept.attachment_id))  # type: ignore[misc]
    assert content == JPEG
    assert attachment == kept
    assert asyncio.run(store.of("telegram:42")) == [kept]
    assert asyncio.run(store.of("telegram:43")) == []


def test_a_platform_retry_keeps_the_file_once(target: Path | str) -> None:
    store = AttachmentStore(target)

    first, _ = keep(store)
    again, fresh = keep(store)

    assert again == first
    assert not fresh
    assert len(asyncio.run(store.of("telegram:42"))) == 1


@pytest.mark.parametrize(
    ("mime_type", "content", "kind"),
    [
        ("image/png", PNG, "photo"),
        ("image/webp", WEBP, "photo"),
        ("application/pdf", PDF, "document"),
    ],
)
def test_each_kept_type_is_accepted(
    tmp_path: Path, mime_type: str, content: bytes, kind: str
) -> None:
    store = AttachmentStore(tmp_path / "a.sqlite")
    kept, _ = keep(store, mime_type=mime_type, content=content, kind=kind)
    assert kept.mime_type == mime_type


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"mime_type": "text/html", "content": b"<script>alert(1)</script>"}, "type"),
        ({"mime_type": "image/jpeg", "content": b"<html><script>x</script>"}, "not"),
        ({"mime_type": "image/svg+xml", "content": b"<svg onload=alert(1)>"}, "type"),
        ({"mime_type": "image/webp", "content": b"RIFF\x00\x00\x00\x00WAVE"}, "not"),
        ({"mime_type": "application/pdf", "content": JPEG}, "not"),
        ({"content": b""}, "empty"),
        ({"kind": "voice"}, "kind"),
        ({"content": JPEG + b"\x00" * 2048}, "larger"),
    ],
)
def test_what_is_not_a_kept_file_is_refused_and_nothing_is_stored(
    tmp_path: Path, fields: dict[str, object], reason: str
) -> None:
    store = AttachmentStore(tmp_path / "a.sqlite", max_bytes=len(JPEG) + 100)

    with pytest.raises(Refused, match=reason):
        keep(store, **fields)

    assert asyncio.run(store.of("telegram:42")) == []


def test_a_conversation_keeps_at_most_its_daily_allowance(tmp_path: Path) -> None:
    now = datetime(2026, 12, 6, 12, 0)
    store = AttachmentStore(tmp_path / "a.sqlite", per_day=3, clock=lambda: now)
    for key in range(3):
        keep(store, key=str(key))

    with pytest.raises(Refused, match="a day"):
        keep(store, key="3")
    keep(store, key="x", sender_id="telegram:7")  # another shopper is not held back

    store.clock = lambda: now + timedelta(days=1, minutes=1)
    kept, fresh = keep(store, key="4")
    assert fresh and kept.sender_id == "telegram:42"


def test_files_are_linked_only_within_their_own_conversation(
    target: Path | str,
) -> None:
    store = AttachmentStore(target)
    mine, _ = keep(store)
    theirs, _ = keep(store, key="2", sender_id="telegram:99")

    linked = asyncio.run(
        store.link(
            "telegram:42", [mine.attachment_id, theirs.attachment_id], "A-1", "R-1"
        )
    )

    assert [a.attachment_id for a in linked] == [mine.attachment_id]
    assert (linked[0].order_id, linked[0].return_id) == ("A-1", "R-1")
    (other,) = asyncio.run(store.of("telegram:99"))
    assert (other.order_id, other.return_id) == (None, None)
    # Someone else's file linked from another conversation: nothing at all.
    assert asyncio.run(store.link("rest:x", [mine.attachment_id], "A-2", None)) == []
    (still,) = asyncio.run(store.of("telegram:42"))
    assert still.order_id == "A-1"


def test_two_workers_keeping_the_same_delivery_store_it_once(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    first, second = AttachmentStore(path), AttachmentStore(path)

    async def both() -> list[tuple[object, bool]]:
        row = {
            "source_key": "whatsapp:wamid.1:0",
            "sender_id": "whatsapp:79001234567",
            "channel": "whatsapp",
            "kind": "photo",
            "mime_type": "image/jpeg",
            "content": JPEG,
        }
        return list(await asyncio.gather(first.add(**row), second.add(**row)))

    results = asyncio.run(both())

    assert sorted(fresh for _, fresh in results) == [False, True]
    assert results[0][0] == results[1][0]
    assert len(asyncio.run(first.of("whatsapp:79001234567"))) == 1
