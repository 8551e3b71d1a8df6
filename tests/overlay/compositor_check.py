"""Run by test_compositor.py on a composited Xvfb display: a blue "desktop" window and
the overlay window above it, showing a caption; prints "ready" when both are up, then
stays until killed."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette, QSurfaceFormat
from PySide6.QtWidgets import QApplication, QWidget

from overlay.core import Frame, OverlayCore
from overlay.window import OverlayWindow, surface_format

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
QTimer.singleShot(800, lambda: print("ready", flush=True))
app.exec()
