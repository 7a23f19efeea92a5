"""The knowledge base the merchant edits on the dashboard, picked up without a
restart.

At start the fallback answers from the files (``EASYFLOW_KNOWLEDGE_DIR``). Every
``EASYFLOW_KNOWLEDGE_REFRESH_S`` seconds (and before each "try a question") this
asks the admin API's ``GET /api/internal/knowledge`` (``EASYFLOW_API_URL``, the
action token as a bearer header) with the ETag of the last copy it loaded, so an
unchanged base costs a 304 and nothing else. A changed one is parsed and
indexed, passage vectors included, in a worker thread; the finished index then
replaces the old one in one assignment (``FallbackService.answer`` takes the
index once per question), so shoppers keep getting answers from the old index
while the new one is built. When the api cannot answer, or answers something
unusable, the last index stays: a shop never stops answering because the
dashboard is down.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from actions.knowledge.lexicon import Lexicon
from actions.knowledge.retrieval import KnowledgeIndex
from actions.knowledge.service import FallbackService

logger = logging.getLogger(__name__)

PATH = "/api/internal/knowledge"
LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class Loaded:
    revision: str
    documents: int
    passages: int


class PublishedKnowledge:
    def __init__(
        self,
        api_url: str,
        token: str,
        fallback: FallbackService,
        lexicon: Lexicon,
        cache_dir: Path | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = f"{api_url.rstrip('/')}{PATH}" if api_url else ""
        self.token = token
        self.fallback = fallback
        self.lexicon = lexicon
        self.cache_dir = cache_dir
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.etag: str | None = None
        self.loaded: Loaded | None = None  # None: still the files of the start
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token)

    async def refresh(self) -> bool:
        """Loads the published base when it changed; ``True`` when swapped in.
        One refresh at a time: a second caller waits and then sees its result."""
        if not self.enabled:
            return False
        async with self._lock:
            try:
                fetched = await self._fetch()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                logger.warning(
                    "knowledge.published.unavailable", extra={"error": repr(error)}
                )
                return False
            if fetched is None:
                return False
            etag, body = fetched
            try:
                revision, documents = _documents(body)
            except (ValueError, TypeError, KeyError) as error:
                logger.warning(
                    "knowledge.published.invalid", extra={"error": repr(error)}
                )
                return False
            index = await asyncio.to_thread(self._build, documents)
            self.fallback.index = index  # the swap: one reference assignment
            self.etag = etag
            self.loaded = Loaded(revision, len(documents), len(index.passages))
            logger.info(
                "knowledge.published.loaded",
                extra={
                    "revision": revision,
                    "documents": len(documents),
                    "passages": len(index.passages),
                },
            )
            return True

    async def _fetch(self) -> tuple[str | None, Any] | None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        async with (
            aiohttp.ClientSession(timeout=self.timeout) as session,
            session.get(self.url, headers=headers) as response,
        ):
            if response.status == 304:
                return None
            if response.status != 200:
                logger.warning(
                    "knowledge.published.refused", extra={"status": response.status}
                )
                return None
            return response.headers.get("ETag"), await response.json()

    def _build(self, documents: list[tuple[str, str, str]]) -> KnowledgeIndex:
        index = KnowledgeIndex.from_documents(documents, self.lexicon, self.cache_dir)
        index.warm_up()  # vectors now, in this thread, not on a shopper's turn
        return index


def _documents(body: Any) -> tuple[str, list[tuple[str, str, str]]]:
    """(language, file name, markdown) of each published document."""
    if not isinstance(body, dict) or not isinstance(body.get("documents"), list):
        raise ValueError("not a knowledge listing")
    documents = []
    for item in body["documents"]:
        language, name, content = item["language"], item["name"], item["content"]
        if language not in LANGUAGES:
            continue
        if not isinstance(name, str) or not isinstance(content, str):
            raise TypeError("document name and content are text")
        documents.append((language, f"{name}.md", content))
    return str(body.get("revision") or ""), documents
