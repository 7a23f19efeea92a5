"""Recording HTTP emulators of platform APIs on loopback ports.

An emulator answers like the platform (``reply(call)``), records every request, and
can be scripted to fail (429, 5xx) or to be slow. Tests assert the exact calls.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    query: dict[str, str]
    # The path as sent, percent-encoding kept: Rasa's server (Sanic) matches this
    # one, not the decoded ``path``.
    raw_path: str = ""
    # What the emulator answered (a scripted failure, else 200).
    status: int = 200


@dataclass
class Emulator:
    """Records every request; answers with ``reply(call)`` or a scripted response."""

    reply: Callable[[Call], Any]
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    scripted: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    # Seconds to wait before answering (a slow platform); set it at any time.
    delay_s: float = 0.0

    def fail_next(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        self.scripted.append((status, body, headers or {}))

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        payload: Any = None
        form: dict[str, str] = {}
        if raw and "json" in (request.content_type or ""):
            payload = json.loads(raw)
        elif raw:
            form = dict((await request.post()).items())  # type: ignore[arg-type]
        call = Call(
            request.method,
            request.path,
            dict(request.headers),
            payload,
            form,
            dict(request.query),
            request.raw_path.split("?", 1)[0],
        )
        self.calls.append(call)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.scripted:
            status, body, headers = self.scripted.pop(0)
            call.status = status
            return web.json_response(body, status=status, headers=headers)
        return web.json_response(self.reply(call))

    def paths(self) -> list[str]:
        return [call.path for call in self.calls]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
