"""The api's feed of integrations enabled on the dashboard, as the action server
and the Rasa process's connectors read it: ``GET /api/internal/integrations``
with the action token and the last ``ETag`` (304 while nothing changed); the
secrets arrive sealed and are opened here with the shared keyring."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from common.secretbox import Keyring, SecretKeyError, local_key_file, parse_key
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)
FEED_PATH = "/api/internal/integrations"


def associated(kind: str) -> str:
    """What the api names a kind's sealed secrets with (services/integrations)."""
    return f"integration:{kind}"


def open_values(keyring: Keyring, entry: Mapping[str, Any]) -> dict[str, str]:
    """An entry's settings and opened secrets, named as environment variables."""
    kind = str(entry["kind"])
    values = {str(k): str(v) for k, v in (entry.get("settings") or {}).items()}
    sealed = entry.get("secrets")
    if sealed:
        opened = json.loads(keyring.open(str(sealed), associated(kind)))
        values.update({str(k): str(v) for k, v in opened.items()})
    return values


def keyring_from(reader: Reader, data_dir: Path, production: bool) -> Keyring:
    """``EASYFLOW_SECRETS_KEY`` (or ``_KEY_FILE``) and ``_OLD_KEYS``; in
    development without one, ``<data_dir>/secrets_key`` as the api makes it."""
    try:
        if reader.raw("EASYFLOW_SECRETS_KEY"):
            text, name = reader.text("EASYFLOW_SECRETS_KEY", ""), "EASYFLOW_SECRETS_KEY"
        elif reader.raw("EASYFLOW_SECRETS_KEY_FILE"):
            name = "EASYFLOW_SECRETS_KEY_FILE"
            try:
                text = reader.path(name, Path()).read_text()
            except OSError as error:
                raise SettingsError(
                    f"{name}: cannot read it ({error.strerror})"
                ) from None
        elif production:
            raise SettingsError(
                "EASYFLOW_SECRETS_KEY: production needs the key the api seals "
                "integration secrets with (or EASYFLOW_SECRETS_KEY_FILE)"
            )
        else:
            text, name = local_key_file(data_dir / "secrets_key"), "var/secrets_key"
        older = tuple(
            parse_key(old, "EASYFLOW_SECRETS_OLD_KEYS")
            for old in reader.text("EASYFLOW_SECRETS_OLD_KEYS", "").split(",")
            if old.strip()
        )
        return Keyring(parse_key(text, name), older)
    except SecretKeyError as error:
        raise SettingsError(str(error)) from None


@dataclass
class FeedReader:
    """Reads the feed; remembers the ETag so an unchanged feed costs a 304."""

    api_url: str
    token: str = field(repr=False)
    timeout_s: float = 10.0
    etag: str | None = None

    async def changed(self) -> list[dict[str, Any]] | None:
        """The entries when the feed changed since the last read, else ``None``."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.etag:
            headers["If-None-Match"] = self.etag
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(
                f"{self.api_url.rstrip('/')}{FEED_PATH}", headers=headers
            ) as response,
        ):
            if response.status == 304:
                return None
            if response.status != 200:
                logger.error(
                    "integrations.feed.refused", extra={"status": response.status}
                )
                return None
            body = await response.json()
            self.etag = response.headers.get("ETag")
        entries = body.get("integrations") if isinstance(body, dict) else None
        return [e for e in entries or [] if isinstance(e, dict) and "kind" in e]
