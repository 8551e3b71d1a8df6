"""The frame worker: the window never waits for a slow avatar; the newest pose wins,
the rate cap holds, and load or frame failures are reported, not fatal."""

from __future__ import annotations

import time

import numpy as np

from overlay.frame_worker import FrameWorker, premultiply


def wait(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.005)
    return pred()


def slow_render(seen, delay=0.03):
    def render(pose):
        seen.append(float(pose[0]))
        time.sleep(delay)
        return np.full((8, 8, 4), int(pose[0]) % 256, np.uint8)
    return render


def test_the_newest_pose_wins_and_old_ones_are_skipped():
    seen: list[float] = []
    worker = FrameWorker(lambda: slow_render(seen), fps=1000)
    worker.start()
    assert worker.ready.wait(5) and worker.error is None
    for i in range(50):
        worker.submit(np.array([i], np.float32))
        time.sleep(0.002)
    assert wait(lambda: worker.latest() is not None and worker.latest().pose[0] == 49)
    worker.stop()
    assert seen[-1] == 49 and len(seen) < 50 and worker.skipped > 0
    assert seen == sorted(seen)  # never an older pose after a newer one
    frame = worker.latest()
    assert frame.rgba.shape == (8, 8, 4) and frame.seq == worker.rendered and frame.render_ms >= 25


def test_the_frame_rate_cap_holds():
    seen: list[float] = []
    worker = FrameWorker(lambda: slow_render(seen, delay=0.0), fps=10)
    worker.start()
    worker.ready.wait(5)
    end = time.monotonic() + 1.0
    i = 0
    while time.monotonic() < end:
        worker.submit(np.array([i], np.float32))
        i += 1
        time.sleep(0.005)
    worker.stop()
    assert 5 <= worker.rendered <= 12  # ~10 per second, not one per submitted pose
    assert i > 100


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
