"""Speech laid end to end on the output stream's sample clock.

The overlay plays the audio, and the mouth follows the samples actually being played:
each segment gets a start position on the stream's clock, the audio callback advances
that clock, and the renderer asks "what is playing at this moment?" every frame. Skip
drops everything not yet played, inside the next audio callback (a few ms).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from math import gcd

import numpy as np

from avatar.lipsync.timeline import VisemeTimeline


@dataclass(slots=True)
class Placed:
    utterance_id: str
    index: int
    caption: str
    pcm: np.ndarray  # at the stream's rate
    visemes: VisemeTimeline  # at the segment's own rate
    start: int  # stream sample where it begins
    started: bool = False

    @property
    def end(self) -> int:
        return self.start + len(self.pcm)


@dataclass(frozen=True, slots=True)
class Playing:
    """What is heard at a moment: the segment and the position inside it."""

    segment: Placed
    seconds: float  # into the segment

    @property
    def viseme(self) -> str:
        return self.segment.visemes.viseme_at(self.seconds)


# (event, utterance_id, index) with event started | finished | skipped
Event = tuple[str, str, int]


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return pcm.astype(np.int16, copy=False)
    from scipy.signal import resample_poly

    g = gcd(from_rate, to_rate)
    out = resample_poly(pcm.astype(np.float32), to_rate // g, from_rate // g)
    return np.clip(out, -32768, 32767).astype(np.int16)


class SpeechClock:
    """Thread-safe: the audio callback calls :meth:`fill`; the link and the renderer
    call the rest."""

    def __init__(self, stream_rate: int, *, volume: float = 1.0):
        self.rate = stream_rate
        self.volume = volume
        self.cursor = 0  # stream samples handed to the device so far
        self.muted = False
        self._queue: deque[Placed] = deque()
        self._recent: deque[Placed] = deque(maxlen=4)  # handed to the device, maybe still audible
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def add(self, utterance_id: str, index: int, caption: str, pcm: np.ndarray, sample_rate: int,
            visemes: VisemeTimeline) -> Placed:
        data = resample(pcm, sample_rate, self.rate)
        if self.volume != 1.0:
            data = np.clip(data.astype(np.float32) * self.volume, -32768, 32767).astype(np.int16)
        with self._lock:
            start = max(self.cursor, self._queue[-1].end if self._queue else 0)
            placed = Placed(utterance_id, index, caption, data, visemes, start)
            self._queue.append(placed)
        return placed

    def fill(self, out: np.ndarray) -> None:
        """The audio callback: write the next ``len(out)`` samples and advance the clock."""
        n = len(out)
        out[:] = 0
        with self._lock:
            t0, t1 = self.cursor, self.cursor + n
            for seg in self._queue:
                if seg.start >= t1:
                    break
                a, b = max(seg.start, t0), min(seg.end, t1)
                if b > a:
                    if not self.muted:
                        out[a - t0:b - t0] = seg.pcm[a - seg.start:b - seg.start]
                    if not seg.started:
                        seg.started = True
                        self._events.append(("started", seg.utterance_id, seg.index))
                if seg.end <= t1:
                    self._events.append(("finished", seg.utterance_id, seg.index))
            while self._queue and self._queue[0].end <= t1:
                self._recent.append(self._queue.popleft())
            self.cursor = t1

    def skip(self) -> list[Placed]:
        """Drop everything not finished; it stops at the next callback."""
        with self._lock:
            dropped = list(self._queue)
            self._queue.clear()
            self._recent.clear()
            self._events.extend(("skipped", s.utterance_id, s.index) for s in dropped)
        return dropped

    def events(self) -> list[Event]:
        with self._lock:
            out, self._events = self._events, []
        return out

    def at(self, sample: int) -> Playing | None:
        """What is heard at stream sample ``sample`` (None: silence)."""
        with self._lock:
            for seg in (*self._recent, *self._queue):
                if seg.start <= sample < seg.end:
                    return Playing(seg, (sample - seg.start) / self.rate)
        return None

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._queue
