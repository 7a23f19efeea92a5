"""The OpenAI-compatible HTTP API: ``POST /v1/chat/completions`` (non-streaming),
``GET /v1/models`` and ``GET /health``.

Errors use OpenAI's shape ``{"error": {"message", "type", "code"}}`` so the
``openai`` package raises its usual exceptions: 400 ``BadRequestError``, 401
``AuthenticationError``, 404 ``NotFoundError``, 503/504 ``InternalServerError``.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
import uuid
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from easyflow_llm.generation import GenerationError, GenerationRequest
from easyflow_llm.settings import ServerSettings
from easyflow_llm.worker import GenerationQueue

logger = logging.getLogger(__name__)

# openai-python sends its read timeout; nothing is generated for a client that
# has already given up.
CLIENT_TIMEOUT_HEADER = "x-stainless-read-timeout"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(
                str(part.get("text", ""))
                for part in self.content
                if part.get("type") == "text"
            )
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    stop: str | list[str] | None = None
    n: int = 1
    stream: bool = False
    seed: int | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_response(status: int, code: str, message: str) -> JSONResponse:
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "invalid_request_error",
        503: "server_error",
        504: "timeout",
    }.get(status, "server_error")
    return JSONResponse(
        {"error": {"message": message, "type": kind, "code": code, "param": None}},
        status_code=status,
    )


def create_app(settings: ServerSettings, queue: GenerationQueue) -> FastAPI:
    app = FastAPI(title="Easy Flow local model", version="0.1.0")
    model = queue.model
    started = int(time.time())

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, str(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(
            400, "invalid_request", f"{where}: {first.get('msg', 'invalid')}"
        )

    def authorise(request: Request) -> None:
        if not settings.api_key:
            return
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), settings.api_key.encode()):
            raise ApiError(401, "invalid_api_key", "missing or wrong API key")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": settings.model_name,
            "load_s": round(model.load_s, 3),
            "queued": queue.pending,
        }

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        authorise(request)
        return {"object": "list", "data": [_model_card(settings, started)]}

    @app.post("/v1/chat/completions")
    async def chat_completions(
        body: ChatCompletionRequest, request: Request
    ) -> dict[str, Any]:
        authorise(request)
        if body.model != settings.model_name:
            raise ApiError(
                404,
                "model_not_found",
                f"model '{body.model}' is not served here; use '{settings.model_name}'",
            )
        if body.stream:
            raise ApiError(400, "unsupported", "stream=true is not supported")
        if body.n != 1:
            raise ApiError(400, "unsupported", "only n=1 is supported")
        allowed_s = _time_allowed(settings, request)
        wanted = body.max_completion_tokens or body.max_tokens or settings.max_tokens
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        generation = GenerationRequest(
            messages=[
                {
                    "role": "system" if m.role == "developer" else m.role,
                    "content": m.text(),
                }
                for m in body.messages
            ],
            max_tokens=min(wanted, settings.max_tokens),
            temperature=body.temperature,
            top_p=body.top_p,
            stop=tuple(stop[:4]),
            deadline=time.monotonic() + allowed_s,
            seed=body.seed if body.seed is not None else settings.seed,
        )
        try:
            completion = await queue.complete(generation)
        except GenerationError as error:
            logger.warning(
                "llm.completion.failed", extra={"code": error.code, "error": str(error)}
            )
            message = f"{error} (allowed: {allowed_s:.2f} s)"
            raise ApiError(error.status, error.code, message) from error
        logger.info(
            "llm.completion",
            extra={
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "finish_reason": completion.finish_reason,
                "elapsed_s": round(completion.elapsed_s, 3),
            },
        )
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": settings.model_name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": completion.text},
                    "finish_reason": completion.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "total_tokens": completion.prompt_tokens + completion.completion_tokens,
            },
        }

    return app


def _time_allowed(settings: ServerSettings, request: Request) -> float:
    """The server's limit, or less when the client will stop waiting sooner."""
    try:
        client = float(request.headers.get(CLIENT_TIMEOUT_HEADER, "inf"))
    except ValueError:
        client = math.inf
    return min(settings.max_time_s, client if client > 0 else math.inf)


def _model_card(settings: ServerSettings, created: int) -> dict[str, Any]:
    return {
        "id": settings.model_name,
        "object": "model",
        "created": created,
        "owned_by": "easyflow",
    }
