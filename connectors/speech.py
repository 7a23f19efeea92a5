"""Speech to text for voice notes: an optional OpenAI-compatible backend.

A voice note is heard only when ``EASYFLOW_STT_BASE_URL`` names a server that
answers ``POST /v1/audio/transcriptions`` (multipart ``model`` and ``file``, the
OpenAI audio API that whisper servers, vLLM and LocalAI also serve) with
``{"text": "…"}``. Without one, or when it fails, the voice note reaches Rasa as
``/shopper_sent_voice`` and the shopper is asked to type: a transcript is a
convenience, never a reason to stay silent.

- ``EASYFLOW_STT_BASE_URL``: the server (``https://api.openai.com`` or a local
  ``http://127.0.0.1:8000``; a trailing ``/v1`` is accepted); empty: off;
- ``EASYFLOW_STT_API_KEY``: sent as ``Authorization: Bearer`` when set;
- ``EASYFLOW_STT_MODEL``: the model name (``whisper-1``);
- ``EASYFLOW_STT_MAX_BYTES``: the largest voice note fetched (5 MB, about ten
  minutes of Telegram's Opus);
- ``EASYFLOW_STT_TIMEOUT_S``: how long one transcription may take (20 s).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from common.http import PlatformClient, PlatformError, RetryPolicy
from connectors.settings import ChannelSettings

logger = logging.getLogger(__name__)

TRANSCRIPTIONS = "/v1/audio/transcriptions"
DEFAULT_MODEL = "whisper-1"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT_S = 20.0


class TooLarge(RuntimeError):
    """A download went over its size limit; nothing more was read."""


@dataclass(frozen=True)
class SpeechSettings:
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    model: str = DEFAULT_MODEL
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SpeechSettings:
        """From the channels' settings object (connectors/settings.py)."""
        channels = ChannelSettings.from_env(env)
        return cls(
            base_url=channels.stt_base_url,
            api_key=channels.stt_api_key,
            model=channels.stt_model,
            max_bytes=channels.stt_max_bytes,
            timeout_s=channels.stt_timeout_s,
        )


class FileClient(PlatformClient):
    """The project's HTTP client, plus what JSON APIs do not need: a bounded
    binary download and a multipart upload (both retried like any call)."""

    async def download(
        self, path: str, max_bytes: int, headers: dict[str, str] | None = None
    ) -> bytes:
        """The body of ``GET base_url + path``; ``TooLarge`` past ``max_bytes``."""
        url = f"{self.base_url}{path}"
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                async with self._client().get(url, headers=headers) as response:
                    if response.status < 400:
                        return await _read_bounded(response, max_bytes)
                    body = (await response.content.read(500)).decode(errors="replace")
                    retryable = response.status == 429 or response.status >= 500
                    if not retryable or attempt == self.retry.max_attempts:
                        logger.error(
                            "%s.download.failed",
                            self.platform,
                            extra={"status": response.status, "body": body},
                        )
                        raise PlatformError(self.platform, response.status, body)
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
                if attempt == self.retry.max_attempts:
                    logger.error(
                        "%s.download.unreachable",
                        self.platform,
                        extra={"error": repr(error)},
                    )
                    raise PlatformError(self.platform, None, repr(error)) from error
            await asyncio.sleep(self.retry.delay(attempt, None))
        raise AssertionError("unreachable")  # pragma: no cover

    async def post_multipart(
        self,
        path: str,
        fields: dict[str, str],
        file: tuple[str, str, bytes],
        headers: dict[str, str] | None = None,
    ) -> Any:
        """``fields`` and one ``(name, filename, content)`` file, as
        multipart/form-data; the body is built once, so a retry resends it."""
        body, content_type = multipart(fields, file)
        return await self.post(
            path, data=body, headers={**(headers or {}), "Content-Type": content_type}
        )


async def _read_bounded(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise TooLarge(f"{declared} bytes declared")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def multipart(
    fields: dict[str, str], file: tuple[str, str, bytes]
) -> tuple[bytes, str]:
    boundary = f"easyflow-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
            f"\r\n\r\n{value}\r\n".encode()
        )
    name, filename, content = file
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{safe_name}"\r\nContent-Type: application/octet-stream'
        "\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class SpeechToText:
    """One OpenAI-compatible transcription endpoint; ``None`` on any failure."""

    def __init__(self, settings: SpeechSettings, client: FileClient | None = None):
        self.settings = settings
        # One try: the shopper is waiting, and "please type" is a fine answer.
        self.client = client or FileClient(
            "stt",
            settings.base_url,
            timeout_s=settings.timeout_s,
            retry=RetryPolicy(max_attempts=1),
        )

    @classmethod
    def from_env(cls) -> SpeechToText | None:
        settings = SpeechSettings.from_env()
        return cls(settings) if settings.base_url else None

    async def transcribe(self, audio: bytes, filename: str) -> str | None:
        headers = {}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        fields = {"model": self.settings.model, "response_format": "json"}
        try:
            answer = await self.client.post_multipart(
                TRANSCRIPTIONS, fields, ("file", filename, audio), headers=headers
            )
        except PlatformError:
            return None  # logged by the client
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str) or not text.strip():
            logger.warning("stt.transcribe.empty", extra={"bytes": len(audio)})
            return None
        return " ".join(text.split())

    async def close(self) -> None:
        await self.client.close()
