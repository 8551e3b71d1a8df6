"""Render one frame of an avatar to a transparent PNG, with no window on screen.

Two ways to get an OpenGL 3.3 core context: Qt (an off-screen surface on the
current display, the same stack the overlay window uses) and EGL (Mesa's
surfaceless platform: no X or Wayland display at all, e.g. on a server or in
CI). "auto" takes Qt when there is a display and EGL when there is none.
PyOpenGL binds to one of the two when it is first imported, so a process that
already loaded it for one cannot switch to the other. Either way the frame is
drawn into a multisampled framebuffer object, resolved, read back and saved with
premultiplied alpha converted to straight alpha.

    python -m avatar.render.snapshot MODEL.vrm --out x.png [--viseme aa]
        [--expression happy] [--size 540x720] [--look YAW PITCH] [--t-pose]
        [--backend auto|egl|qt]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ARMS_DOWN_DEG = 68.0  # from the T-pose avatars are modelled in to a relaxed stance


class NoContext(RuntimeError):
    """No OpenGL 3.3 core context could be made with the chosen backend."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    backend: str
    gl_renderer: str
    size: tuple[int, int]


# -- contexts --------------------------------------------------------------------------


def _opengl_platform() -> str | None:
    """'egl' or 'native' when PyOpenGL is already loaded (its platform is fixed then)."""
    if "OpenGL.platform" not in sys.modules:
        return None
    platform = getattr(sys.modules["OpenGL.platform"], "PLATFORM", None)
    return "egl" if type(platform).__name__ == "EGLPlatform" else "native"


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # Windows and macOS always have a window system (and no EGL here)
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def choose_backend(requested: str = "auto") -> str:
    """"egl" or "qt". Auto follows PyOpenGL if it is loaded already, else uses Qt
    where there is a display (what the overlay uses) and EGL where there is none."""
    if requested in ("egl", "qt"):
        return requested
    platform = _opengl_platform()
    if platform is not None:
        return "egl" if platform == "egl" else "qt"
    return "qt" if _has_display() else "egl"


@contextmanager
def egl_context() -> Iterator[str]:
    """A current EGL context on Mesa's surfaceless platform (or the default display)."""
    if _opengl_platform() == "native":
        raise NoContext("PyOpenGL was already loaded for the window system; EGL needs "
                        "PYOPENGL_PLATFORM=egl set before OpenGL is imported")
    os.environ["PYOPENGL_PLATFORM"] = "egl"
    try:
        from OpenGL import EGL, GL
    except (ImportError, AttributeError) as e:  # no libEGL on this machine
        raise NoContext(f"EGL is not available: {e}") from e
    display = _egl_display(EGL)
    major, minor = EGL.EGLint(), EGL.EGLint()
    if not EGL.eglInitialize(display, ctypes.pointer(major), ctypes.pointer(minor)):
        raise NoContext("eglInitialize failed")
    context = None
    try:
        config = _egl_config(EGL, display)
        if not EGL.eglBindAPI(EGL.EGL_OPENGL_API):
            raise NoContext("this EGL cannot bind desktop OpenGL")
        attrs = (EGL.EGLint * 7)(
            EGL.EGL_CONTEXT_MAJOR_VERSION, 3, EGL.EGL_CONTEXT_MINOR_VERSION, 3,
            EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
            EGL.EGL_NONE,
        )
        context = EGL.eglCreateContext(display, config, EGL.EGL_NO_CONTEXT, attrs)
        if not context:
            raise NoContext("eglCreateContext failed for OpenGL 3.3 core")
        if not EGL.eglMakeCurrent(display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, context):
            raise NoContext("eglMakeCurrent without a surface failed")
        yield GL.glGetString(GL.GL_RENDERER).decode(errors="replace")
    finally:
        EGL.eglMakeCurrent(display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        if context:
            EGL.eglDestroyContext(display, context)
        EGL.eglTerminate(display)


def _egl_display(EGL) -> object:  # noqa: N803 - the module's own name
    surfaceless = 0x31DD  # EGL_PLATFORM_SURFACELESS_MESA
    try:
        display = EGL.eglGetPlatformDisplayEXT(surfaceless, EGL.EGL_DEFAULT_DISPLAY, None)
    except Exception:  # noqa: BLE001 - the extension is optional; fall back below
        display = None
    if display:
        return display
    display = EGL.eglGetDisplay(EGL.EGL_DEFAULT_DISPLAY)
    if not display:
        raise NoContext("no EGL display")
    return display


def _egl_config(EGL, display: object) -> object:  # noqa: N803
    count = EGL.EGLint()
    config = EGL.EGLConfig()
    for surface in (EGL.EGL_PBUFFER_BIT, 0):
        attrs = [EGL.EGL_RED_SIZE, 8, EGL.EGL_GREEN_SIZE, 8, EGL.EGL_BLUE_SIZE, 8,
                 EGL.EGL_ALPHA_SIZE, 8, EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT]
        if surface:
            attrs += [EGL.EGL_SURFACE_TYPE, surface]
        attrs.append(EGL.EGL_NONE)
        array = (EGL.EGLint * len(attrs))(*attrs)
        if EGL.eglChooseConfig(display, array, ctypes.pointer(config), 1,
                               ctypes.pointer(count)) and count.value:
            return config
    raise NoContext("no EGL config with 8-bit RGBA for desktop OpenGL")


@contextmanager
def qt_context() -> Iterator[str]:
    """A current Qt context on an off-screen surface of the current display."""
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QSurfaceFormat

    platform_set = bool(os.environ.get("QT_QPA_PLATFORM"))
    if QGuiApplication.instance() is None and not (_has_display() or platform_set):
        raise NoContext("Qt needs a display (DISPLAY or WAYLAND_DISPLAY)")  # Qt would abort
    app = QGuiApplication.instance() or QGuiApplication(["vtbot-snapshot"])
    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setAlphaBufferSize(8)
    fmt.setDepthBufferSize(24)
    surface = QOffscreenSurface()
    surface.setFormat(fmt)
    surface.create()
    context = QOpenGLContext()
    context.setFormat(fmt)
    if not surface.isValid() or not context.create() or not context.makeCurrent(surface):
        raise NoContext(f"Qt could not make an OpenGL 3.3 context on {app.platformName()!r}")
    try:
        got = context.format()
        if (got.majorVersion(), got.minorVersion()) < (3, 3):
            raise NoContext(f"Qt gave OpenGL {got.majorVersion()}.{got.minorVersion()}, not 3.3")
        from OpenGL import GL

        yield GL.glGetString(GL.GL_RENDERER).decode(errors="replace")
    finally:
        context.doneCurrent()
        surface.destroy()


@contextmanager
def gl_context(backend: str = "auto") -> Iterator[tuple[str, str]]:
    """(backend, GL renderer name) with a current context.

    There is no falling back from one backend to the other in one process: PyOpenGL
    binds to EGL or to the window system on first import and cannot switch.
    """
    chosen = choose_backend(backend)
    manager = egl_context() if chosen == "egl" else qt_context()
    try:
        with manager as renderer:
            yield chosen, renderer
    except NoContext as e:
        other = "qt" if chosen == "egl" else "egl"
        raise NoContext(f"{e} (backend {chosen}; try --backend {other})") from e


# -- off-screen frame ----------------------------------------------------------------


class OffscreenTarget:
    """A multisampled colour+depth framebuffer and a plain one to resolve into."""

    def __init__(self, width: int, height: int, samples: int = 4) -> None:
        from OpenGL import GL

        self.width, self.height = width, height
        max_samples = int(GL.glGetIntegerv(GL.GL_MAX_SAMPLES))
        self.samples = max(0, min(samples, max_samples))
        self._fbos: list[int] = []
        self._rbos: list[int] = []
        self.draw_fbo = self._make(self.samples)
        self.read_fbo = self._make(0) if self.samples else self.draw_fbo

    def _make(self, samples: int) -> int:
        from OpenGL import GL

        fbo = int(GL.glGenFramebuffers(1))
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
        for attachment, fmt in ((GL.GL_COLOR_ATTACHMENT0, GL.GL_RGBA8),
                                (GL.GL_DEPTH_STENCIL_ATTACHMENT, GL.GL_DEPTH24_STENCIL8)):
            rbo = int(GL.glGenRenderbuffers(1))
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rbo)
            if samples:
                GL.glRenderbufferStorageMultisample(GL.GL_RENDERBUFFER, samples, fmt,
                                                    self.width, self.height)
            else:
                GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, self.width, self.height)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, attachment, GL.GL_RENDERBUFFER, rbo)
            self._rbos.append(rbo)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise NoContext(f"framebuffer incomplete (0x{int(status):x})")
        self._fbos.append(fbo)
        return fbo

    def begin(self) -> None:
        """Bind and clear to transparent, as the overlay window does."""
        from OpenGL import GL

        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.draw_fbo)
        GL.glViewport(0, 0, self.width, self.height)
        GL.glClearColor(0.0, 0.0, 0.0, 0.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)

    def read(self) -> bytes:
        """RGBA8 premultiplied pixels, top row first."""
        from OpenGL import GL

        if self.read_fbo != self.draw_fbo:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.draw_fbo)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.read_fbo)
            GL.glBlitFramebuffer(0, 0, self.width, self.height, 0, 0, self.width, self.height,
                                 GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.read_fbo)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        raw = GL.glReadPixels(0, 0, self.width, self.height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        row = self.width * 4
        rows = [raw[i * row:(i + 1) * row] for i in range(self.height)]
        return b"".join(reversed(rows))  # GL's first row is the bottom one

    def delete(self) -> None:
        from OpenGL import GL

        GL.glDeleteFramebuffers(len(self._fbos), self._fbos)
        GL.glDeleteRenderbuffers(len(self._rbos), self._rbos)
        self._fbos, self._rbos = [], []


def save_png(pixels: bytes, width: int, height: int, out_png: Path) -> None:
    """Premultiplied RGBA rows to a PNG with straight alpha (Qt converts on save)."""
    from PySide6.QtGui import QImage

    image = QImage(pixels, width, height, width * 4, QImage.Format.Format_RGBA8888_Premultiplied)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out_png), "PNG"):
        raise OSError(f"could not write {out_png}")


def relaxed_arms() -> dict[str, tuple[float, float, float, float]]:
    """Upper arms lowered from the T-pose, as the overlay's idle life holds them."""
    from avatar.life import quat_from_euler

    return {"leftUpperArm": quat_from_euler(0.0, 0.0, -ARMS_DOWN_DEG),
            "rightUpperArm": quat_from_euler(0.0, 0.0, ARMS_DOWN_DEG)}


def snapshot(
    model_path: str | Path,
    out_png: str | Path,
    size: tuple[int, int] = (540, 720),
    viseme: str | None = None,
    expression: str | None = None,
    *,
    weights: dict[str, float] | None = None,
    look_at: tuple[float, float] | None = None,
    t_pose: bool = False,
    backend: str = "auto",
    samples: int = 4,
) -> Snapshot:
    """Draw `model_path` once (mouth shape `viseme`, emotion `expression`, both at
    full weight, plus any `weights`) and save it as a transparent PNG."""
    from avatar.vrm import load_vrm

    model = load_vrm(model_path)
    out = Path(out_png)
    expressions = dict(weights or {})
    for name in (viseme, expression):
        if name:
            expressions[name] = 1.0
    width, height = size
    with gl_context(backend) as (used, gl_renderer):
        from avatar.render.renderer import AvatarRenderer

        renderer = AvatarRenderer(model)
        target = OffscreenTarget(width, height, samples)
        try:
            target.begin()
            renderer.draw(width, height, expressions=expressions,
                          bone_rotations=None if t_pose else relaxed_arms(),
                          look_at=look_at, time_s=0.0)
            pixels = target.read()
        finally:
            renderer.close()
            target.delete()
    save_png(pixels, width, height, out)
    return Snapshot(out, used, gl_renderer, (width, height))


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 540x720, not {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError("each side must be 16 to 8192 pixels")
    return w, h


def main(argv: Sequence[str] | None = None) -> int:
    """`vtbot avatar snapshot`: returns the exit status (0 saved, 1 failed)."""
    parser = argparse.ArgumentParser(prog="vtbot avatar snapshot",
                                     description="Render an avatar to a transparent PNG.")
    parser.add_argument("model", type=Path, help="a .vrm, .glb or .gltf file")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--viseme", help="mouth shape at full weight: aa, ih, ou, ee or oh")
    parser.add_argument("--expression", help="an expression at full weight, e.g. happy or blink")
    parser.add_argument("--size", type=_size, default=(540, 720), help="WxH, default 540x720")
    parser.add_argument("--look", type=float, nargs=2, metavar=("YAW", "PITCH"),
                        help="gaze in degrees (yaw > 0 to the avatar's left, pitch > 0 down)")
    parser.add_argument("--t-pose", action="store_true", help="keep the arms out as modelled")
    parser.add_argument("--backend", choices=("auto", "egl", "qt"), default="auto",
                        help="EGL needs no display; Qt uses the current one")
    args = parser.parse_args(argv)
    from avatar.vrm import VrmError

    try:
        shot = snapshot(args.model, args.out, args.size, args.viseme, args.expression,
                        look_at=tuple(args.look) if args.look else None,  # type: ignore[arg-type]
                        t_pose=args.t_pose, backend=args.backend)
    except (VrmError, NoContext, OSError) as e:
        print(f"avatar snapshot: {e}", file=sys.stderr)
        return 1
    print(f"saved {shot.path} ({shot.size[0]}x{shot.size[1]}, {shot.backend}: {shot.gl_renderer})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
