"""The overlay window OBS captures: frameless, transparent (or a chroma-key colour),
always on top, click-through on demand, moved by dragging and scaled with the wheel;
where it was and how big is remembered.

Qt owns the main thread; the link and the audio clock (:class:`~overlay.core.OverlayCore`)
run on an asyncio loop in a second thread. Each frame the window samples the core (the
speech clock is thread-safe) and draws; hotkeys go to the bot through the core's loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QPainterPath, QPen, QSurfaceFormat
from PySide6.QtOpenGLWidgets import QOpenGLWidget

from .core import Frame, OverlayCore
from .vfx import VfxPlayer
from .vfx.player import ADDITIVE

log = logging.getLogger(__name__)

EXPRESSIONS = ("happy", "surprised", "relaxed", "sad", "angry")
# action → keys; "scene:<name>" keys may be added in the config (they switch OBS scenes)
DEFAULT_HOTKEYS: dict[str, str] = {
    "skip": "Ctrl+Shift+S",
    "mute": "Ctrl+Shift+M",
    "unmute": "Ctrl+Shift+U",
    "vfx:fireworks": "Ctrl+Shift+F",
    "vfx:confetti": "Ctrl+Shift+K",
    "vfx:hearts": "Ctrl+Shift+H",
    "vfx:sparkles": "Ctrl+Shift+P",
    "clickthrough": "Ctrl+Shift+T",
    "ontop": "Ctrl+Shift+O",
    "reload": "Ctrl+Shift+R",
    "captions": "Ctrl+Shift+C",
    "expression": "Ctrl+Shift+E",
    "help": "F1",
}


@dataclass
class WindowState:
    """What the window remembers between runs."""

    x: int = 100
    y: int = 100
    width: int = 540
    height: int = 720
    scale: float = 1.0
    on_top: bool = True
    click_through: bool = False

    @classmethod
    def load(cls, path: Path) -> WindowState:
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(self), indent=2), "utf-8")
        except OSError as e:
            log.warning("overlay: could not remember the window's place (%s)", e)


def surface_format() -> QSurfaceFormat:
    """OpenGL 3.3 core with an alpha channel: what per-pixel transparency needs."""
    fmt = QSurfaceFormat()
    fmt.setAlphaBufferSize(8)
    fmt.setDepthBufferSize(24)
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setSwapInterval(0)
    return fmt


class CoreThread:
    """The overlay core's asyncio loop, in its own thread."""

    def __init__(self, core: OverlayCore):
        self.core = core
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="overlay-core", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.core.run())
        except asyncio.CancelledError:
            pass
        except BaseException as e:  # noqa: BLE001 - reported by the window
            self.error = e
            log.error("overlay: the link stopped: %s", e)

    def start(self) -> None:
        self._thread.start()

    def submit(self, coro) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(self.loop)])
        self._thread.join(timeout=5)


class OverlayWindow(QOpenGLWidget):
    def __init__(self, core: OverlayCore, *, state_path: Path, fps: float = 30.0,
                 chroma_key: str | None = None, hotkeys: dict[str, str] | None = None,
                 captions: bool = True, draw_avatar: Callable[[Frame, int, int], None] | None = None,
                 avatar: Path | None = None, tha3: object | None = None):
        super().__init__()
        self.core = core
        core.sample_frames = False  # the window samples once per drawn frame
        self.state_path = state_path
        self.state = WindowState.load(state_path)
        self.chroma = QColor(chroma_key) if chroma_key else None
        self.fps = fps
        self.core.state.captions = captions
        self.draw_avatar = draw_avatar
        self.avatar_path = avatar
        self.renderer = None  # made in initializeGL, inside the GL context
        self.tha3_cfg = tha3  # avatar.tha3 settings when the avatar is a THA3 character
        self.tha3_view = None
        self.vfx = VfxPlayer()
        self.particle_renderers: dict[str, object] = {}  # per layer, made with its first effect
        self._vfx_clock: float | None = None
        self.avatar_error: str | None = None
        self.show_help = False
        self.last_frame: Frame | None = None
        self.sent: list[str] = []  # hotkeys sent to the bot (shown briefly, kept for tests)
        self._drag: QPoint | None = None
        self.runner = CoreThread(core)

        self.setWindowTitle(f"vtbot overlay — {core.link.name}")
        if self.chroma is None:
            self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self._apply_flags()
        self.setGeometry(self.state.x, self.state.y, self.state.width, self.state.height)
        self.hotkeys = {**DEFAULT_HOTKEYS, **(hotkeys or {})}
        # key combination (as Qt writes it) → action; matched in keyPressEvent, which a
        # frameless tool window receives even where the window manager gives it no focus
        self._keymap = {QKeySequence(keys).toString(): action for action, keys in self.hotkeys.items()}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    # -- life ----------------------------------------------------------------------------

    def start(self) -> None:
        self.runner.start()
        self.timer.start(max(1, round(1000 / self.fps)))
        self.show()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.timer.stop()
        if self.renderer is not None or self.particle_renderers or self.tha3_view is not None:
            self.makeCurrent()
            for r in (self.renderer, self.tha3_view, *self.particle_renderers.values()):
                if r is not None:
                    r.close()  # type: ignore[attr-defined]
            self.doneCurrent()
            self.renderer = self.tha3_view = None
            self.particle_renderers.clear()
        self._remember()
        self.runner.stop()
        super().closeEvent(event)

    def _tick(self) -> None:
        actions = self.core.state.actions
        while actions:
            action = actions.popleft()
            if action.get("name") == "reload":
                self.reload_avatar()
        queue = self.core.state.vfx_queue
        while queue:
            self.vfx.play(queue.popleft())
        self.last_frame = self.core.frame()
        self.update()

    # -- window behaviour ------------------------------------------------------------------

    def _apply_flags(self) -> None:
        flags = Qt.WindowType.FramelessWindowHint | Qt.WindowType.Tool
        if self.state.on_top:
            flags |= Qt.WindowType.WindowStaysOnTopHint
        if self.state.click_through:
            flags |= Qt.WindowType.WindowTransparentForInput
        visible = self.isVisible()
        self.setWindowFlags(flags)
        if visible:
            self.show()

    def trigger(self, action: str) -> None:
        """A hotkey: local toggles act here; the rest go to the bot like chat commands."""
        if action == "clickthrough":
            self.state.click_through = not self.state.click_through
            self._apply_flags()
        elif action == "ontop":
            self.state.on_top = not self.state.on_top
            self._apply_flags()
        elif action == "help":
            self.show_help = not self.show_help
        elif action == "captions":
            self.core.state.captions = not self.core.state.captions
        elif action == "expression":
            self._cycle_expression()
        else:
            name, _, args = action.partition(":")
            self.sent.append(action)
            self.runner.submit(self._send(name, args))
        self.update()

    def _cycle_expression(self) -> None:
        """The next emotion, held for a few seconds (then back to neutral)."""
        self._expression = (getattr(self, "_expression", -1) + 1) % len(EXPRESSIONS)
        name = EXPRESSIONS[self._expression]
        self.expression_shown = name
        self.core.express(name, 1.0, hold_s=3.0)

    async def _send(self, name: str, args: str) -> None:
        try:
            result = await self.core.hotkey(name, args)
        except (ConnectionError, asyncio.TimeoutError) as e:
            log.warning("overlay: %s not sent: %s", name, e or "no answer")
            return
        if result is not None and not result.get("ok"):
            log.info("overlay: %s: %s", name, result.get("message"))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        combo = QKeySequence(event.keyCombination()).toString()
        action = self._keymap.get(combo)
        if action is None:
            super().keyPressEvent(event)
            return
        self.trigger(action)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = event.globalPosition().toPoint() - self.frameGeometry().topLeft()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is not None:
            self.move(event.globalPosition().toPoint() - self._drag)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._drag = None
        self._remember()

    def wheelEvent(self, event) -> None:  # noqa: N802
        """The wheel grows or shrinks the window (and the avatar with it) about its centre."""
        step = 1.1 if event.angleDelta().y() > 0 else 1 / 1.1
        scale = min(4.0, max(0.25, self.state.scale * step))
        step = scale / self.state.scale
        self.state.scale = scale
        g = self.geometry()
        w, h = max(120, round(g.width() * step)), max(160, round(g.height() * step))
        self.setGeometry(g.center().x() - w // 2, g.center().y() - h // 2, w, h)
        self._remember()
        self.update()

    def _remember(self) -> None:
        g = self.geometry()
        self.state.x, self.state.y, self.state.width, self.state.height = g.x(), g.y(), g.width(), g.height()
        self.state.save(self.state_path)

    # -- drawing ---------------------------------------------------------------------------

    def initializeGL(self) -> None:  # noqa: N802
        from OpenGL import GL

        log.info("overlay: OpenGL %s on %s", GL.glGetString(GL.GL_VERSION).decode(),
                 GL.glGetString(GL.GL_RENDERER).decode())
        if self.tha3_cfg is not None and self.draw_avatar is None:
            self._start_tha3()
        elif self.avatar_path is not None and self.draw_avatar is None:
            self._load_avatar(self.avatar_path)

    def _start_tha3(self) -> None:
        """The THA3 character; if it cannot load, the VRM avatar takes its place."""
        from .tha3_view import Tha3View

        self.tha3_view = view = Tha3View(self.tha3_cfg)
        view.start()

        def draw(frame: Frame, width: int, height: int) -> None:
            failed = view.failed
            if failed is not None:
                self.avatar_error = failed
                log.error("overlay: cannot show the THA3 avatar (%s); showing the default avatar", failed)
                view.close()
                self.tha3_view, self.draw_avatar = None, None
                if self.avatar_path is not None:
                    self._load_avatar(self.avatar_path)
                return
            ratio = self.devicePixelRatio()
            view.draw(frame, int(width * ratio), int(height * ratio))

        self.draw_avatar = draw
        log.info("overlay: THA3 avatar from %s (loading)", getattr(self.tha3_cfg, "image", None))

    def _load_avatar(self, path: Path) -> None:
        """The VRM, drawn every frame with the mouth, expressions, pose and gaze."""
        from avatar.render import AvatarRenderer
        from avatar.vrm import VrmError, load_vrm

        try:
            model = load_vrm(path)
        except (VrmError, OSError) as e:
            self.avatar_error = str(e)
            log.error("overlay: cannot show the avatar: %s", e)
            return
        self.renderer = AvatarRenderer(model)
        started = self.core.clock.cursor / max(1, self.core.clock.rate)
        last_draw: list[float] = []

        def draw(frame: Frame, width: int, height: int) -> None:
            ratio = self.devicePixelRatio()
            life = frame.life
            now = time.monotonic()
            dt = now - last_draw[0] if last_draw else None  # the hair's physics runs on wall time
            last_draw[:] = [now]
            self.renderer.draw(int(width * ratio), int(height * ratio), expressions=frame.expressions(),
                               bone_rotations=life.bones if life is not None else None,
                               look_at=life.look_at if life is not None else None,
                               time_s=frame.t - started, dt=dt)

        self.draw_avatar = draw
        log.info("overlay: avatar %s (%s)", model.meta.name or path.name, model.version)

    def reload_avatar(self) -> None:
        self.makeCurrent()
        if self.renderer is not None:
            self.renderer.close()
        if self.tha3_view is not None:
            self.tha3_view.close()
        self.renderer, self.tha3_view, self.draw_avatar = None, None, None
        self.avatar_error = None
        if self.tha3_cfg is not None:
            self._start_tha3()
        elif self.avatar_path is not None:
            self._load_avatar(self.avatar_path)
        self.doneCurrent()

    def paintGL(self) -> None:  # noqa: N802
        from OpenGL import GL

        if self.chroma is not None:
            GL.glClearColor(self.chroma.redF(), self.chroma.greenF(), self.chroma.blueF(), 1.0)
        else:
            GL.glClearColor(0.0, 0.0, 0.0, 0.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        frame = self.last_frame
        self._step_effects()
        self._draw_effects("back")
        if self.draw_avatar is not None:
            self.draw_avatar(frame or Frame(0.0, {}, ""), self.width(), self.height())
        self._draw_effects("front")
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if frame is not None and frame.caption and self.core.state.captions:
            self._caption(painter, frame.caption)
        if self.show_help:
            self._help(painter)
        painter.end()

    def _step_effects(self) -> None:
        """Particles advance on wall time, once per drawn frame."""
        now = time.monotonic()
        dt = 0.0 if self._vfx_clock is None else now - self._vfx_clock
        self._vfx_clock = now
        if self.vfx.active and self.height() > 0:
            self.vfx.step(dt, self.width() / self.height())

    def _draw_effects(self, layer: str) -> None:
        pool = self.vfx.layers[layer]
        renderer = self.particle_renderers.get(layer)
        if renderer is None:
            if not pool.high:
                return
            from .vfx.gl_points import ParticleRenderer

            renderer = self.particle_renderers[layer] = ParticleRenderer()
        ratio = self.devicePixelRatio()
        renderer.draw(pool, int(self.width() * ratio), int(self.height() * ratio),  # type: ignore[attr-defined]
                      additive=ADDITIVE[layer])

    def _caption(self, painter: QPainter, text: str) -> None:
        font = QFont("DejaVu Sans", max(12, round(self.height() / 28)))
        font.setBold(True)
        painter.setFont(font)
        margin = 16
        box = QRectF(margin, self.height() * 0.72, self.width() - 2 * margin, self.height() * 0.26)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap
        bounds = painter.boundingRect(box, flags, text)
        path = QPainterPath()
        path.addRoundedRect(bounds.adjusted(-10, -6, 10, 6), 10, 10)
        painter.fillPath(path, QColor(20, 16, 32, 190))
        painter.setPen(QPen(QColor(255, 255, 255)))
        painter.drawText(box, flags, text)

    def _help(self, painter: QPainter) -> None:
        lines = ["vtbot overlay — hotkeys", ""] + [f"{keys:<16} {action}" for action, keys in self.hotkeys.items()]
        painter.setFont(QFont("DejaVu Sans Mono", 11))
        h = 20 * len(lines) + 20
        box = QRectF(12, 12, min(self.width() - 24, 380), h)
        path = QPainterPath()
        path.addRoundedRect(box, 10, 10)
        painter.fillPath(path, QColor(12, 12, 20, 220))
        painter.setPen(QPen(QColor(235, 235, 245)))
        for i, line in enumerate(lines):
            painter.drawText(QRectF(box.x() + 14, box.y() + 10 + 20 * i, box.width() - 20, 20),
                             Qt.AlignmentFlag.AlignLeft, line)
