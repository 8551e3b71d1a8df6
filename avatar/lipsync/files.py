"""Lip sync for an audio file, the work behind ``vtbot lipsync AUDIO [--text ...]``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from avatar.lipsync.align import align_transcript
from avatar.lipsync.audio import estimate_timeline
from avatar.lipsync.text_align import align_text
from avatar.lipsync.timeline import VisemeTimeline


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate of a file soundfile reads (wav, flac, ogg)."""
    audio, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return audio.mean(axis=1), int(sample_rate)


def lipsync_file(path: str | Path, text: str | None = None) -> VisemeTimeline:
    """Visemes for an audio file at its own sample rate.

    With the transcript, the whole recording is warped onto Piper reading it (more
    accurate; the text's own sounds are force-aligned where Piper is missing);
    without it, visemes are estimated from the sound alone. Pauses come from the
    warp here, not from the loudness gate as live: on the Piper tuning set, with
    its noisy channels, the warp closed and shaped the mouth far better, and on
    human speech the two were level (scripts/eval_lipsync.py).
    """
    audio, sample_rate = read_audio(path)
    if text and text.strip():
        try:
            return align_transcript(audio, sample_rate, text)
        except (ImportError, OSError):
            return align_text(audio, sample_rate, text)
    return estimate_timeline(audio, sample_rate)
