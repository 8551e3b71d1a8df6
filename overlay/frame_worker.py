"""Renders avatar frames beside the window: the newest pose in, the newest frame out.

A neural avatar (THA3) takes tens of milliseconds to hundreds per frame on a CPU.
The window must never wait for it: it hands the worker the pose it wants now and
draws whatever frame is newest. Poses the worker had no time for are skipped, not
queued, and the worker keeps to a frame-rate cap so it leaves the CPU some air.
Loading (weights, the image) happens in the worker too; a failure is kept for the
window to report, and the window falls back to its own avatar.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

Render = Callable[[np.ndarray], np.ndarray]  # pose vector → (H, W, 4) uint8 RGBA, straight alpha


@dataclass(frozen=True)
class RenderedFrame:
    seq: int  # grows by one per rendered frame
    rgba: np.ndarray  # (H, W, 4) uint8, premultiplied alpha (what the window blends)
    pose: np.ndarray
    render_ms: float


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight alpha → premultiplied, as the transparent window composes."""
    out = rgba.copy()
    a = rgba[..., 3:4].astype(np.uint16)
    out[..., :3] = ((rgba[..., :3].astype(np.uint16) * a + 127) // 255).astype(np.uint8)
    return out


class FrameWorker:
    def __init__(self, load: Callable[[], Render], *, fps: float = 20.0, name: str = "avatar-frames",
                 clock: Callable[[], float] = time.monotonic):
        self._load = load
        self.period = 1.0 / max(1.0, fps)
        self._clock = clock  # the rate cap's time (a test steps its own)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pose: np.ndarray | None = None
        self._frame: RenderedFrame | None = None
        self.ready = threading.Event()  # loaded (or failed: see `error`)
        self.error: str | None = None
        self.rendered = 0
        self.skipped = 0  # poses replaced before the worker got to them
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def submit(self, pose: np.ndarray) -> None:
        """The pose the avatar should show now; an older one not yet drawn is dropped."""
        with self._lock:
            if self._pose is not None:
                self.skipped += 1
            self._pose = np.array(pose, dtype=np.float32, copy=True)
        self._wake.set()

    def latest(self) -> RenderedFrame | None:
        with self._lock:
            return self._frame

    def _run(self) -> None:
        try:
            render = self._load()
        except Exception as e:  # noqa: BLE001 - reported by the window, which falls back
            self.error = str(e) or type(e).__name__
            log.error("avatar: cannot load: %s", self.error)
            self.ready.set()
            return
        self.ready.set()
        next_at = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout=0.5)
            if self._stop.is_set():
                break
            wait = next_at - self._clock()
            if wait > 0:  # the frame-rate cap: poses that arrive meanwhile replace each other
                self._stop.wait(min(wait, self.period))
                continue
            with self._lock:
                pose, self._pose = self._pose, None
                self._wake.clear()
            if pose is None:
                continue
            started = time.perf_counter()
            try:
                rgba = premultiply(np.asarray(render(pose), dtype=np.uint8))
            except Exception as e:  # noqa: BLE001 - one bad frame must not end the avatar
                log.exception("avatar: a frame failed")
                self.error = f"a frame failed: {e}"
                continue
            ms = (time.perf_counter() - started) * 1000
            next_at = self._clock() + self.period
            with self._lock:
                seq = (self._frame.seq + 1) if self._frame is not None else 1
                self._frame = RenderedFrame(seq, rgba, pose, ms)
            self.rendered += 1
