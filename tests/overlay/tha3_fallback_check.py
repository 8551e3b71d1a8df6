"""Run under Xvfb by test_window.py: an overlay window told to show a THA3 character
it cannot load (here: no torch, or no image) falls back to the default VRM avatar and
says why. Prints one JSON object."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtGui import QSurfaceFormat
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from avatar.default import default_avatar_path
from bot.config.models import Tha3Config
from overlay.core import OverlayCore
from overlay.window import OverlayWindow, surface_format

out = Path(sys.argv[1])
QSurfaceFormat.setDefaultFormat(surface_format())
app = QApplication([])
core = OverlayCore("ws://127.0.0.1:9/link", "unused-token-0123456789", play=False)
window = OverlayWindow(core, state_path=out / "state.json", fps=30, avatar=default_avatar_path(),
                       tha3=Tha3Config(image=Path(sys.argv[2]) if len(sys.argv) > 2 else None))
window.start()
end = time.monotonic() + 20
while window.renderer is None and time.monotonic() < end:
    QTest.qWait(50)
QTest.qWait(300)
img = window.grabFramebuffer()
img.save(str(out / "fallback.png"))
c = img.pixelColor(img.width() // 2, img.height() // 3)
print(json.dumps({"avatar_error": window.avatar_error, "vrm_drawn": window.renderer is not None,
                  "face": [c.red(), c.green(), c.blue(), c.alpha()], "tha3_view": window.tha3_view is not None}))
window.close()
app.quit()
