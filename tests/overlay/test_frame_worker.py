"""The frame worker: the window never waits for a slow avatar; the newest pose wins,
the rate cap holds, and load or frame failures are reported, not fatal."""

from __future__ import annotations

import threading
import time

import numpy as np

from overlay.frame_worker import FrameWorker, premultiply


def wait(pred, timeout=30.0):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.005)
    return pred()


class StepClock:
    """The worker's rate-cap clock, moved only by the test; counts the worker's looks."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.reads += 1
            return self.now


def instant_render(seen):
    def render(pose):
        seen.append(float(pose[0]))
        return np.full((8, 8, 4), int(pose[0]) % 256, np.uint8)
    return render


def test_the_newest_pose_wins_and_old_ones_are_skipped():
    """Poses that arrive while a frame renders replace each other: only the newest is drawn."""
    seen: list[float] = []
    busy, release = threading.Event(), threading.Event()
    inner_ms: list[float] = []

    def load():
        def render(pose):
            seen.append(float(pose[0]))
            began = time.perf_counter()
            if pose[0] == 0:  # the first frame renders until the test lets it finish
                busy.set()
                release.wait(30)
            inner_ms.append((time.perf_counter() - began) * 1000)
            return np.full((8, 8, 4), int(pose[0]) % 256, np.uint8)
        return render

    worker = FrameWorker(load, fps=1000)
    worker.start()
    assert worker.ready.wait(5) and worker.error is None
    worker.submit(np.array([0], np.float32))
    assert busy.wait(5)
    for i in range(1, 50):  # all while pose 0 is being rendered
        worker.submit(np.array([i], np.float32))
    release.set()
    assert wait(lambda: worker.latest() is not None and worker.latest().pose[0] == 49)
    worker.stop()
    assert seen == [0, 49] and worker.skipped == 48  # never an older pose after a newer one
    frame = worker.latest()
    assert frame.rgba.shape == (8, 8, 4) and frame.seq == worker.rendered == 2
    assert frame.render_ms >= inner_ms[-1]  # the worker times the whole render


def test_the_frame_rate_cap_holds():
    """Within one period of the worker's clock no second frame is drawn, however many
    poses arrive; once the clock moves on, the newest is. The clock is the test's own."""
    seen: list[float] = []
    clock = StepClock()
    worker = FrameWorker(lambda: instant_render(seen), fps=10, clock=clock)
    worker.start()
    assert worker.ready.wait(5)
    worker.submit(np.array([0], np.float32))
    assert wait(lambda: worker.rendered == 1)
    for i in range(1, 51):
        worker.submit(np.array([i], np.float32))
    looked = clock.reads
    # the worker has looked at the cap three times with a pose waiting, and held back
    assert wait(lambda: clock.reads >= looked + 3)
    assert worker.rendered == 1 and seen == [0]
    clock.now += 0.1  # one period (10 fps) later
    assert wait(lambda: worker.rendered == 2)
    worker.stop()
    assert seen == [0, 50] and worker.skipped == 49  # one frame per period, not one per pose


def test_a_load_failure_is_reported():
    def broken():
        raise FileNotFoundError("THA3 weights not found in /nowhere")
    worker = FrameWorker(broken)
    worker.start()
    assert worker.ready.wait(5)
    assert worker.error == "THA3 weights not found in /nowhere" and worker.latest() is None
    worker.stop()


def test_a_failed_frame_does_not_end_the_worker():
    def load():
        def render(pose):
            if pose[0] == 1:
                raise RuntimeError("bad pose")
            return np.zeros((2, 2, 4), np.uint8)
        return render
    worker = FrameWorker(load, fps=1000)
    worker.start()
    worker.ready.wait(5)
    worker.submit(np.array([1], np.float32))
    assert wait(lambda: worker.error is not None)
    worker.submit(np.array([2], np.float32))
    assert wait(lambda: worker.latest() is not None and worker.latest().pose[0] == 2)
    worker.stop()


def test_premultiply():
    rgba = np.array([[[200, 100, 50, 128], [255, 255, 255, 0], [10, 20, 30, 255]]], np.uint8)
    out = premultiply(rgba)
    assert out[0, 0].tolist() == [100, 50, 25, 128]
    assert out[0, 1].tolist() == [0, 0, 0, 0]
    assert out[0, 2].tolist() == [10, 20, 30, 255]
