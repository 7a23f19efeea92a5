"""The dashboard's knowledge base reaches the fallback without a restart: the
real admin API (its own process) publishes what admins save; the action side
loads it with the action token and an ETag (an unchanged base costs a 304),
rebuilds the index in a worker thread while answers keep coming from the old
one, and keeps its last index when the api cannot answer. "Try a question"
runs through the api and a real action server to the shoppers' fallback."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.knowledge.lexicon import Lexicon
from actions.knowledge.published import PublishedKnowledge
from actions.knowledge.retrieval import KnowledgeIndex
from actions.knowledge.service import FallbackService
from tests.emulators import free_port
from tests.servers import (
    ACTION_TOKEN,
    API_ADMIN_PASSWORD,
    action_server,
    api_server,
)

DELIVERY_RU = (
    "# Доставка\n\n## Сколько стоит доставка?\n\n"
    "Курьером по Москве — 300 ₽, бесплатно от 3000 ₽.\n"
)
DELIVERY_EN = (
    "# Delivery\n\n## How much is delivery?\n\n"
    "Courier in Moscow is 300 RUB, free from 3000 RUB.\n"
)
NEW_RU = (
    "# Доставка\n\n## Сколько стоит доставка?\n\n"
    "Доставка бесплатная: заказы возит курьер на самокате.\n"
)


def _call(
    url: str, method: str = "GET", body: Any = None, token: str = ""
) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _files(root: Path) -> Path:
    (root / "ru").mkdir(parents=True)
    (root / "en").mkdir()
    (root / "ru" / "delivery.md").write_text(DELIVERY_RU, "utf-8")
    (root / "en" / "delivery.md").write_text(DELIVERY_EN, "utf-8")
    return root


@pytest.fixture(scope="module")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _files(tmp_path_factory.mktemp("knowledge"))


@pytest.fixture(scope="module")
def actions_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, knowledge_dir: Path, actions_port: int
) -> Iterator[str]:
    extra = {
        "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
        "EASYFLOW_KNOWLEDGE_DIR": str(knowledge_dir),
        "EASYFLOW_ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}",
    }
    with api_server(tmp_path_factory.mktemp("api"), extra) as url:
        yield url


@pytest.fixture(scope="module")
def admin(api: str) -> str:
    _, login = _call(
        f"{api}/api/auth/login",
        "POST",
        {"username": "admin", "password": API_ADMIN_PASSWORD},
    )
    return login["access_token"]


def _save(api: str, admin: str, language: str, name: str, content: str) -> int:
    _, current = _call(f"{api}/api/knowledge/{language}/{name}", token=admin)
    status, saved = _call(
        f"{api}/api/knowledge/{language}/{name}",
        "PUT",
        {"version": current["version"], "content": content},
        admin,
    )
    assert status == 200, saved
    return saved["version"]


def _service(knowledge_dir: Path) -> FallbackService:
    return FallbackService(KnowledgeIndex.from_dir(knowledge_dir))


async def _answer(service: FallbackService, question: str, language: str) -> str:
    answer = await service.answer(question, language)
    return answer.text or ""


async def test_a_saved_change_is_picked_up_and_an_unchanged_base_costs_a_304(
    api: str, admin: str, knowledge_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = _service(knowledge_dir)
    published = PublishedKnowledge(api, ACTION_TOKEN, service, Lexicon())
    files_index = service.index
    assert "300 ₽" in await _answer(service, "сколько стоит доставка", "ru")
    # The first read loads the seeded base (the same files, a new index).
    assert await published.refresh() is True
    assert service.index is not files_index
    loaded, index, etag = published.loaded, service.index, published.etag
    assert loaded is not None and loaded.documents == 2 and etag
    # Unchanged: a 304, nothing rebuilt, nothing logged as a failure.
    with caplog.at_level(logging.INFO):
        assert await published.refresh() is False
    assert service.index is index and published.loaded is loaded
    assert not [r for r in caplog.records if r.name.startswith("actions.knowledge")]
    _save(api, admin, "ru", "delivery", NEW_RU)
    assert await published.refresh() is True
    assert published.etag != etag
    assert "самокате" in await _answer(service, "сколько стоит доставка", "ru")
    assert "300" in await _answer(service, "how much is delivery", "en")
    _save(api, admin, "ru", "delivery", DELIVERY_RU)


async def test_answers_come_from_the_old_index_while_the_new_one_is_built(
    api: str, admin: str, knowledge_dir: Path
) -> None:
    # A large English document: its passage vectors take a while to compute
    # (no vector cache), which is when the shopper's question arrives.
    sections = "\n".join(
        f"## Question number {n} about topic {n}\n\nAnswer {n}: see the catalogue "
        f"page {n} for the colour, material and size table of item {n}.\n"
        for n in range(300)
    )
    status, _ = _call(
        f"{api}/api/knowledge/en",
        "POST",
        {"name": "big", "content": f"# Big\n\n{sections}"},
        admin,
    )
    assert status == 201
    service = _service(knowledge_dir)
    published = PublishedKnowledge(api, ACTION_TOKEN, service, Lexicon())
    old = service.index
    refresh = asyncio.create_task(published.refresh())
    while not published._lock.locked() or published.etag is not None:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # fetched; building
    during = await _answer(service, "how much is delivery", "en")
    assert not refresh.done(), "the rebuild ended before the question"
    assert service.index is old
    assert "300 RUB" in during
    assert await refresh is True
    assert service.index is not old
    assert any(p.document == "Big" for p in service.index.passages)
    _, current = _call(f"{api}/api/knowledge/en/big", token=admin)
    _call(
        f"{api}/api/knowledge/en/big?version={current['version']}",
        "DELETE",
        token=admin,
    )


async def test_an_unreachable_api_keeps_the_last_index(
    api: str, knowledge_dir: Path
) -> None:
    service = _service(knowledge_dir)
    published = PublishedKnowledge(api, ACTION_TOKEN, service, Lexicon())
    assert await published.refresh() is True
    loaded = service.index
    published.url = f"http://127.0.0.1:{free_port()}/api/internal/knowledge"
    published.etag = None
    assert await published.refresh() is False
    assert service.index is loaded
    assert "300 ₽" in await _answer(service, "сколько стоит доставка", "ru")


async def test_a_refused_token_keeps_the_files(api: str, knowledge_dir: Path) -> None:
    service = _service(knowledge_dir)
    files_index = service.index
    published = PublishedKnowledge(api, "not-the-token", service, Lexicon())
    assert await published.refresh() is False
    assert service.index is files_index and published.loaded is None


def test_no_api_configured_means_the_files_only(knowledge_dir: Path) -> None:
    published = PublishedKnowledge("", ACTION_TOKEN, _service(knowledge_dir), Lexicon())
    assert not published.enabled
    assert asyncio.run(published.refresh()) is False


def test_try_a_question_runs_the_shoppers_fallback_on_the_saved_text(
    api: str,
    admin: str,
    knowledge_dir: Path,
    actions_port: int,
    tmp_path: Path,
) -> None:
    env = {
        "EASYFLOW_ACTIONS_PORT": str(actions_port),
        "EASYFLOW_API_URL": api,
        "EASYFLOW_KNOWLEDGE_DIR": str(knowledge_dir),
        "EASYFLOW_KNOWLEDGE_REFRESH_S": "1",
    }
    with action_server(tmp_path, env):
        base = f"http://127.0.0.1:{actions_port}"
        question = {"question": "сколько стоит доставка", "language": "ru"}
        # The action server's own route needs its token.
        status, _ = _call(f"{base}/knowledge/try", "POST", question)
        assert status == 401
        status, _ = _call(
            f"{base}/knowledge/try",
            "POST",
            {"question": "", "language": "de"},
            ACTION_TOKEN,
        )
        assert status == 400
        _save(api, admin, "ru", "delivery", NEW_RU)
        status, tried = _call(f"{api}/api/knowledge/try", "POST", question, admin)
        assert status == 200, tried
        assert "самокате" in tried["answer"]
        assert tried["answerer"] == "extractive"
        assert tried["sources"] == ["ru/delivery.md#Сколько стоит доставка?"]
        assert tried["passages"][0]["document"] == "Доставка"
        assert "самокате" in tried["passages"][0]["text"]
        off_topic = {"question": "какая завтра погода в Париже", "language": "ru"}
        status, nothing = _call(f"{api}/api/knowledge/try", "POST", off_topic, admin)
        assert status == 200 and nothing["answer"] is None
        assert nothing["passages"] == []
        _save(api, admin, "ru", "delivery", DELIVERY_RU)
