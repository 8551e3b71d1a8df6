"""XTTS set-up mistakes get a message naming what is missing — before torch is needed."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config.models import XttsConfig
from bot.speech.tts.base import TTSError
from bot.speech.tts.xtts import XttsEngine

ROOT = Path(__file__).resolve().parents[1]


def load(**cfg):
    asyncio.run(XttsEngine(XttsConfig(**cfg)).load())


def test_missing_model_files_are_named(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(TTSError, match=r"lacks model.pth, vocab.json \(expected config.json, model.pth, "
                                       r"vocab.json\); download the XTTS v2 release"):
        load(model_dir=tmp_path, reference_wavs=[tmp_path / "me.wav"])
    with pytest.raises(TTSError, match="tts.xtts.model_dir is not set"):
        load()
    with pytest.raises(TTSError, match="XTTS model folder not found"):
        load(model_dir=tmp_path / "nope")


def test_missing_voice_is_named(tmp_path):
    for name in ("config.json", "model.pth", "vocab.json"):
        (tmp_path / name).write_text("{}")
    with pytest.raises(TTSError, match="XTTS needs a voice"):
        load(model_dir=tmp_path)
    with pytest.raises(TTSError, match="reference audio not found: .*nobody.wav"):
        load(model_dir=tmp_path, reference_wavs=[tmp_path / "nobody.wav"])


def test_xtts_streaming_suite_passes_in_its_own_environment():
    """The tiny-model tests need torch + coqui-tts, which live in .venv-xtts."""
    python = ROOT / ".venv-xtts" / "bin" / "python"
    if not python.exists():
        pytest.fail("the XTTS environment is missing: run scripts/setup.sh test (or scripts/setup_xtts_env.sh)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "VIRTUAL_ENV")}
    r = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/xtts"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (r.stdout + r.stderr)[-3000:]
    assert r.returncode == 0, tail
    assert " passed" in tail and "skipped" not in tail.splitlines()[-1], tail
