"""Rasa's Redis lock store, configured from one ``redis://`` URL.

Rasa's ``RedisLockStore`` takes host, port, db and password separately; the rest of
Easy Flow (connector dedupe, the answer cache) reads ``EASYFLOW_REDIS_URL``. This
class lets ``endpoints.production.yml`` pass that same URL:
``lock_store: {type: bot.stores.lock_store.RedisUrlLockStore,
url: ${EASYFLOW_REDIS_URL}}``.

When Redis is unreachable, acquiring a conversation lock raises and the turn is
refused (``connectors.rest.StrictRestInput`` answers 503): without the lock two replicas
could interleave one conversation's turns, so we never process unlocked.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

DEFAULT_SOCKET_TIMEOUT_S = 2.0


class RedisUrlLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        url = urlparse(str(endpoint_config.url or "redis://127.0.0.1:6379/0"))
        if url.scheme not in ("redis", "rediss"):
            raise ValueError(f"lock_store url must be redis:// or rediss://, not {url}")
        path = url.path.strip("/")
        kwargs = endpoint_config.kwargs
        super().__init__(
            host=url.hostname or "127.0.0.1",
            port=url.port or 6379,
            db=int(path) if path else 0,
            password=unquote(url.password) if url.password else None,
            use_ssl=url.scheme == "rediss",
            key_prefix=kwargs.get("key_prefix"),
            socket_timeout=float(
                kwargs.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_S)
            ),
        )
