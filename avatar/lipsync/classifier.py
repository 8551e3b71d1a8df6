"""The small frame classifier behind the audio estimator: a one-hidden-layer MLP.

Its weights are trained by ``scripts/train_lipsync.py`` on Piper speech labelled
by Piper's own phoneme alignments, and shipped as a ~50 kB ``.npz`` next to this
module, so estimating visemes needs numpy only, no model download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_WEIGHTS = Path(__file__).with_name("data") / "viseme_mlp.npz"


@dataclass(frozen=True)
class VisemeMLP:
    """Frame features in, viseme posteriors out.

    ``classes``: the visemes of the output units. ``offsets``: frame offsets
    stacked as context. ``feature_mean`` / ``feature_std``: prior statistics of the
    cepstra and deltas, for normalising before a speaker's own are known.
    """

    classes: tuple[str, ...]
    offsets: tuple[int, ...]
    feature_mean: np.ndarray
    feature_std: np.ndarray
    input_mean: np.ndarray
    input_std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def posteriors(self, stacked: np.ndarray) -> np.ndarray:
        """Softmax over ``classes`` for each row of context-stacked features."""
        x = (stacked - self.input_mean) / self.input_std
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            classes=np.array(self.classes),
            offsets=np.array(self.offsets, dtype=np.int64),
            **{
                name: getattr(self, name).astype(np.float32)
                for name in ("feature_mean", "feature_std", "input_mean", "input_std",
                             "w1", "b1", "w2", "b2")
            },
        )

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> VisemeMLP:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        return cls(
            classes=tuple(str(c) for c in arrays.pop("classes")),
            offsets=tuple(int(o) for o in arrays.pop("offsets")),
            **{k: v.astype(np.float64) for k, v in arrays.items()},
        )
