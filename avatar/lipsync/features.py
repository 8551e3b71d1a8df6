"""Short-time speech features on a 10 ms grid, shared by the audio estimator and
the text-guided aligner.

Everything is resampled to 16 kHz first so one set of filters (and the shipped
classifier weights) fits every engine's output rate. Frame ``i`` is centred on
``(i + 0.5) * 10 ms`` of the input, the same grid ``VisemeTimeline.frame_labels``
uses, so features and labels line up without offsets.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np
from scipy.fft import dct, rfft
from scipy.signal import butter, resample_poly, sosfilt, sosfilt_zi

RATE = 16000
HOP = 160  # 10 ms
WINDOW = 400  # 25 ms
N_FFT = 512
N_MELS = 40
N_MFCC = 13
FLOOR_DB = -100.0


def to_float_mono(pcm: np.ndarray) -> np.ndarray:
    """int16 / float PCM, mono or ``(n, channels)``, as mono float32 in [-1, 1]."""
    audio = np.asarray(pcm)
    if audio.dtype == np.int16:
        audio = audio.astype(np.float32) / 32768.0
    audio = audio.astype(np.float32, copy=False)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if audio.ndim != 1:
        raise ValueError(f"expected mono or (n, channels) audio, got shape {audio.shape}")
    return audio


def resample(audio: np.ndarray, rate_in: int, rate_out: int = RATE) -> np.ndarray:
    """Polyphase resampling between integer rates."""
    if rate_in == rate_out:
        return audio.astype(np.float32, copy=False)
    g = gcd(rate_in, rate_out)
    return resample_poly(audio, rate_out // g, rate_in // g).astype(np.float32)


def highpass(audio16k: np.ndarray, state: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Remove DC and rumble below ~70 Hz (some recordings carry more of it than
    speech); ``state`` carries the filter across chunks (``None`` to start)."""
    sos = _highpass_sos()
    if state is None:
        state = sosfilt_zi(sos) * (audio16k[0] if len(audio16k) else 0.0)
    out, state = sosfilt(sos, audio16k, zi=state)
    return out.astype(np.float32), state


def n_frames(n_samples: int, sample_rate: int) -> int:
    """Frames needed so that every sample of the input lies in one (last one partial)."""
    return int(np.ceil(n_samples * RATE / sample_rate / HOP - 1e-9))


def frames(audio16k: np.ndarray, count: int, left: np.ndarray | None = None) -> np.ndarray:
    """``count`` windowed frames centred on the 10 ms grid; ``left`` is audio before
    the signal (from a previous chunk) used instead of zeros for the first frames."""
    pad_left = (WINDOW - HOP) // 2
    context = np.zeros(pad_left, dtype=np.float32)
    if left is not None and len(left):
        tail = left[-pad_left:]
        context[pad_left - len(tail):] = tail
    need = count * HOP + WINDOW
    padded = np.zeros(need, dtype=np.float32)
    padded[:pad_left] = context
    body = audio16k[: need - pad_left]
    padded[pad_left : pad_left + len(body)] = body
    index = np.arange(WINDOW)[None, :] + HOP * np.arange(count)[:, None]
    return padded[index] * _window()


def log_energy_db(framed: np.ndarray) -> np.ndarray:
    """Frame RMS in dB relative to full scale."""
    rms = np.sqrt(np.mean(framed**2, axis=1) / np.mean(_window() ** 2))
    return 20.0 * np.log10(np.maximum(rms, 10 ** (FLOOR_DB / 20)))


def log_mel(framed: np.ndarray) -> np.ndarray:
    """Natural-log mel filterbank energies, ``(frames, N_MELS)``."""
    power = np.abs(rfft(framed, n=N_FFT, axis=1)) ** 2
    return np.log(power @ _mel_filters().T + 1e-8)


def mfcc(logmel: np.ndarray) -> np.ndarray:
    """Cepstra ``c0..c12`` of log-mel energies."""
    return dct(logmel, type=2, norm="ortho", axis=1)[:, :N_MFCC]


def deltas(feats: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression slope over ``±width`` frames (edges repeated)."""
    padded = np.pad(feats, ((width, width), (0, 0)), mode="edge")
    n = len(feats)
    num = sum(k * (padded[width + k : width + k + n] - padded[width - k : width - k + n])
              for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def stack_context(feats: np.ndarray, offsets: tuple[int, ...]) -> np.ndarray:
    """Concatenate each frame with frames at the given offsets (edges repeated)."""
    reach = max(abs(o) for o in offsets)
    padded = np.pad(feats, ((reach, reach), (0, 0)), mode="edge")
    n = len(feats)
    return np.concatenate([padded[reach + o : reach + o + n] for o in offsets], axis=1)


@lru_cache(maxsize=1)
def _highpass_sos() -> np.ndarray:
    return butter(4, 70.0, btype="highpass", fs=RATE, output="sos")


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return np.hamming(WINDOW).astype(np.float32)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """Triangular filters, equally spaced on the mel scale from 60 Hz to 7.6 kHz."""

    def mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(np.array(60.0)), mel(np.array(7600.0)), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    filters = np.zeros((N_MELS, len(bins)))
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        filters[i] = np.maximum(0.0, np.minimum(rising, falling))
    return filters
