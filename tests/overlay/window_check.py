"""Run under Xvfb by test_window.py: a real overlay window against a real link server.

Prints one JSON object with what it saw; saves screenshots next to ``out``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QSurfaceFormat, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from bot.link import protocol
from bot.link.server import LinkServer, LinkSink
from bot.speech.segment import Utterance
from overlay.core import OverlayCore
from overlay.window import OverlayWindow, surface_format
from tests.link.test_overlay_core import segment

TOKEN = "window-test-token-0123456789"
out = Path(sys.argv[1])
chroma = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
commands: list[tuple[str, str]] = []

bot_loop = asyncio.new_event_loop()
threading.Thread(target=bot_loop.run_forever, daemon=True).start()


async def on_command(name, args, who):
    commands.append((name, args))
    return True, name


def on_bot(coro, timeout=10):
    return asyncio.run_coroutine_threadsafe(coro, bot_loop).result(timeout)


server = LinkServer(TOKEN, port=0, persona="Mochi", on_command=on_command)
on_bot(server.start())

QSurfaceFormat.setDefaultFormat(surface_format())
app = QApplication([])
core = OverlayCore(server.url, TOKEN, name="window-test", play=False, fps=30)
from avatar.default import default_avatar_path  # noqa: E402

window = OverlayWindow(core, state_path=out.parent / "state.json", fps=30, chroma_key=chroma,
                       avatar=default_avatar_path())
window.start()
result: dict = {}


def wait(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        QTest.qWait(20)
    return pred()


def pixel(img, x, y):
    c = img.pixelColor(x, y)
    return [c.red(), c.green(), c.blue(), c.alpha()]


def alpha(img):
    import numpy as np
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return rows[:, : img.width(), 3].copy()


def newly_drawn(before, after):
    """Pixels drawn in `after` well away (30 px) from anything drawn in `before`: an
    effect, not the avatar's hair swinging a little."""
    from scipy.ndimage import binary_dilation

    a, b = alpha(before), alpha(after)
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    near_avatar = binary_dilation(a[:h, :w] > 0, iterations=30)
    return int(((b[:h, :w] > 0) & ~near_avatar).sum())


def scenario():
    result["connected"] = wait(lambda: core.link.connected.is_set())
    QTest.qWait(200)  # a few frames
    idle = window.grabFramebuffer()
    from overlay.vfx import VfxPlayer

    window.vfx = VfxPlayer(seed=5)  # the same show every run
    idle.save(str(out.parent / "idle.png"))
    result["idle_corner"] = pixel(idle, 5, 5)
    result["idle_center"] = pixel(idle, window.width() // 2, window.height() // 3)  # Mochi's face
    result["avatar_error"] = window.avatar_error
    sink = LinkSink(server)
    utt = Utterance("u1", "coolguy42", "hi")
    on_bot(sink.start(utt))
    seg = segment("u1", 0, seconds=2.0)
    seg.caption = "Hello chat, welcome to the stream!"
    on_bot(sink.segment(seg))
    result["caption_seen"] = wait(lambda: window.last_frame is not None and window.last_frame.caption != "")
    QTest.qWait(100)
    talking = window.grabFramebuffer()
    talking.save(str(out))
    w, h = talking.width(), talking.height()
    opaque = sum(1 for y in range(int(h * 0.7), h, 4) for x in range(0, w, 4)
                 if talking.pixelColor(x, y).alpha() == 255)
    result["caption_opaque_pixels"] = opaque
    result["talking_corner"] = pixel(talking, 5, 5)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    result["commands_arrived"] = wait(lambda: len(commands) >= 2)
    result["commands"] = commands
    result["skipped_locally"] = core.clock.idle
    before = window.geometry()
    wheel = QWheelEvent(QPointF(10, 10), QPointF(window.mapToGlobal(QPoint(10, 10))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(window, wheel)
    after = window.geometry()
    result["wheel_grew"] = [before.width(), before.height(), after.width(), after.height()]
    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    QTest.qWait(400)
    result["expression"] = [window.expression_shown, round(window.last_frame.expressions().get("happy", 0.0), 2)]
    idle = window.grabFramebuffer()
    from overlay.vfx import VfxPlayer

    window.vfx = VfxPlayer(seed=5)  # the same show every run
    bot_loop.call_soon_threadsafe(server.broadcast, protocol.vfx("fireworks", 3.0))
    result["vfx_started"] = wait(lambda: "fireworks" in window.vfx.started)
    result["vfx_burst"] = wait(lambda: any(r.burst for e in window.vfx.running for r in getattr(e, "rockets", []))
                               and window.vfx.count > 200, timeout=20)  # rockets climb, then burst
    QTest.qWait(150)
    bursting = window.grabFramebuffer()
    bursting.save(str(out.parent / "fireworks.png"))
    result["vfx_new_pixels"] = newly_drawn(idle, bursting)
    result["vfx_particles"] = window.vfx.count
    result["vfx_over"] = wait(lambda: not window.vfx.active, timeout=15)
    QTest.qWait(100)
    result["vfx_after_new_pixels"] = newly_drawn(idle, window.grabFramebuffer())
    QTest.keyClick(window, Qt.Key.Key_F1)
    QTest.qWait(100)
    window.grabFramebuffer().save(str(out.parent / "help.png"))
    result["help_shown"] = window.show_help
    window.close()
    result["state_saved"] = (out.parent / "state.json").exists()
    app.quit()


QTimer.singleShot(0, scenario)
app.exec()
on_bot(server.close())
print(json.dumps(result))
