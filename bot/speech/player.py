"""Plays speech on a local sound device through sounddevice (PortAudio).

Segments are queued and pulled by the audio callback, so synthesis never waits
for playback and playback never stutters while the next piece is synthesised.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from math import gcd

import numpy as np

from .segment import SpeechSegment, Utterance, UtteranceStats

log = logging.getLogger(__name__)


class AudioDeviceError(RuntimeError):
    """No usable output device; the message lists what exists."""


def output_devices() -> list[dict]:
    """Every PortAudio device that can play sound."""
    try:
        import sounddevice as sd
    except OSError as e:  # PortAudio library missing
        raise AudioDeviceError(f"PortAudio is not available ({e}): install libportaudio2") from None
    return [dict(d) for d in sd.query_devices() if d["max_output_channels"] > 0]


def resolve_output_device(name: str | None) -> int | None:
    """Index of the first output device whose name contains ``name`` (case-insensitive).

    ``None`` means the system default; a clear error when nothing matches.
    """
    devices = output_devices()
    if not devices:
        raise AudioDeviceError("no audio output device found (`vtbot devices` lists them)")
    if name is None:
        return None
    for d in devices:
        if name.lower() in d["name"].lower():
            return int(d["index"])
    names = ", ".join(repr(d["name"]) for d in devices)
    raise AudioDeviceError(f"no output device matches {name!r} (audio.output_device); available: {names}")


class AudioPlayer:
    def __init__(self, device: str | None = None, volume: float = 1.0):
        self.device_name = device
        self.volume = volume
        self._queue: deque[np.ndarray] = deque()
        self._lock = threading.Lock()
        self._stream = None
        self._stream_rate = 0
        self._source_rate = 0
        self._ratio = (1, 1)
        self._idle = threading.Event()
        self._idle.set()
        self.samples_played = 0  # at the stream's rate: the playback clock
        self.muted = False

    def _open(self, rate: int) -> None:
        import sounddevice as sd

        device = resolve_output_device(self.device_name)
        self.close_stream()
        for try_rate in (rate, 48000, 44100):
            try:
                stream = sd.OutputStream(samplerate=try_rate, channels=1, dtype="int16",
                                         device=device, callback=self._callback, latency="low")
                stream.start()
            except sd.PortAudioError as e:
                log.debug("audio: %s Hz refused (%s)", try_rate, e)
                continue
            self._stream, self._stream_rate, self._source_rate = stream, try_rate, rate
            g = gcd(try_rate, rate)
            self._ratio = (try_rate // g, rate // g)
            return
        raise AudioDeviceError(f"the output device refused every sample rate tried ({rate}, 48000, 44100)")

    def _callback(self, outdata, frames, _time, _status) -> None:
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, len(head))
                out[filled:filled + take] = 0 if self.muted else head[:take]
                filled += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
            if not self._queue:
                self._idle.set()
        out[filled:] = 0
        self.samples_played += filled

    def _prepare(self, pcm: np.ndarray) -> np.ndarray:
        up, down = self._ratio
        data = pcm
        if (up, down) != (1, 1):
            from scipy.signal import resample_poly

            data = resample_poly(pcm.astype(np.float32), up, down)
        if self.volume != 1.0 or data.dtype != np.int16:
            data = np.clip(np.asarray(data, dtype=np.float32) * self.volume, -32768, 32767)
        return np.asarray(data, dtype=np.int16)

    def enqueue(self, pcm: np.ndarray, sample_rate: int) -> None:
        if self._stream is None or sample_rate != self._source_rate:
            self._open(sample_rate)
        data = self._prepare(pcm)
        with self._lock:
            self._queue.append(data)
            self._idle.clear()

    def skip(self) -> None:
        """Drop everything queued: silence within one audio callback."""
        with self._lock:
            self._queue.clear()
            self._idle.set()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until everything queued has been handed to the device."""
        await asyncio.to_thread(self._idle.wait, timeout)
        if self._stream is not None:
            await asyncio.sleep(self._stream.latency + 0.05)

    def close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()

    # SpeechSink
    async def start(self, utterance: Utterance) -> None:
        return None

    async def segment(self, segment: SpeechSegment) -> None:
        await asyncio.to_thread(self.enqueue, segment.pcm, segment.sample_rate)

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        return None

    async def close(self) -> None:
        await asyncio.to_thread(self.close_stream)
