"""XTTS set-up mistakes get a message naming what is missing — before torch is needed."""

import asyncio
from pathlib import Path

import pytest

from bot.config.models import XttsConfig
from bot.speech.tts.base import TTSError
from bot.speech.tts.xtts import XttsEngine
from tests.subsuite import run_suite

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


def test_xtts_streaming_suite_passes_in_its_own_environment(tmp_path):
    """The tiny-model tests need torch + coqui-tts, which live in .venv-xtts; only skips
    marked not applicable are accepted."""
    python = ROOT / ".venv-xtts" / "bin" / "python"
    if not python.exists():
        pytest.fail("the XTTS environment is missing: run scripts/setup.sh test (or scripts/setup_xtts_env.sh)")
    run_suite(python, "tests/xtts", ROOT, tmp_path)
