"""Run by test_compositor.py under xvfb-run: starts a compositing manager, shows a blue
"desktop" window and the overlay window above it with a caption, screenshots the root
window with ImageMagick's `import`, then quits. Argv: state file, screenshot path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette, QSurfaceFormat
from PySide6.QtWidgets import QApplication, QWidget

from overlay.core import Frame, OverlayCore
from overlay.window import OverlayWindow, surface_format

compositor = subprocess.Popen(["xcompmgr", "-c"], stderr=subprocess.DEVNULL)
QSurfaceFormat.setDefaultFormat(surface_format())
app = QApplication([])
desktop = QWidget()
desktop.setGeometry(0, 0, 1280, 800)
palette = desktop.palette()
palette.setColor(QPalette.ColorRole.Window, QColor(40, 120, 200))
desktop.setPalette(palette)
desktop.setAutoFillBackground(True)
desktop.show()
core = OverlayCore("ws://127.0.0.1:9/link", "unused-token-0123456789", play=False)
window = OverlayWindow(core, state_path=Path(sys.argv[1]), fps=30)
window.setGeometry(100, 100, 400, 500)
window.last_frame = Frame(0.0, {}, "Hello from the overlay!")
window.show()
shot: list[subprocess.Popen] = []


def take_shot() -> None:
    # `import` runs beside the event loop, so the windows keep drawing while it reads.
    shot.append(subprocess.Popen(["import", "-window", "root", sys.argv[2]]))
    poll.start(50)


def check_done() -> None:
    if shot[0].poll() is not None:
        poll.stop()
        app.exit(shot[0].returncode)


poll = QTimer()
poll.timeout.connect(check_done)
QTimer.singleShot(1500, take_shot)
code = app.exec()
compositor.kill()
sys.exit(code)
