"""The knowledge base as the dashboard edits it and the action server reads it:
seeded from the files on first use, every role reads, only admins change (each
change audited, from the version the editor started from), uploads limited to
UTF-8 text, history and restore, and the published copy behind the action
token with an ETag. Every refusal changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from easyflow_api.db import Database
from easyflow_api.models import AuditEntry
from tests.conftest import (
    MakeClient,
    add_user,
    database_url_of,
    login_admin,
    make_settings,
)

ACTION_TOKEN = "action-token-for-knowledge-tests"
DELIVERY_RU = "# Доставка\n\n## Сколько стоит доставка?\n\nБесплатно от 3000 ₽.\n"
DELIVERY_EN = "# Delivery\n\n## How much is delivery?\n\nFree from 3000 RUB.\n"


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    (root / "ru").mkdir(parents=True)
    (root / "en").mkdir()
    (root / "ru" / "delivery.md").write_text(DELIVERY_RU, "utf-8")
    (root / "en" / "delivery.md").write_text(DELIVERY_EN, "utf-8")
    # Not a name the editor accepts: left out of the seed.
    (root / "ru" / "Bad Name.md").write_text("# x\n", "utf-8")
    return root


@pytest.fixture
def kb(make_client: MakeClient, knowledge_dir: Path) -> Iterator[TestClient]:
    with make_client(knowledge_dir=knowledge_dir, action_token=ACTION_TOKEN) as c:
        yield c


@pytest.fixture
def admin_h(kb: TestClient) -> dict[str, str]:
    return login_admin(kb)


def _snapshot(kb: TestClient, headers: dict[str, str]) -> Any:
    listing = kb.get("/api/knowledge", headers=headers).json()
    documents = [
        kb.get(f"/api/knowledge/{d['language']}/{d['name']}", headers=headers).json()
        for d in listing
    ]
    return listing, documents


def _audit(db: Database) -> list[tuple[str, str, str | None]]:
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [
            (r.actor, r.action, r.target)
            for r in rows
            if r.action.startswith("knowledge.")
        ]


def test_the_files_are_the_documents_until_the_first_edit(
    kb: TestClient, admin_h: dict[str, str], db: Database
) -> None:
    listing = kb.get("/api/knowledge", headers=admin_h).json()
    assert [(d["language"], d["name"], d["title"], d["version"]) for d in listing] == [
        ("en", "delivery", "Delivery", 1),
        ("ru", "delivery", "Доставка", 1),
    ]
    assert listing[0]["updated_by"] == "seed"
    ru = kb.get("/api/knowledge/ru/delivery", headers=admin_h).json()
    assert ru["content"] == DELIVERY_RU
    only_ru = kb.get("/api/knowledge?language=ru", headers=admin_h).json()
    assert [d["name"] for d in only_ru] == ["delivery"]
    # Seeded once: reading again adds nothing.
    kb.get("/api/knowledge", headers=admin_h)
    assert _audit(db) == [("seed", "knowledge.seed", "knowledge")]


def test_admin_creates_edits_and_deletes_every_change_audited(
    kb: TestClient, admin_h: dict[str, str], db: Database
) -> None:
    created = kb.post(
        "/api/knowledge/ru",
        headers=admin_h,
        json={"name": "gift_wrapping", "content": "# Подарки\n\n## Упакуете?\n\nДа."},
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    assert created.json()["title"] == "Подарки"
    edited = kb.put(
        "/api/knowledge/ru/gift_wrapping",
        headers=admin_h,
        json={"version": 1, "content": "# Подарки\n\n## Упакуете?\n\nДа, 200 ₽."},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    again = kb.post(
        "/api/knowledge/ru",
        headers=admin_h,
        json={"name": "gift_wrapping", "content": "# other"},
    )
    assert again.status_code == 409
    gone = kb.delete("/api/knowledge/ru/gift_wrapping?version=2", headers=admin_h)
    assert gone.status_code == 204
    assert kb.get("/api/knowledge/ru/gift_wrapping", headers=admin_h).status_code == 404
    names = [d["name"] for d in kb.get("/api/knowledge", headers=admin_h).json()]
    assert "gift_wrapping" not in names
    # Created again: the history goes on.
    back = kb.post(
        "/api/knowledge/ru",
        headers=admin_h,
        json={"name": "gift_wrapping", "content": "# Снова\n"},
    )
    assert back.status_code == 201 and back.json()["version"] == 4
    history = kb.get("/api/knowledge/ru/gift_wrapping/history", headers=admin_h)
    assert [(h["version"], h["action"]) for h in history.json()] == [
        (4, "create"),
        (3, "delete"),
        (2, "edit"),
        (1, "create"),
    ]
    assert _audit(db)[1:] == [
        ("admin", "knowledge.create", "ru/gift_wrapping"),
        ("admin", "knowledge.edit", "ru/gift_wrapping"),
        ("admin", "knowledge.delete", "ru/gift_wrapping"),
        ("admin", "knowledge.create", "ru/gift_wrapping"),
    ]


def test_history_and_restore(kb: TestClient, admin_h: dict[str, str]) -> None:
    new = "# Доставка\n\n## Сколько стоит доставка?\n\nВсегда бесплатно.\n"
    kb.put(
        "/api/knowledge/ru/delivery",
        headers=admin_h,
        json={"version": 1, "content": new},
    )
    old = kb.get("/api/knowledge/ru/delivery/versions/1", headers=admin_h).json()
    assert old["content"] == DELIVERY_RU and old["action"] == "seed"
    restored = kb.post(
        "/api/knowledge/ru/delivery/restore",
        headers=admin_h,
        json={"version": 2, "restore": 1},
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 3
    assert restored.json()["content"] == DELIVERY_RU
    stale = kb.post(
        "/api/knowledge/ru/delivery/restore",
        headers=admin_h,
        json={"version": 2, "restore": 2},
    )
    assert stale.status_code == 409
    missing = kb.post(
        "/api/knowledge/ru/delivery/restore",
        headers=admin_h,
        json={"version": 3, "restore": 99},
    )
    assert missing.status_code == 404
    assert kb.get("/api/knowledge/ru/delivery", headers=admin_h).json()["version"] == 3


def test_a_stale_version_is_refused_and_changes_nothing(
    kb: TestClient, admin_h: dict[str, str], db: Database
) -> None:
    second = add_user(kb, admin_h, "second", "admin")
    first_save = kb.put(
        "/api/knowledge/en/delivery",
        headers=admin_h,
        json={"version": 1, "content": "# Delivery\n\nfirst admin"},
    )
    assert first_save.status_code == 200
    before = _snapshot(kb, admin_h)
    audit_before = _audit(db)
    late = kb.put(
        "/api/knowledge/en/delivery",
        headers=second,
        json={"version": 1, "content": "# Delivery\n\nsecond admin"},
    )
    assert late.status_code == 409
    assert "version 2" in late.json()["detail"]
    stale_delete = kb.delete("/api/knowledge/en/delivery?version=1", headers=second)
    assert stale_delete.status_code == 409
    assert _snapshot(kb, admin_h) == before
    assert _audit(db) == audit_before


def test_concurrent_saves_from_one_version_let_exactly_one_through(
    make_client: MakeClient, knowledge_dir: Path
) -> None:
    with make_client(knowledge_dir=knowledge_dir) as c:
        headers = login_admin(c)
        c.get("/api/knowledge", headers=headers)
        statuses: list[int] = []

        def save(text: str) -> None:
            r = c.put(
                "/api/knowledge/ru/delivery",
                headers=headers,
                json={"version": 1, "content": f"# Доставка\n\n{text}"},
            )
            statuses.append(r.status_code)

        threads = [threading.Thread(target=save, args=(f"v{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [200, 409, 409, 409]
        history = c.get("/api/knowledge/ru/delivery/history", headers=headers).json()
        assert [h["version"] for h in history] == [2, 1]


@pytest.mark.parametrize("role", ["analyst", "operator"])
def test_readonly_roles_read_but_change_nothing(
    kb: TestClient, admin_h: dict[str, str], role: str, db: Database
) -> None:
    reader = add_user(kb, admin_h, f"reader_{role}", role)
    before = _snapshot(kb, admin_h)
    audit_before = _audit(db)
    assert kb.get("/api/knowledge", headers=reader).status_code == 200
    assert kb.get("/api/knowledge/ru/delivery", headers=reader).status_code == 200
    assert (
        kb.get("/api/knowledge/ru/delivery/history", headers=reader).status_code == 200
    )
    attempts = [
        kb.post(
            "/api/knowledge/ru", headers=reader, json={"name": "x", "content": "y"}
        ),
        kb.put(
            "/api/knowledge/ru/delivery",
            headers=reader,
            json={"version": 1, "content": "hacked"},
        ),
        kb.delete("/api/knowledge/ru/delivery?version=1", headers=reader),
        kb.post(
            "/api/knowledge/ru/delivery/restore",
            headers=reader,
            json={"version": 1, "restore": 1},
        ),
        kb.post(
            "/api/knowledge/ru/upload?filename=x.md",
            headers=reader,
            content=b"# hacked",
        ),
    ]
    assert [a.status_code for a in attempts] == [403] * 5
    try_status = kb.post(
        "/api/knowledge/try",
        headers=reader,
        json={"question": "сколько стоит доставка", "language": "ru"},
    ).status_code
    # Analysts may try (the action server is down here: 502), operators not.
    assert try_status == (502 if role == "analyst" else 403)
    assert _snapshot(kb, admin_h) == before
    assert _audit(db) == audit_before


def test_unauthenticated_callers_get_401_everywhere(kb: TestClient) -> None:
    calls = [
        kb.get("/api/knowledge"),
        kb.get("/api/knowledge/ru/delivery"),
        kb.get("/api/knowledge/ru/delivery/history"),
        kb.get("/api/knowledge/ru/delivery/versions/1"),
        kb.post("/api/knowledge/ru", json={"name": "x", "content": "y"}),
        kb.put("/api/knowledge/ru/delivery", json={"version": 1, "content": "z"}),
        kb.delete("/api/knowledge/ru/delivery?version=1"),
        kb.post("/api/knowledge/ru/upload?filename=a.md", content=b"# a"),
        kb.post("/api/knowledge/try", json={"question": "q", "language": "ru"}),
        kb.get("/api/internal/knowledge"),
        kb.get(
            "/api/internal/knowledge", headers={"Authorization": "Bearer wrong-token"}
        ),
    ]
    assert [c.status_code for c in calls] == [401] * len(calls)


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..", "a/b", "UPPER", "with space", "-dash", "", "x" * 65],
)
def test_path_like_names_are_refused(
    kb: TestClient, admin_h: dict[str, str], name: str, db: Database
) -> None:
    before = _snapshot(kb, admin_h)
    created = kb.post(
        "/api/knowledge/ru", headers=admin_h, json={"name": name, "content": "# x"}
    )
    assert created.status_code == 422
    # Uploads take the name from the file name, lowercased ("Care.md": care).
    filename = f"{name}.md" if name != "UPPER" else "UP PER.md"
    upload = kb.post(
        "/api/knowledge/ru/upload",
        params={"filename": filename},
        headers=admin_h,
        content=b"# x\n",
    )
    # ".md" alone has no extension: 415.
    assert upload.status_code == (415 if not name else 422), upload.text
    assert _snapshot(kb, admin_h) == before
    assert len(_audit(db)) == 1  # the seed only


def test_path_tricks_in_urls_reach_no_document(
    kb: TestClient, admin_h: dict[str, str]
) -> None:
    for path in (
        "/api/knowledge/ru/..%2F..%2Fetc%2Fpasswd",
        "/api/knowledge/ru/%2E%2E",
        "/api/knowledge/de/delivery",
        "/api/knowledge/ru/delivery/versions/0",
    ):
        assert kb.get(path, headers=admin_h).status_code in (404, 422), path


def test_uploads_create_or_replace_text_documents(
    kb: TestClient, admin_h: dict[str, str]
) -> None:
    body = "\ufeff# Уход\r\n\r\n## Как стирать?\r\n\r\nВручную.\r\n".encode()
    created = kb.post(
        "/api/knowledge/ru/upload?filename=Care.md", headers=admin_h, content=body
    )
    assert created.status_code == 201, created.text
    document = created.json()
    assert (document["name"], document["title"], document["version"]) == (
        "care",
        "Уход",
        1,
    )
    assert document["content"] == "# Уход\n\n## Как стирать?\n\nВручную.\n"
    exists = kb.post(
        "/api/knowledge/ru/upload?filename=care.txt", headers=admin_h, content=body
    )
    assert exists.status_code == 409
    replaced = kb.post(
        "/api/knowledge/ru/upload?filename=whatever.txt&name=care&version=1",
        headers=admin_h,
        content="# Уход\n\nНовый текст".encode(),
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    history = kb.get("/api/knowledge/ru/care/history", headers=admin_h).json()
    assert [h["action"] for h in history] == ["upload", "upload"]


@pytest.mark.parametrize(
    ("filename", "content", "status"),
    [
        ("big.md", b"# big\n" + b"a" * (64 * 1024), 413),
        ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 415),
        ("latin1.md", "# caf\xe9".encode("latin-1"), 415),
        ("nul.md", b"# text\x00with a nul", 415),
        ("picture.png", b"# fine text", 415),
        ("noext", b"# fine text", 415),
        ("empty.md", b"  \n", 422),
        ("../../etc/passwd.md", b"# x", 422),
        ("..\\evil.md", b"# x", 422),
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_change_nothing(
    kb: TestClient,
    admin_h: dict[str, str],
    db: Database,
    filename: str,
    content: bytes,
    status: int,
) -> None:
    before = _snapshot(kb, admin_h)
    answer = kb.post(
        "/api/knowledge/ru/upload",
        params={"filename": filename},
        headers=admin_h,
        content=content,
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]
    assert _snapshot(kb, admin_h) == before
    assert len(_audit(db)) == 1


@pytest.mark.parametrize(
    "content",
    ["", "   ", "x" * (64 * 1024 + 1), "text\x00nul", "bell\x07"],
)
def test_bad_content_is_refused(
    kb: TestClient, admin_h: dict[str, str], content: str
) -> None:
    answer = kb.put(
        "/api/knowledge/ru/delivery",
        headers=admin_h,
        json={"version": 1, "content": content},
    )
    assert answer.status_code == 422
    assert kb.get("/api/knowledge/ru/delivery", headers=admin_h).json()["version"] == 1


def test_script_in_markdown_is_stored_as_text(
    kb: TestClient, admin_h: dict[str, str]
) -> None:
    """The api keeps what the admin wrote; the dashboard renders it as text
    (dashboard/e2e/06-knowledge.spec.ts checks that no script runs)."""
    content = "# XSS\n\n<script>alert(1)</script> <img src=x onerror=alert(2)>\n"
    kb.post(
        "/api/knowledge/en", headers=admin_h, json={"name": "xss", "content": content}
    )
    assert kb.get("/api/knowledge/en/xss", headers=admin_h).json()["content"] == content


def test_published_knowledge_for_the_action_server(
    kb: TestClient, admin_h: dict[str, str]
) -> None:
    token = {"Authorization": f"Bearer {ACTION_TOKEN}"}
    first = kb.get("/api/internal/knowledge", headers=token)
    assert first.status_code == 200
    etag = first.headers["etag"]
    body = first.json()
    assert etag == f'"{body["revision"]}"'
    assert [(d["language"], d["name"]) for d in body["documents"]] == [
        ("en", "delivery"),
        ("ru", "delivery"),
    ]
    unchanged = kb.get(
        "/api/internal/knowledge", headers={**token, "If-None-Match": etag}
    )
    assert unchanged.status_code == 304 and not unchanged.content
    kb.put(
        "/api/knowledge/ru/delivery",
        headers=admin_h,
        json={"version": 1, "content": "# Доставка\n\nНовое."},
    )
    changed = kb.get(
        "/api/internal/knowledge", headers={**token, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    ru = [d for d in changed.json()["documents"] if d["language"] == "ru"]
    assert ru[0]["content"] == "# Доставка\n\nНовое."
    kb.delete("/api/knowledge/ru/delivery?version=2", headers=admin_h)
    after_delete = kb.get("/api/internal/knowledge", headers=token).json()
    assert [d["language"] for d in after_delete["documents"]] == ["en"]
    # A signed-in admin is not the action server.
    assert kb.get("/api/internal/knowledge", headers=admin_h).status_code == 401


def test_without_an_action_token_nothing_is_published(
    make_client: MakeClient, knowledge_dir: Path
) -> None:
    with make_client(knowledge_dir=knowledge_dir, action_token=None) as c:
        for header in ("Bearer ", "Bearer None", "Bearer null"):
            r = c.get("/api/internal/knowledge", headers={"Authorization": header})
            assert r.status_code == 401


def test_the_seed_happens_once_across_app_restarts(
    db: Database, tmp_path: Path, knowledge_dir: Path
) -> None:
    from tests.conftest import app_client

    settings = make_settings(database_url_of(db), tmp_path, knowledge_dir=knowledge_dir)
    with app_client(settings) as c:
        headers = login_admin(c)
        c.delete("/api/knowledge/en/delivery?version=1", headers=headers)
        c.delete("/api/knowledge/ru/delivery?version=1", headers=headers)
        assert c.get("/api/knowledge", headers=headers).json() == []
    with app_client(settings) as c:
        headers = login_admin(c)
        # Everything deleted stays deleted: the files never come back.
        assert c.get("/api/knowledge", headers=headers).json() == []
