"""Settings of the Rasa process's channels, read once through ``common.settings``.

- ``EASYFLOW_REDIS_URL``: dedupe, shopper rate limits and web chat rooms shared by
  replicas (empty: in memory, one process);
- ``EASYFLOW_DEDUPE_TTL_S``: how long a platform delivery id is remembered (24 h);
- ``EASYFLOW_SHOPPER_RATE``: messages per minute one sender may send (20; 0 = off);
- ``EASYFLOW_SHOPPER_IP_RATE``: messages per minute from one client IP (120; 0 =
  off; loopback peers are not counted: they are local processes or a local proxy);
- ``EASYFLOW_TRUSTED_PROXIES``: CIDRs whose ``X-Forwarded-For`` names the client
  (empty: the peer address is the client);
- ``EASYFLOW_MAX_MESSAGE_CHARS``: longest message read (4000); a longer one is
  answered with a request to shorten it and never reaches Rasa;
- ``EASYFLOW_WEBCHAT_SECRET``: signs web chat session ids (at least 16
  characters); unset, the key derives from ``EASYFLOW_RASA_TOKEN``, else it is
  generated into ``EASYFLOW_DATA_DIR`` (``var/``), see connectors/webchat_sessions.py;
- ``EASYFLOW_EXPO_PUSH_URL``: the Expo push service (``https://exp.host``), and
  ``EASYFLOW_EXPO_ACCESS_TOKEN`` when the Expo project enforces access tokens
  (connectors/push.py);
- ``EASYFLOW_STT_BASE_URL``, ``_API_KEY``, ``_MODEL``, ``_MAX_BYTES``,
  ``_TIMEOUT_S``: the optional speech-to-text backend for voice notes
  (connectors/speech.py; empty: voice notes are answered with "please type");
- ``EASYFLOW_ACTIONS_URL`` (its ``/webhook``) and ``EASYFLOW_ACTION_TOKEN``: where
  photos and files shoppers send are kept (``connectors/attachments.py``; the
  action server's ``/attachments``), and ``EASYFLOW_ATTACHMENT_MAX_BYTES`` the
  largest one fetched (10 MB);
- ``SANIC_WORKERS``: Rasa workers on one port (set by ``rasa run``'s launcher).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common.settings import Reader, SettingsError
from common.settings import environment as process_environment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ChannelSettings:
    redis_url: str = ""
    dedupe_ttl_s: int = 24 * 3600
    sender_rate: int = 20
    ip_rate: int = 120
    trusted_proxies: tuple[Network, ...] = ()
    max_message_chars: int = 4000
    workers: int = 1
    webchat_secret: str = field(default="", repr=False)
    rasa_token: str = field(default="", repr=False)
    data_dir: Path = PROJECT_ROOT / "var"
    expo_push_url: str = "https://exp.host"
    expo_access_token: str = field(default="", repr=False)
    stt_base_url: str = ""
    stt_api_key: str = field(default="", repr=False)
    stt_model: str = "whisper-1"
    stt_max_bytes: int = 5 * 1024 * 1024
    stt_timeout_s: float = 20.0
    actions_url: str = ""
    action_token: str = field(default="", repr=False)
    attachment_max_bytes: int = 10 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChannelSettings:
        reader = Reader(process_environment() if env is None else env)
        try:
            workers = reader.integer("SANIC_WORKERS", 1, 1, 64)
        except SettingsError:
            workers = 1  # Rasa falls back to one worker too
        return cls(
            redis_url=reader.text("EASYFLOW_REDIS_URL", ""),
            dedupe_ttl_s=reader.integer(
                "EASYFLOW_DEDUPE_TTL_S", 24 * 3600, 60, 30 * 24 * 3600
            ),
            sender_rate=reader.integer("EASYFLOW_SHOPPER_RATE", 20, 0, 100_000),
            ip_rate=reader.integer("EASYFLOW_SHOPPER_IP_RATE", 120, 0, 1_000_000),
            trusted_proxies=_networks(reader, "EASYFLOW_TRUSTED_PROXIES"),
            max_message_chars=reader.integer(
                "EASYFLOW_MAX_MESSAGE_CHARS", 4000, 100, 100_000
            ),
            workers=workers,
            webchat_secret=reader.text("EASYFLOW_WEBCHAT_SECRET", ""),
            rasa_token=reader.text("EASYFLOW_RASA_TOKEN", ""),
            data_dir=_absolute(reader.path("EASYFLOW_DATA_DIR", PROJECT_ROOT / "var")),
            expo_push_url=reader.url("EASYFLOW_EXPO_PUSH_URL", "https://exp.host"),
            expo_access_token=reader.text("EASYFLOW_EXPO_ACCESS_TOKEN", ""),
            stt_base_url=(
                reader.url("EASYFLOW_STT_BASE_URL", "").removesuffix("/v1")
                if reader.raw("EASYFLOW_STT_BASE_URL")
                else ""
            ),
            stt_api_key=reader.text("EASYFLOW_STT_API_KEY", ""),
            stt_model=reader.text("EASYFLOW_STT_MODEL", "") or "whisper-1",
            stt_max_bytes=reader.integer(
                "EASYFLOW_STT_MAX_BYTES", 5 * 1024 * 1024, 1024, 25 * 1024 * 1024
            ),
            stt_timeout_s=reader.seconds("EASYFLOW_STT_TIMEOUT_S", 20.0),
            actions_url=(
                reader.url("EASYFLOW_ACTIONS_URL", "").removesuffix("/webhook")
                if reader.raw("EASYFLOW_ACTIONS_URL")
                else ""
            ),
            action_token=reader.text("EASYFLOW_ACTION_TOKEN", ""),
            attachment_max_bytes=reader.integer(
                "EASYFLOW_ATTACHMENT_MAX_BYTES",
                10 * 1024 * 1024,
                1024,
                50 * 1024 * 1024,
            ),
        )


def _networks(reader: Reader, name: str) -> tuple[Network, ...]:
    raw = reader.text(name, "")
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name}: '{item}' is not an IP address or CIDR"
            ) from None
    return tuple(networks)


def _absolute(path: Path) -> Path:
    return path if path.is_absolute() else PROJECT_ROOT / path
