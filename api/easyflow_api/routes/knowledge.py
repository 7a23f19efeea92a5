"""The knowledge base the fallback answers from: read by every signed-in
role, changed by admins (each change from the version the editor started from,
audited), tried by admins and analysts, and published to the action server
(its token; an ETag so an unchanged base costs a 304)."""

from __future__ import annotations

import hmac
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from easyflow_api.deps import AdminDep, AnalystDep, ReaderDep, SessionDep, StateDep
from easyflow_api.schemas import (
    KNOWLEDGE_MAX_BYTES,
    KnowledgeCreate,
    KnowledgeDocumentPublic,
    KnowledgeHistoryEntry,
    KnowledgeRestore,
    KnowledgeSummary,
    KnowledgeTry,
    KnowledgeTryResult,
    KnowledgeUpdate,
    KnowledgeVersionPublic,
    Language,
)
from easyflow_api.services import knowledge, knowledge_try
from easyflow_api.services.knowledge import Key
from easyflow_api.services.notices import ActionServerError

router = APIRouter(tags=["knowledge"])
Name = Annotated[str, Path(pattern=knowledge.NAME_PATTERN)]
# A version in the query string (strings there: not the strict body field).
QueryVersion = Annotated[int, Query(ge=0, le=2**31 - 1)]
UPLOAD_SUFFIXES = (".md", ".txt")
STALE = {409: {"description": "saved from a stale version; nothing changed"}}


def _seeded(state: StateDep, session: SessionDep) -> None:
    knowledge.ensure_seeded(session, state.settings.knowledge_path)


def _fail(exc: knowledge.KnowledgeError) -> HTTPException:
    if isinstance(exc, knowledge.NotFound | knowledge.VersionNotFound):
        return HTTPException(404, detail=str(exc))
    return HTTPException(409, detail=str(exc))  # stale version, already exists


@router.get("/api/knowledge", response_model=list[KnowledgeSummary])
def list_documents(
    _: ReaderDep,
    state: StateDep,
    session: SessionDep,
    language: Language | None = None,
) -> list[dict[str, object]]:
    _seeded(state, session)
    return knowledge.listing(session, language)


@router.post(
    "/api/knowledge/try",
    response_model=KnowledgeTryResult,
    responses={502: {"description": "the action server failed"}},
)
async def try_question(
    _: AnalystDep, state: StateDep, body: KnowledgeTry
) -> dict[str, object]:
    """What a shopper asking this would read, from the action server's
    current knowledge base (exactly the shoppers' fallback path)."""
    settings = state.settings
    try:
        return await knowledge_try.ask(
            settings.action_server_url,
            settings.action_token,
            settings.api_http_timeout_s,
            body.question,
            body.language,
        )
    except ActionServerError as exc:
        raise HTTPException(502, detail=str(exc)) from exc


@router.post(
    "/api/knowledge/{language}",
    response_model=KnowledgeDocumentPublic,
    status_code=201,
    responses={409: {"description": "a document with that name exists"}},
)
def create_document(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    language: Language,
    body: KnowledgeCreate,
) -> dict[str, object]:
    _seeded(state, session)
    try:
        return knowledge.create(
            session, Key(language, body.name), body.content, principal.username
        )
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


def _upload_name(filename: str, name: str | None) -> str:
    if not filename or "/" in filename or "\\" in filename or "\0" in filename:
        raise HTTPException(422, detail="filename: a plain file name, no path")
    path = PurePosixPath(filename)
    if path.suffix.lower() not in UPLOAD_SUFFIXES:
        raise HTTPException(415, detail="only .md and .txt files")
    return name if name is not None else path.stem.lower()


async def _upload_text(request: Request) -> str:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > KNOWLEDGE_MAX_BYTES:
        raise HTTPException(413, detail=f"at most {KNOWLEDGE_MAX_BYTES} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > KNOWLEDGE_MAX_BYTES:
            raise HTTPException(413, detail=f"at most {KNOWLEDGE_MAX_BYTES} bytes")
    try:
        text = bytes(data).decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise HTTPException(415, detail="not UTF-8 text") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(ch < " " and ch not in "\n\t" for ch in text):
        raise HTTPException(415, detail="binary content: text files only")
    if not text.strip():
        raise HTTPException(422, detail="the file is empty")
    return text


@router.post(
    "/api/knowledge/{language}/upload",
    response_model=KnowledgeDocumentPublic,
    status_code=201,
    responses={
        409: {"description": "exists (no version given) or stale version"},
        413: {"description": "larger than the limit"},
        415: {"description": "not a .md/.txt file of UTF-8 text"},
    },
)
async def upload_document(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    request: Request,
    response: Response,
    language: Language,
    filename: Annotated[str, Query(max_length=255)],
    name: Annotated[str | None, Query(pattern=knowledge.NAME_PATTERN)] = None,
    version: QueryVersion | None = None,
) -> dict[str, object]:
    """The request body is the file's bytes. Without ``version`` it creates a
    document (its name from ``name`` or the file name); with it, it replaces
    that version of an existing one."""
    key_name = _upload_name(filename, name)
    if not knowledge.valid_name(key_name):
        raise HTTPException(
            422, detail="name: lowercase letters, digits, - and _ (pass ?name=)"
        )
    text = await _upload_text(request)
    # The database work off the event loop, as in the routes FastAPI runs
    # in its thread pool.
    saved = await run_in_threadpool(
        _store_upload,
        state,
        session,
        Key(language, key_name),
        text,
        version,
        principal.username,
    )
    if version is not None:
        response.status_code = 200
    return saved


def _store_upload(
    state: StateDep,
    session: SessionDep,
    key: Key,
    text: str,
    version: int | None,
    actor: str,
) -> dict[str, object]:
    _seeded(state, session)
    try:
        if version is None:
            return knowledge.create(session, key, text, actor, action="upload")
        return knowledge.edit(session, key, text, version, actor, action="upload")
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


@router.get("/api/knowledge/{language}/{name}", response_model=KnowledgeDocumentPublic)
def read_document(
    _: ReaderDep, state: StateDep, session: SessionDep, language: Language, name: Name
) -> dict[str, object]:
    _seeded(state, session)
    try:
        return knowledge.read(session, Key(language, name))
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


@router.put(
    "/api/knowledge/{language}/{name}",
    response_model=KnowledgeDocumentPublic,
    responses=STALE,
)
def edit_document(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    language: Language,
    name: Name,
    body: KnowledgeUpdate,
) -> dict[str, object]:
    _seeded(state, session)
    try:
        return knowledge.edit(
            session, Key(language, name), body.content, body.version, principal.username
        )
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


@router.delete("/api/knowledge/{language}/{name}", status_code=204, responses=STALE)
def delete_document(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    language: Language,
    name: Name,
    version: QueryVersion,
) -> Response:
    _seeded(state, session)
    try:
        knowledge.delete(session, Key(language, name), version, principal.username)
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc
    return Response(status_code=204)


@router.get(
    "/api/knowledge/{language}/{name}/history",
    response_model=list[KnowledgeHistoryEntry],
)
def document_history(
    _: ReaderDep, state: StateDep, session: SessionDep, language: Language, name: Name
) -> list[dict[str, object]]:
    _seeded(state, session)
    try:
        return knowledge.history(session, Key(language, name))
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


@router.get(
    "/api/knowledge/{language}/{name}/versions/{number}",
    response_model=KnowledgeVersionPublic,
)
def document_version(
    _: ReaderDep,
    state: StateDep,
    session: SessionDep,
    language: Language,
    name: Name,
    number: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> dict[str, object]:
    _seeded(state, session)
    try:
        return knowledge.read_version(session, Key(language, name), number)
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


@router.post(
    "/api/knowledge/{language}/{name}/restore",
    response_model=KnowledgeDocumentPublic,
    responses=STALE,
)
def restore_version(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    language: Language,
    name: Name,
    body: KnowledgeRestore,
) -> dict[str, object]:
    _seeded(state, session)
    try:
        return knowledge.restore(
            session, Key(language, name), body.restore, body.version, principal.username
        )
    except knowledge.KnowledgeError as exc:
        raise _fail(exc) from exc


@router.get(
    "/api/internal/knowledge",
    responses={
        304: {"description": "unchanged since the ETag in If-None-Match"},
        401: {"description": "not the action token"},
    },
)
def published_knowledge(
    request: Request, state: StateDep, session: SessionDep
) -> Response:
    """For the action server only (``EASYFLOW_ACTION_TOKEN`` as a bearer
    token): every live document, and ``revision``, also the ETag."""
    expected = state.settings.action_token or ""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), expected.encode())
    ):
        raise HTTPException(
            401, detail="not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )
    _seeded(state, session)
    revision = knowledge.revision(session)
    etag = f'"{revision}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    # A save landing between the two reads leaves this ETag older than the
    # text sent: the next poll loads again, which is harmless.
    documents = knowledge.published(session)
    return JSONResponse({"revision": revision, "documents": documents}, headers=headers)
