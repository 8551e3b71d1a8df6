"""The OpenGL avatar renderer, checked on its pixels.

Pose, framing and morph blending are plain numpy and are tested here directly.
Drawing needs a GL context, so it runs in a child process (this file run as a
script): once under Xvfb with Qt's off-screen surface and once with no display
at all through EGL, each rendering every sample model to PNGs that the tests
then read back. A third child draws inside a QOpenGLWidget the way the overlay
does, with a QPainter after the avatar.
"""

from __future__ import annotations

import ctypes.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
VRM = ROOT / "tests" / "assets" / "vrm"
MOCHI = ROOT / "avatar" / "data" / "mochi.vrm"
CUBE = VRM / "three-vrm-core-cube" / "cube.gltf"
SPHERE_V0 = VRM / "three-vrm_sphere.vrm"
ROBOT = VRM / "vrm-addon-for-blender" / "debug_robot_vrm1.vrm"
SIMPLE_MORPH_V0 = VRM / "vrm-addon-for-blender" / "simple_morph_vrm0.vrm"
MODELS = sorted(p for p in VRM.rglob("*") if p.suffix in (".vrm", ".gltf")) + [MOCHI]
SIZE = (360, 480)

# (name, model, expressions, options) for the child to draw.
SHOTS = [
    *((f"model-{i}", str(p), {}, {"t_pose": True}) for i, p in enumerate(MODELS)),
    ("cube", str(CUBE), {}, {}),
    ("cube-aa", str(CUBE), {"aa": 1.0}, {}),
    ("cube-blink", str(CUBE), {"blink": 1.0}, {}),
    ("cube-again", str(CUBE), {}, {}),  # same renderer, after the morphs went back to rest
    ("mochi", str(MOCHI), {}, {}),
    ("mochi-blink", str(MOCHI), {"blink": 1.0}, {}),
    ("mochi-aa", str(MOCHI), {"aa": 1.0}, {}),
    ("mochi-look", str(MOCHI), {}, {"look_at": [25.0, 0.0]}),
    ("sphere", str(SPHERE_V0), {}, {"t_pose": True, "size": [400, 400]}),  # wider than tall
    ("robot", str(ROBOT), {}, {}),
    ("mochi-wide", str(MOCHI), {}, {"size": [640, 360]}),
]


# -- pose, framing and morphs without GL ------------------------------------------------


@pytest.fixture(scope="module")
def loaded():
    from avatar.vrm import load_vrm

    return {p: load_vrm(p) for p in (MOCHI, CUBE, SPHERE_V0, ROBOT, SIMPLE_MORPH_V0)}


def stage_position(poser, pose_world, bone):
    return pose_world[poser.model.humanoid[bone]][:3, 3]


@pytest.mark.parametrize("path", [MOCHI, SPHERE_V0, ROBOT])
def test_models_face_the_camera_on_plus_z_in_stage_space(loaded, path):
    from avatar.render.pose import Poser

    poser = Poser(loaded[path])
    world = poser.rest_world
    # Toes point the way an avatar faces: +Z after the stage turn, for 0.x and 1.0 alike.
    if "leftToes" in poser.model.humanoid:
        toes = stage_position(poser, world, "leftToes")
        assert toes[2] > stage_position(poser, world, "leftFoot")[2] + 0.01
    # ...and the avatar's left hand is on +X (the viewer's right).
    left, right = (stage_position(poser, world, h)[0] for h in ("leftHand", "rightHand"))
    assert left > right


@pytest.mark.parametrize("path", [MOCHI, SPHERE_V0, ROBOT])
def test_normalized_rotations_mean_the_same_on_0x_and_1_0(loaded, path):
    from avatar.life import quat_from_euler
    from avatar.render.pose import Poser

    poser = Poser(loaded[path])
    rest = poser.pose({}).world
    arms = poser.pose({}, {"leftUpperArm": quat_from_euler(0, 0, -60),
                           "rightUpperArm": quat_from_euler(0, 0, 60)}).world
    for hand in ("leftHand", "rightHand"):
        assert stage_position(poser, arms, hand)[1] < stage_position(poser, rest, hand)[1] - 0.05
    # A positive pitch nods the head forward: a point in front of the face goes down.
    nod = poser.pose({}, {"head": quat_from_euler(30, 0, 0)}).world
    head = poser.model.humanoid["head"]
    ahead = np.r_[rest[head][:3, 3] + (0.0, 0.0, 0.3), 1.0]  # in front of the face
    moved = nod[head] @ np.linalg.inv(rest[head]) @ ahead
    assert moved[1] < ahead[1] - 0.05 and abs(moved[0] - ahead[0]) < 1e-6


def test_look_at_turns_the_eye_bones_towards_the_avatars_left(loaded):
    from avatar.render.pose import Poser

    poser = Poser(loaded[MOCHI])
    eye = poser.model.humanoid["leftEye"]
    rest = poser.pose({}).world[eye][:3, :3] @ np.array([0.0, 0.0, 1.0])
    left = poser.pose({}, look_at=(30.0, 0.0)).world[eye][:3, :3] @ np.array([0.0, 0.0, 1.0])
    down = poser.pose({}, look_at=(0.0, 30.0)).world[eye][:3, :3] @ np.array([0.0, 0.0, 1.0])
    assert left[0] > rest[0] + 0.02 and down[1] < rest[1] - 0.02
    # The range map caps the turn (Mochi: 8 degrees at 90 in, so 30 in gives 2.67).
    assert math.degrees(math.atan2(left[0], left[2])) == pytest.approx(8 * 30 / 90, abs=0.05)


def test_look_at_by_expression_sets_look_weights_and_leaves_the_eyes(loaded):
    from dataclasses import replace

    from avatar.render.pose import Poser

    robot = loaded[ROBOT]
    model = replace(robot, look_at=replace(robot.look_at, type="expression"))
    poser = Poser(model)
    pose = poser.pose({}, look_at=(30.0, -10.0))  # to the avatar's left and up
    w = pose.mix.weights
    assert w["lookLeft"] > 0 and w["lookUp"] > 0 and w["lookRight"] == w["lookDown"] == 0
    assert not pose.changed  # no bone moved


def test_textures_decode_with_the_top_row_first():
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    from avatar.render.gpu import decode_image

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(QColor(0, 0, 255))
    for x in range(8):
        for y in range(4):
            image.setPixelColor(x, y, QColor(255, 0, 0))
    for fmt in ("PNG", "JPEG"):
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        assert image.save(buffer, fmt)
        pixels = decode_image(bytes(data))
        assert pixels.shape == (8, 8, 4)
        assert pixels[0, 0, 0] > 200 and pixels[0, 0, 2] < 60, fmt  # red on top, as glTF's v = 0
        assert pixels[7, 0, 2] > 200 and pixels[7, 0, 0] < 60, fmt
    assert decode_image(b"not an image") is None


def test_camera_frames_head_and_upper_body(loaded):
    from avatar.render.renderer import AvatarRenderer

    r = AvatarRenderer(loaded[MOCHI])
    view, proj, _ = r.camera.matrices(540, 720)
    world = r.poser.rest_world

    def ndc(bone):
        p = proj @ view @ np.r_[world[loaded[MOCHI].humanoid[bone]][:3, 3], 1.0]
        return p[:3] / p[3]

    head, hips = ndc("head"), ndc("hips")
    assert -0.2 < head[0] < 0.2 and 0.0 < head[1] < 0.8  # head centred, upper half
    assert -1.05 < hips[1] < -0.8  # cut at the hips
    assert r.camera.framing.humanoid


def test_morph_blend_touches_only_weighted_targets():
    from avatar.render.gpu import MorphData

    base = np.zeros((2, 3), np.float32)
    deltas = np.array([[1, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0]], np.float32)
    m = MorphData(base, np.tile([0, 0, 1], (2, 1)).astype(np.float32), deltas, None, False)
    pos, nrm = m.blend(np.array([0.5, 0.0], np.float32))
    assert pos[0].tolist() == [0.5, 0.0, 0.0] and nrm[0].tolist() == [0.0, 0.0, 1.0]
    pos, _ = m.blend(np.array([0.5, 1.0, 7.0], np.float32))  # extra weights are ignored
    assert pos[0].tolist() == [0.5, 2.0, 0.0]


# -- drawing, in a child process ----------------------------------------------------------


def run_child(mode: str, out: Path, *, display: bool) -> dict:
    env = {**os.environ, "LIBGL_ALWAYS_SOFTWARE": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(Path(__file__).resolve()), mode, str(out)]
    if display:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24 +extension GLX", *cmd]
    else:
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
    r = subprocess.run(cmd, cwd=out, env=env, capture_output=True, text=True, timeout=240,
                       check=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def read_png(path: Path) -> np.ndarray:
    """RGBA8 with straight alpha, as the PNG stores it."""
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return raw.reshape(h, image.bytesPerLine())[:, : w * 4].reshape(h, w, 4).copy()


def opaque(img: np.ndarray) -> np.ndarray:
    return img[..., 3] == 255


def changed_pixels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 24


def assert_silhouette(img: np.ndarray, name: str) -> None:
    h, w = img.shape[:2]
    for y, x in ((0, 0), (0, w - 3), (h - 3, 0), (h - 3, w - 3)):
        assert img[y:y + 3, x:x + 3, 3].max() == 0, f"{name}: corner ({x}, {y}) is not transparent"
    centre = img[h // 4: 3 * h // 4, w // 4: 3 * w // 4]
    assert opaque(centre).sum() > 0.05 * centre.shape[0] * centre.shape[1], name
    alpha = img[..., 3]
    assert ((alpha == 0) | (alpha == 255)).mean() > 0.97, f"{name}: too much partial alpha"


def check_shots(got: dict, out: Path) -> None:
    # Textures got their glTF sampler's filters and wrap modes (or the defaults).
    assert got["textures_checked"] >= 10 and got["sampler_problems"] == []
    shots = {name: read_png(out / f"{name}.png") for name in got["shots"]}
    for i, path in enumerate(MODELS):
        assert_silhouette(shots[f"model-{i}"], path.name)

    # The cube's aa opens its red mouth; blink flattens its black eyes; nothing else moves.
    cube, aa, blink = shots["cube"], shots["cube-aa"], shots["cube-blink"]

    def red(img):
        return ((img[..., 0] > 200) & (img[..., 1] < 60) & opaque(img)).sum()

    def black(img):
        return ((img[..., :3].max(axis=2) < 40) & opaque(img)).sum()

    assert red(aa) > 2 * red(cube) > 0
    assert 0 < black(blink) < 0.6 * black(cube)
    mouth_rows = np.nonzero(changed_pixels(cube, aa).any(axis=1))[0]
    eye_rows = np.nonzero(changed_pixels(cube, blink).any(axis=1))[0]
    assert len(mouth_rows) and len(eye_rows) and eye_rows.max() < mouth_rows.min()
    assert np.array_equal(shots["cube-again"], cube)  # morphs went back to rest

    # Mochi: a blink hides the teal irises, aa opens the mouth, the gaze moves the irises.
    mochi = shots["mochi"]
    def teal(img):
        return ((img[..., 2] > 150) & (img[..., 1] > 150) & (img[..., 0] < 150)).sum()

    assert teal(mochi) > 200 and teal(shots["mochi-blink"]) < 0.1 * teal(mochi)
    assert changed_pixels(mochi, shots["mochi-aa"]).sum() > 50
    ys, xs = np.nonzero(changed_pixels(mochi, shots["mochi-look"]))
    assert len(xs) > 20 and ys.max() < mochi.shape[0] * 0.5  # only the eyes, up in the face
    # Lit from the front: the face is bright and shows the skin colour, not a shadow.
    face = mochi[int(mochi.shape[0] * 0.30): int(mochi.shape[0] * 0.40),
                 int(mochi.shape[1] * 0.42): int(mochi.shape[1] * 0.58), :3].reshape(-1, 3)
    r_, g_, b_ = np.median(face, axis=0)
    assert r_ > 230 and g_ > 200 and r_ >= g_ >= b_

    # The VRM 0.x skinned sphere at rest: a round, shaded disc lit from the upper left.
    sphere = shots["sphere"]
    ys, xs = np.nonzero(opaque(sphere))
    height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
    assert 0.85 < width / height < 1.15
    assert 0.7 < len(xs) / (width * height) < 0.85  # pi / 4 of its box
    cy, cx = int(ys.mean()), int(xs.mean())
    lum = sphere[..., :3].astype(int).sum(axis=2)
    upper_left = lum[cy - height // 3: cy - height // 6, cx - width // 3: cx - width // 6]
    lower_right = lum[cy + height // 6: cy + height // 3, cx + width // 6: cx + width // 3]
    assert upper_left.mean() > lower_right.mean() + 10

    # The debug robot: its unlit red, green and blue axis boxes all show.
    robot = shots["robot"][opaque(shots["robot"])][:, :3].astype(int)
    for channel in range(3):
        others = [c for c in range(3) if c != channel]
        pure = (robot[:, channel] > 200) & (robot[:, others].max(axis=1) < 60)
        assert pure.sum() > 500

    wide = shots["mochi-wide"]
    assert wide.shape[:2] == (360, 640)
    assert_silhouette(wide, "mochi 640x360")


@pytest.mark.skipif(shutil.which("xvfb-run") is None,
                    reason="xvfb-run missing: scripts/setup.sh test installs it")
def test_every_model_draws_under_xvfb_with_qt(tmp_path):
    got = run_child("shots", tmp_path, display=True)
    assert got["backend"] == "qt"
    check_shots(got, tmp_path)


@pytest.mark.skipif(ctypes.util.find_library("EGL") is None, reason="no libEGL")
def test_every_model_draws_headless_with_egl(tmp_path):
    got = run_child("shots", tmp_path, display=False)
    assert got["backend"] == "egl" and "llvmpipe" in got["renderer"]
    check_shots(got, tmp_path)


@pytest.mark.skipif(shutil.which("xvfb-run") is None,
                    reason="xvfb-run missing: scripts/setup.sh test installs it")
def test_draws_inside_the_overlay_widget_and_qpainter_still_works(tmp_path):
    got = run_child("widget", tmp_path, display=True)
    img = read_png(tmp_path / "widget.png")
    h, w = img.shape[:2]
    assert img[2, 2, 3] == 0 and img[h - 3, w - 3, 3] == 0  # transparent where nothing is
    assert img[h // 3, w // 2, 3] == 255  # the avatar's face
    caption = img[h - 40: h - 10, 20: w - 20]
    assert ((caption[..., :3].min(axis=2) > 200) & (caption[..., 3] == 255)).sum() > 30
    assert got["gl_errors"] == []


@pytest.mark.skipif(ctypes.util.find_library("EGL") is None, reason="no libEGL")
def test_snapshot_command_without_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "x.png"
    command = [sys.executable, "-m", "avatar.render.snapshot"]
    r = subprocess.run([*command, str(MOCHI), "--out", str(out), "--viseme", "aa",
                        "--expression", "happy", "--size", "200x260"],
                       env=env, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert "egl" in r.stdout
    img = read_png(out)
    assert img.shape[:2] == (260, 200)
    assert_silhouette(img, "snapshot")
    bad = subprocess.run([*command, str(tmp_path / "none.vrm"), "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1 and "none.vrm" in bad.stderr


# -- the child ------------------------------------------------------------------------------


def child_shots(out: Path) -> None:
    from avatar.render.snapshot import OffscreenTarget, gl_context, relaxed_arms, save_png
    from avatar.vrm import load_vrm

    names = []
    with gl_context("auto") as (backend, renderer_name):
        from avatar.render.renderer import AvatarRenderer

        renderers: dict[str, AvatarRenderer] = {}
        for name, path, expressions, options in SHOTS:
            if path not in renderers:
                renderers[path] = AvatarRenderer(load_vrm(path))
            w, h = options.get("size", SIZE)
            target = OffscreenTarget(w, h)
            target.begin()
            renderers[path].draw(
                w, h, expressions=expressions,
                bone_rotations=None if options.get("t_pose") else relaxed_arms(),
                look_at=tuple(options["look_at"]) if "look_at" in options else None, time_s=0.0)
            save_png(target.read(), w, h, out / f"{name}.png")
            target.delete()
            names.append(name)
        sampler_problems, checked = [], 0
        for r in renderers.values():
            for (index, _srgb), handle in r.gpu.textures.loaded().items():
                checked += 1
                tex = r.model.textures[index]
                want = r.model.samplers[tex.sampler] if tex.sampler is not None else None
                got = texture_parameters(handle)
                expected = (getattr(want, "mag_filter", None) or 9729,
                            getattr(want, "min_filter", None) or 9987,
                            getattr(want, "wrap_s", 10497), getattr(want, "wrap_t", 10497))
                if got != expected:
                    sampler_problems.append([r.model.path.name, index, got, expected])
            r.close()
    print(json.dumps({"backend": backend, "renderer": renderer_name, "shots": names,
                      "textures_checked": checked, "sampler_problems": sampler_problems}))


def texture_parameters(handle: int) -> tuple[int, int, int, int]:
    from OpenGL import GL

    GL.glBindTexture(GL.GL_TEXTURE_2D, handle)
    values = tuple(int(GL.glGetTexParameteriv(GL.GL_TEXTURE_2D, p)) for p in (
        GL.GL_TEXTURE_MAG_FILTER, GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_WRAP_S,
        GL.GL_TEXTURE_WRAP_T))
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    return values  # type: ignore[return-value]


def child_widget(out: Path) -> None:
    from OpenGL import GL
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QSurfaceFormat
    from PySide6.QtOpenGLWidgets import QOpenGLWidget
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from avatar.render.renderer import AvatarRenderer
    from avatar.render.snapshot import relaxed_arms
    from avatar.vrm import load_vrm
    from overlay.window import surface_format

    QSurfaceFormat.setDefaultFormat(surface_format())
    app = QApplication([])
    errors: list[int] = []

    class Widget(QOpenGLWidget):
        def __init__(self) -> None:
            super().__init__()
            self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
            self.renderer = AvatarRenderer(load_vrm(MOCHI))
            self.frames = 0

        def paintGL(self) -> None:  # noqa: N802 - Qt's name
            GL.glClearColor(0.0, 0.0, 0.0, 0.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
            mouth = {"aa": 1.0} if self.frames % 2 else {}
            self.renderer.draw(self.width(), self.height(), expressions=mouth,
                               bone_rotations=relaxed_arms(), time_s=0.0)
            errors.extend(e for e in [GL.glGetError()] if e)
            self.frames += 1
            painter = QPainter(self)
            painter.setPen(QColor(255, 255, 255))
            painter.setFont(QFont("DejaVu Sans", 18, QFont.Weight.Bold))
            painter.drawText(20, self.height() - 14, "Hello chat!")
            painter.end()

    widget = Widget()
    widget.resize(360, 480)
    widget.show()
    for _ in range(4):
        widget.update()
        QTest.qWait(30)
    image = widget.grabFramebuffer()
    image.save(str(out / "widget.png"))
    widget.makeCurrent()
    widget.renderer.close()
    widget.doneCurrent()
    widget.close()
    app.processEvents()
    print(json.dumps({"frames": widget.frames, "gl_errors": errors}))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    {"shots": child_shots, "widget": child_widget}[sys.argv[1]](Path(sys.argv[2]))
