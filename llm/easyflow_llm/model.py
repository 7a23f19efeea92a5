"""Loading a Hugging Face causal LM from a local directory, never from the hub."""

from __future__ import annotations

import os

# Read by huggingface_hub and transformers at import: set before importing them.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

logger = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """The directory does not hold a loadable causal LM; the message says why."""


@dataclass
class LocalModel:
    name: str
    path: Path
    model: Any  # a transformers PreTrainedModel
    tokenizer: Any  # a transformers PreTrainedTokenizerBase
    context_length: int
    eos_token_ids: tuple[int, ...]
    load_s: float

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


def load_model(path: Path, name: str = "local", threads: int = 0) -> LocalModel:
    """The model and tokenizer in ``path`` on the CPU, in evaluation mode."""
    started = time.monotonic()
    path = Path(path)
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{path}: no config.json (the server never downloads)")
    if threads:
        torch.set_num_threads(threads)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True, dtype=torch.float32
        )
    except (OSError, ValueError, ImportError, KeyError, RuntimeError) as error:
        # missing files, unknown architecture, a tokenizer needing absent packages
        reason = str(error).strip() or type(error).__name__
        raise ModelLoadError(f"{path}: {reason}") from error
    model.eval()
    config = model.generation_config
    eos = config.eos_token_id if config.eos_token_id is not None else []
    eos_ids = tuple(eos if isinstance(eos, list) else [eos])
    if not eos_ids and tokenizer.eos_token_id is not None:
        eos_ids = (tokenizer.eos_token_id,)
    loaded = LocalModel(
        name=name,
        path=path,
        model=model,
        tokenizer=tokenizer,
        context_length=_context_length(model.config, tokenizer),
        eos_token_ids=eos_ids,
        load_s=time.monotonic() - started,
    )
    logger.info(
        "llm.model.loaded",
        extra={
            "path": str(path),
            "parameters": sum(p.numel() for p in model.parameters()),
            "context_length": loaded.context_length,
            "chat_template": loaded.has_chat_template,
            "load_s": round(loaded.load_s, 3),
        },
    )
    return loaded


def _context_length(config: Any, tokenizer: Any) -> int:
    for attribute in ("max_position_embeddings", "n_positions", "seq_length"):
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", 0)
    return limit if 0 < limit < 1_000_000 else 2048
