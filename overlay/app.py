"""Starting the overlay: the window when there is a display, else the core alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .core import OverlayCore


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("win32", "darwin")


def default_state_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vtbot" / "overlay-window.json"


def run_window(core: OverlayCore, *, fps: float, chroma_key: str | None, captions: bool,
               hotkeys: dict[str, str] | None = None, state_path: Path | None = None,
               avatar: Path | None = None, tha3: object | None = None) -> int:
    from PySide6.QtGui import QSurfaceFormat
    from PySide6.QtWidgets import QApplication

    from .window import OverlayWindow, surface_format

    QSurfaceFormat.setDefaultFormat(surface_format())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = OverlayWindow(core, state_path=state_path or default_state_path(), fps=fps,
                           chroma_key=chroma_key, captions=captions, hotkeys=hotkeys, avatar=avatar,
                           tha3=tha3)
    window.start()
    code = app.exec()
    return code
