"""Settings of the local model server, read once from the environment.

A missing or invalid value stops start-up with a ``SettingsError`` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class ServerSettings:
    model_dir: Path
    model_name: str = "local"
    host: str = "127.0.0.1"
    port: int = 8088
    api_key: str = ""
    max_time_s: float = 30.0
    max_tokens: int = 512
    max_queue: int = 8
    threads: int = 0  # 0: torch's default
    seed: int | None = None  # sampling seed for requests that send none

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        env = dict(os.environ) if env is None else env

        def raw(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float, low: float, high: float) -> float:
            text = raw(name)
            if text is None:
                return default
            try:
                value = float(text)
            except ValueError:
                raise SettingsError(f"{name}: '{text}' is not a number") from None
            if not low <= value <= high:
                raise SettingsError(f"{name}: {value} is outside {low}..{high}")
            return value

        model_dir = raw("EASYFLOW_LOCAL_MODEL_DIR")
        if model_dir is None:
            raise SettingsError(
                "EASYFLOW_LOCAL_MODEL_DIR: required, a local directory with a "
                "Hugging Face causal LM (config.json, weights, tokenizer)"
            )
        path = Path(model_dir).expanduser()
        if not (path / "config.json").is_file():
            raise SettingsError(
                f"EASYFLOW_LOCAL_MODEL_DIR: {path} has no config.json; the server "
                "never downloads, put the model files there first"
            )
        return cls(
            model_dir=path,
            model_name=raw("EASYFLOW_LOCAL_MODEL_NAME") or "local",
            host=raw("EASYFLOW_LOCAL_HOST") or "127.0.0.1",
            port=int(number("EASYFLOW_LOCAL_PORT", 8088, 1, 65535)),
            api_key=raw("EASYFLOW_LOCAL_API_KEY") or "",
            max_time_s=number("EASYFLOW_LOCAL_MAX_TIME_S", 30.0, 0.001, 600),
            max_tokens=int(number("EASYFLOW_LOCAL_MAX_TOKENS", 512, 1, 32768)),
            max_queue=int(number("EASYFLOW_LOCAL_MAX_QUEUE", 8, 1, 1024)),
            threads=int(number("EASYFLOW_LOCAL_THREADS", 0, 0, 256)),
            seed=None
            if raw("EASYFLOW_LOCAL_SEED") is None
            else int(number("EASYFLOW_LOCAL_SEED", 0, 0, 2**32 - 1)),
        )
