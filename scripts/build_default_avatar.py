#!/usr/bin/env python3
"""Builds vtbot's default avatar, "Mochi", as a VRM 1.0 file: made in code, so it is
the project's own (GPL-3.0-or-later, like the rest of vtbot).

A chibi-proportioned character from simple shapes: a big round head with large eyes,
lashes, brows and a mouth drawn as geometry on the face (the five VRM mouth shapes,
blinks and the emotions are morph targets of those parts), hair with bangs and two
long tails that swing on spring bones, a dress, arms and legs on a VRM 1.0 humanoid
skeleton in T-pose, and look-at by eye bones.

    .venv/bin/python scripts/build_default_avatar.py [--out avatar/data/mochi.vrm]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from avatar.vrm.writer import MorphSpec, VrmBuilder  # noqa: E402

HEAD_C = np.array([0.0, 1.20, 0.0])
HEAD_R = np.array([0.165, 0.155, 0.15])

PALETTE = {
    "skin": (1.0, 0.86, 0.78, 1.0), "hair": (0.70, 0.58, 0.92, 1.0), "hair_shade": (0.48, 0.36, 0.74),
    "eye_white": (1.0, 1.0, 1.0, 1.0), "iris": (0.16, 0.62, 0.66, 1.0), "pupil": (0.06, 0.10, 0.16, 1.0),
    "lash": (0.16, 0.10, 0.18, 1.0), "mouth": (0.55, 0.16, 0.22, 1.0), "blush": (1.0, 0.45, 0.55, 0.55),
    "dress": (0.22, 0.26, 0.52, 1.0), "collar": (0.97, 0.96, 1.0, 1.0), "shoe": (0.30, 0.18, 0.22, 1.0),
    "ribbon": (1.0, 0.52, 0.62, 1.0),
}


def srgb_to_linear(colour):
    """glTF colour factors are linear; the palette is picked in sRGB (as on screen)."""
    rgb = np.asarray(colour[:3], float)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return tuple(float(c) for c in lin) + tuple(colour[3:])


# -- geometry ---------------------------------------------------------------------------

@dataclass
class Part:
    """Triangles for one material; most pieces ride one bone, the hair tails blend two."""

    pos: list[np.ndarray] = field(default_factory=list)
    nrm: list[np.ndarray] = field(default_factory=list)
    idx: list[np.ndarray] = field(default_factory=list)
    joints: list[np.ndarray] = field(default_factory=list)  # (n, 2) bones per vertex
    weights: list[np.ndarray] = field(default_factory=list)  # (n, 2) their weights
    count: int = 0

    def add(self, pos: np.ndarray, nrm: np.ndarray, idx: np.ndarray, bone: int | np.ndarray,
            weights: np.ndarray | None = None) -> slice:
        """`bone` is one bone for all vertices, or (n, 2) bones blended by `weights`."""
        start = self.count
        self.pos.append(pos)
        self.nrm.append(nrm)
        self.idx.append(idx + start)
        if weights is None:
            self.joints.append(np.tile(np.array([bone, 0], np.uint16), (len(pos), 1)))
            self.weights.append(np.tile(np.array([1.0, 0.0], np.float32), (len(pos), 1)))
        else:
            self.joints.append(np.asarray(bone, np.uint16))
            self.weights.append(np.asarray(weights, np.float32))
        self.count += len(pos)
        return slice(start, self.count)

    def arrays(self):
        return (np.concatenate(self.pos).astype(np.float32), np.concatenate(self.nrm).astype(np.float32),
                np.concatenate(self.idx).astype(np.uint32), np.concatenate(self.joints),
                np.concatenate(self.weights))


def ellipsoid(center, radii, n_lat=24, n_lon=32, keep=None):
    """An ellipsoid; ``keep(p) -> bool`` may drop triangles (a face opening in the hair)."""
    lat = np.linspace(0, np.pi, n_lat + 1)
    lon = np.linspace(0, 2 * np.pi, n_lon + 1)
    th, ph = np.meshgrid(lat, lon, indexing="ij")
    unit = np.stack([np.sin(th) * np.sin(ph), np.cos(th), np.sin(th) * np.cos(ph)], -1).reshape(-1, 3)
    pos = center + unit * radii
    nrm = unit / radii
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-12
    idx = []
    w = n_lon + 1
    for i in range(n_lat):
        for j in range(n_lon):
            a, b, c, d = i * w + j, i * w + j + 1, (i + 1) * w + j, (i + 1) * w + j + 1
            for tri in ((a, c, b), (b, c, d)):
                if keep is None or keep(pos[list(tri)].mean(axis=0)):
                    idx.append(tri)
    return pos, nrm, np.array(idx, np.uint32).reshape(-1)


def tube(points, radii, n=12, caps=True, cap=0.25):
    """A tube through ``points`` with a radius per point, capped at both ends (``cap``:
    how far the cap domes out, as a share of the radius)."""
    points, radii = np.asarray(points, float), np.asarray(radii, float)
    pos, nrm = [], []
    for k, (p, r) in enumerate(zip(points, radii)):
        d = points[min(k + 1, len(points) - 1)] - points[max(k - 1, 0)]
        d /= np.linalg.norm(d)
        a = np.cross(d, [0, 0, 1]) if abs(d[2]) < 0.9 else np.cross(d, [1, 0, 0])
        a /= np.linalg.norm(a)
        b = np.cross(d, a)
        for t in np.linspace(0, 2 * np.pi, n, endpoint=False):
            v = np.cos(t) * a + np.sin(t) * b
            pos.append(p + r * v)
            nrm.append(v)
    idx = []
    for k in range(len(points) - 1):
        for j in range(n):
            a, b = k * n + j, k * n + (j + 1) % n
            c, d = a + n, b + n
            idx += [a, b, c, b, d, c]  # counter-clockwise seen from outside
    for end, sign in ((0, -1), (len(points) - 1, 1)) if caps else ():
        centre = len(pos)
        d = points[end] - points[end - sign] if len(points) > 1 else np.array([0, 1, 0.0])
        d = d / (np.linalg.norm(d) + 1e-12)
        pos.append(points[end] + d * radii[end] * cap)
        nrm.append(d)
        for j in range(n):
            a, b = end * n + j, end * n + (j + 1) % n
            idx += [centre, a, b] if sign > 0 else [centre, b, a]
    return np.array(pos), np.array(nrm), np.array(idx, np.uint32)


def tail_tube(points, radii, bones, per_stretch=4, n=12):
    """One smooth tube along a spring chain: each stretch k rides bone k, blending half
    way into its neighbours at the joints, so the tail bends instead of breaking."""
    points, radii = np.asarray(points, float), np.asarray(radii, float)
    samples, sizes, ring_bones, ring_weights = [], [], [], []
    stretches = len(points) - 1
    for k in range(stretches):
        for i in range(per_stretch + (k == stretches - 1)):
            s = i / per_stretch
            samples.append(points[k] + s * (points[k + 1] - points[k]))
            sizes.append(radii[k] + s * (radii[k + 1] - radii[k]))
            if s < 0.5 and k > 0:  # near the start: partly the previous stretch's bone
                ring_bones.append((bones[k], bones[k - 1]))
                ring_weights.append((0.5 + s, 0.5 - s))
            elif s > 0.5 and k + 1 < stretches:  # near the end: partly the next one's
                ring_bones.append((bones[k], bones[k + 1]))
                ring_weights.append((1.5 - s, s - 0.5))
            else:
                ring_bones.append((bones[k], 0))
                ring_weights.append((1.0, 0.0))
    pos, nrm, idx = tube(samples, sizes, n=n)
    rings = len(samples)
    joints = np.repeat(np.array(ring_bones, np.uint16), n, axis=0)
    weights = np.repeat(np.array(ring_weights, np.float32), n, axis=0)
    caps = len(pos) - rings * n  # the two cap centres follow the end rings
    joints = np.vstack([joints, np.array([ring_bones[0], ring_bones[-1]][:caps], np.uint16)])
    weights = np.vstack([weights, np.array([ring_weights[0], ring_weights[-1]][:caps], np.float32)])
    return pos, nrm, idx, joints, weights


def on_head(x, y, lift=0.004):
    """The point on the face at (x, y), just in front of the head's surface."""
    u = (np.asarray(x) - HEAD_C[0]) / HEAD_R[0]
    v = (np.asarray(y) - HEAD_C[1]) / HEAD_R[1]
    z = HEAD_C[2] + HEAD_R[2] * np.sqrt(np.clip(1 - u * u - v * v, 0.02, 1))
    return z + lift


def face_disc(cx, cy, rx, ry, n=28, lift=0.004):
    """A flat ellipse pressed onto the face: ring vertices plus the centre."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    xs = np.concatenate([[cx], cx + rx * np.cos(t)])
    ys = np.concatenate([[cy], cy + ry * np.sin(t)])
    pos = np.stack([xs, ys, on_head(xs, ys, lift)], -1)
    nrm = np.tile([0.0, 0.0, 1.0], (len(pos), 1))
    idx = np.array([(0, 1 + j, 1 + (j + 1) % n) for j in range(n)], np.uint32).reshape(-1)
    return pos, nrm, idx


def arc_strip(cx, cy, half_w, rise, thick, n=16, lift=0.006):
    """A curved line on the face (a lash or brow): ``rise`` bends it up at the middle."""
    xs = np.linspace(-half_w, half_w, n)
    ys = cy + rise * (1 - (xs / half_w) ** 2)
    top = np.stack([cx + xs, ys + thick / 2], -1)
    bot = np.stack([cx + xs, ys - thick / 2 * (1 - 0.6 * (xs / half_w) ** 2)], -1)
    xy = np.concatenate([top, bot])
    pos = np.column_stack([xy, on_head(xy[:, 0], xy[:, 1], lift)])
    nrm = np.tile([0.0, 0.0, 1.0], (len(pos), 1))
    idx = []
    for j in range(n - 1):
        a, b, c, d = j, j + 1, n + j, n + j + 1
        idx += [a, c, b, b, c, d]
    return pos, nrm, np.array(idx, np.uint32)


def reproject(pos, lift):
    out = pos.copy()
    out[:, 2] = on_head(pos[:, 0], pos[:, 1], lift)
    return out


# -- the character ----------------------------------------------------------------------

BONES = {  # name: (parent, world position)
    "hips": (None, (0, 0.70, 0)), "spine": ("hips", (0, 0.78, 0)), "chest": ("spine", (0, 0.90, 0)),
    "neck": ("chest", (0, 1.02, 0)), "head": ("neck", (0, 1.07, 0)),
    "leftEye": ("head", (0.058, 1.175, 0.06)), "rightEye": ("head", (-0.058, 1.175, 0.06)),
    "leftUpperArm": ("chest", (0.09, 0.975, 0)), "leftLowerArm": ("leftUpperArm", (0.24, 0.975, 0)),
    "leftHand": ("leftLowerArm", (0.37, 0.975, 0)),
    "rightUpperArm": ("chest", (-0.09, 0.975, 0)), "rightLowerArm": ("rightUpperArm", (-0.24, 0.975, 0)),
    "rightHand": ("rightLowerArm", (-0.37, 0.975, 0)),
    "leftUpperLeg": ("hips", (0.065, 0.66, 0)), "leftLowerLeg": ("leftUpperLeg", (0.065, 0.38, 0)),
    "leftFoot": ("leftLowerLeg", (0.065, 0.09, 0)),
    "rightUpperLeg": ("hips", (-0.065, 0.66, 0)), "rightLowerLeg": ("rightUpperLeg", (-0.065, 0.38, 0)),
    "rightFoot": ("rightLowerLeg", (-0.065, 0.09, 0)),
}
TAIL = [(0.175, 1.25, -0.04), (0.20, 1.12, -0.06), (0.21, 0.98, -0.06), (0.20, 0.84, -0.05), (0.19, 0.74, -0.04)]


def build(out: Path) -> Path:
    b = VrmBuilder()
    node: dict[str, int] = {}
    world: dict[str, np.ndarray] = {}
    for name, (parent, p) in BONES.items():
        world[name] = np.array(p, float)
        rel = world[name] - (world[parent] if parent else 0)
        node[name] = b.node(name, translation=rel, parent=node[parent] if parent else None)
    tails = {}
    for side, sx in (("L", 1), ("R", -1)):
        parent = "head"
        for k, p in enumerate(TAIL):
            name = f"hairTail{side}{k}"
            world[name] = np.array([p[0] * sx, p[1], p[2]])
            node[name] = b.node(name, translation=world[name] - world[parent], parent=node[parent])
            parent = name
        tails[side] = [f"hairTail{side}{k}" for k in range(len(TAIL))]
    joints = list(node)
    joint_index = {name: i for i, name in enumerate(joints)}
    inverse = np.stack([np.eye(4) for _ in joints])
    for i, name in enumerate(joints):
        inverse[i, :3, 3] = -world[name]
    skin = b.skin([node[n] for n in joints], inverse, skeleton=node["hips"])
    J = joint_index

    parts: dict[str, Part] = {k: Part() for k in ("skin", "hair", "eye_white", "iris", "pupil", "lash",
                                                  "mouth", "blush", "dress", "collar", "shoe", "ribbon")}
    morphs: dict[str, dict[str, np.ndarray]] = {}  # part → morph name → deltas (filled below)

    def morph(part: str, name: str, where: slice, delta: np.ndarray) -> None:
        full = morphs.setdefault(part, {})
        if name not in full:
            full[name] = []
        full[name].append((where, delta))

    # head and neck
    parts["skin"].add(*ellipsoid(HEAD_C, HEAD_R), J["head"])
    parts["skin"].add(*tube([(0, 0.99, 0), (0, 1.10, 0.0)], [0.035, 0.035]), J["neck"])
    # ears peeking out of the hair
    for sx in (1, -1):
        parts["skin"].add(*ellipsoid(HEAD_C + [sx * 0.16, -0.02, 0], np.array([0.02, 0.035, 0.025]), 8, 10), J["head"])

    # eyes: white, iris, pupil and a highlight; the blink folds them to the lash line
    for sx, eye in ((1, "leftEye"), (-1, "rightEye")):
        ex, ey = sx * 0.058, 1.175
        for part, rx, ry, lift, dy in (("eye_white", 0.036, 0.046, 0.004, 0.0),
                                       ("iris", 0.027, 0.037, 0.006, -0.004),
                                       ("pupil", 0.013, 0.018, 0.008, -0.006)):
            pos, nrm, idx = face_disc(ex, ey + dy, rx, ry, lift=lift)
            where = parts[part].add(pos, nrm, idx, J[eye])
            closed = pos.copy()
            closed[:, 1] = ey + 0.004 + (pos[:, 1] - ey) * 0.04
            squint = pos.copy()  # happy: eyes become upward arcs
            squint[:, 1] = ey + 0.008 + (pos[:, 1] - ey) * 0.05 + 0.012 * (1 - ((pos[:, 0] - ex) / 0.036) ** 2)
            for blink in ("blink", "blinkLeft" if sx > 0 else "blinkRight"):
                morph(part, blink, where, reproject(closed, lift) - pos)
            morph(part, "happy", where, reproject(squint, lift) - pos)
            wide = pos.copy()
            wide[:, 1] = ey + (pos[:, 1] - ey) * 1.15
            morph(part, "surprised", where, reproject(wide, lift) - pos)
        hl_pos, hl_nrm, hl_idx = face_disc(ex - sx * 0.009 + 0.006, ey + 0.014, 0.007, 0.009, lift=0.010)
        where = parts["eye_white"].add(hl_pos, hl_nrm, hl_idx, J[eye])
        for blink in ("blink", "blinkLeft" if sx > 0 else "blinkRight", "happy"):
            morph("eye_white", blink, where, np.column_stack([np.zeros(len(hl_pos)), ey - hl_pos[:, 1], -0.006 * np.ones(len(hl_pos))]))
        # the upper lash: over the eye, down to the middle when blinking
        pos, nrm, idx = arc_strip(ex, ey + 0.040, 0.040, 0.010, 0.008)
        where = parts["lash"].add(pos, nrm, idx, J["head"])
        down = pos.copy()
        down[:, 1] -= 0.036
        down[:, 1] -= 0.014 * (1 - ((pos[:, 0] - ex) / 0.040) ** 2)  # closed eyes curve down
        for blink in ("blink", "blinkLeft" if sx > 0 else "blinkRight"):
            morph("lash", blink, where, reproject(down, 0.006) - pos)
        up = pos.copy()
        up[:, 1] -= 0.03
        up[:, 1] += 0.012 * (1 - ((pos[:, 0] - ex) / 0.040) ** 2)
        morph("lash", "happy", where, reproject(up, 0.006) - pos)
        # brows
        pos, nrm, idx = arc_strip(ex + sx * 0.004, ey + 0.068, 0.028, 0.006, 0.0065)
        where = parts["lash"].add(pos, nrm, idx, J["head"])
        inner = np.clip(-(pos[:, 0] - ex) * sx / 0.03, 0, 1)  # 1 at the inner end
        for name, dy in (("angry", -0.016 * inner), ("sad", 0.012 * inner - 0.004),
                         ("surprised", 0.014 + 0 * inner), ("relaxed", -0.004 + 0 * inner)):
            moved = pos.copy()
            moved[:, 1] += dy
            morph("lash", name, where, reproject(moved, 0.006) - pos)
        # blush, hidden until happy or relaxed
        pos, nrm, idx = face_disc(sx * 0.095, 1.125, 0.026, 0.013, lift=0.005)
        where = parts["blush"].add(pos, nrm, idx, J["head"])
        centre = np.array([sx * 0.095, 1.125])
        shrunk = pos.copy()
        shrunk[:, :2] = centre + (pos[:, :2] - centre) * 0.01
        shrunk = reproject(shrunk, 0.002)
        base_delta = shrunk - pos
        # the rest shape is the hidden (shrunk) one: store vertices shrunk, morph grows them
        parts["blush"].pos[-1] = shrunk
        for name, k in (("happy", 1.0), ("relaxed", 0.6)):
            morph("blush", name, where, -base_delta * k)

    # mouth: a closed line at rest; each vowel is its own opening
    mx, my = 0.0, 1.108
    pos, nrm, idx = face_disc(mx, my, 0.019, 0.0035, n=32, lift=0.005)
    where = parts["mouth"].add(pos, nrm, idx, J["head"])
    rel = pos[:, :2] - [mx, my]
    unit = rel / np.array([0.019, 0.0035])
    for name, rx, ry, smile in (("aa", 0.019, 0.019, 0.0), ("ih", 0.023, 0.009, 0.003), ("ou", 0.010, 0.012, 0.0),
                                ("ee", 0.025, 0.006, 0.004), ("oh", 0.014, 0.016, 0.0),
                                ("happy", 0.020, 0.006, 0.010), ("sad", 0.013, 0.003, -0.006),
                                ("angry", 0.014, 0.004, -0.004), ("surprised", 0.012, 0.016, 0.0),
                                ("relaxed", 0.016, 0.003, 0.004)):
        shaped = pos.copy()
        shaped[:, 0] = mx + unit[:, 0] * rx
        shaped[:, 1] = my + unit[:, 1] * ry + smile * (unit[:, 0] ** 2) - (ry * 0.3 if name in ("aa", "oh") else 0)
        morph("mouth", name, where, reproject(shaped, 0.005) - pos)

    # hair: a cap open at the face, bangs, and two tails on spring bones
    def hair_keep(p):
        face = p[2] > 0.035 and p[1] < HEAD_C[1] + 0.085 and abs(p[0]) < 0.15
        return not face and p[1] > HEAD_C[1] - 0.13 or (p[2] < -0.02 and p[1] > 1.02)

    parts["hair"].add(*ellipsoid(HEAD_C + [0, 0.012, -0.008], HEAD_R + [0.018, 0.02, 0.02], 28, 40, hair_keep), J["head"])
    for k, x in enumerate(np.linspace(-0.11, 0.11, 7)):
        top = (x * 0.6, HEAD_C[1] + 0.15, 0.06)
        mid = (x * 0.95, HEAD_C[1] + 0.10, 0.152)
        tip_y = HEAD_C[1] + 0.075 + (0.010 if k % 2 else -0.002)
        tip = (x * 1.05, tip_y, on_head(x * 1.05, tip_y, 0.012))
        parts["hair"].add(*tube([top, mid, tip], [0.022, 0.018, 0.004], n=8), J["head"])
    for side, sx in (("L", 1), ("R", -1)):
        pts = [(sx * p[0], p[1], p[2]) for p in TAIL]
        radii = [0.035, 0.045, 0.042, 0.032, 0.008]
        parts["hair"].add(*tail_tube(pts, radii, [J[t] for t in tails[side]]))
        parts["ribbon"].add(*ellipsoid(np.array(pts[0]) + [sx * 0.01, 0.02, 0], np.array([0.035, 0.025, 0.02]), 8, 12), J["head"])

    # body: a dress with a white collar, arms, legs and shoes
    parts["dress"].add(*tube([(0, 0.70, 0), (0, 0.85, 0), (0, 1.0, 0)], [0.085, 0.08, 0.07], n=20), J["chest"])
    parts["dress"].add(*tube([(0, 0.80, 0), (0, 0.66, 0), (0, 0.52, 0)], [0.085, 0.13, 0.17], n=24, caps=False), J["hips"])
    parts["collar"].add(*tube([(0, 0.975, 0), (0, 0.995, 0), (0, 1.005, 0)], [0.085, 0.075, 0.045], n=24, caps=False), J["chest"])
    for sx, sd in ((1, "left"), (-1, "right")):
        parts["dress"].add(*tube([(sx * 0.07, 0.975, 0), (sx * 0.16, 0.975, 0)], [0.038, 0.034], n=12), J[f"{sd}UpperArm"])
        parts["skin"].add(*tube([(sx * 0.16, 0.975, 0), (sx * 0.24, 0.975, 0)], [0.026, 0.024], n=10), J[f"{sd}UpperArm"])
        parts["skin"].add(*tube([(sx * 0.24, 0.975, 0), (sx * 0.36, 0.975, 0)], [0.024, 0.021], n=10), J[f"{sd}LowerArm"])
        parts["skin"].add(*ellipsoid(np.array([sx * 0.39, 0.975, 0]), np.array([0.032, 0.026, 0.028]), 8, 10), J[f"{sd}Hand"])
        parts["skin"].add(*tube([(sx * 0.065, 0.62, 0), (sx * 0.065, 0.38, 0)], [0.034, 0.028], n=10), J[f"{sd}UpperLeg"])
        parts["skin"].add(*tube([(sx * 0.065, 0.38, 0), (sx * 0.065, 0.12, 0)], [0.028, 0.024], n=10), J[f"{sd}LowerLeg"])
        parts["shoe"].add(*ellipsoid(np.array([sx * 0.065, 0.07, 0.025]), np.array([0.04, 0.04, 0.065]), 10, 12), J[f"{sd}Foot"])

    # meshes: one per material, each with the morphs that touch it
    names = ["aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry", "sad",
             "relaxed", "surprised"]
    binds: dict[str, list[tuple[int, int, float]]] = {n: [] for n in names}
    for part, geometry in parts.items():
        if not geometry.count:
            continue
        pos, nrm, idx, bones, blend = geometry.arrays()
        joints4 = np.zeros((len(pos), 4), np.uint16)
        joints4[:, :2] = bones
        weights4 = np.zeros((len(pos), 4), np.float32)
        weights4[:, :2] = blend
        specs = []
        for name, pieces in morphs.get(part, {}).items():
            delta = np.zeros_like(pos)
            for where, d in pieces:
                delta[where] = d
            specs.append(MorphSpec(name, delta.astype(np.float32)))
        colour = srgb_to_linear(PALETTE[part])
        mat = b.material(part, colour, alpha_mode="BLEND" if colour[3] < 1 else "OPAQUE",
                         shade=srgb_to_linear(PALETTE["hair_shade"]) if part == "hair" else None,
                         double_sided=part in ("hair", "blush"), outline_width=0.0)
        mesh = b.mesh(part, pos, nrm, idx, mat, joints=joints4, weights=weights4, morphs=specs or None)
        mesh_node = b.node(f"mesh_{part}", mesh=mesh, skin=skin)
        for i, spec in enumerate(specs):
            binds[spec.name].append((mesh_node, i, 1.0))

    expressions = {n: {"binds": binds[n]} for n in names}
    for emotion in ("happy", "angry", "sad", "relaxed", "surprised"):
        expressions[emotion]["overrideMouth"] = "blend"
    expressions["happy"]["overrideBlink"] = "block"
    expressions["surprised"]["overrideBlink"] = "blend"
    b.vrm(
        meta={"name": "Mochi", "version": "1.0", "authors": ["vtbot developers"],
              "copyrightInformation": "vtbot developers", "licenseUrl": "https://vrm.dev/licenses/1.0/",
              "avatarPermission": "everyone", "allowExcessivelyViolentUsage": False,
              "allowExcessivelySexualUsage": False, "commercialUsage": "corporation",
              "allowPoliticalOrReligiousUsage": False, "allowAntisocialOrHateUsage": False,
              "creditNotation": "unnecessary", "allowRedistribution": True, "modification": "allowModificationRedistribution",
              "otherLicenseUrl": "https://www.gnu.org/licenses/gpl-3.0.html"},
        humanoid={n: node[n] for n in BONES},
        expressions=expressions,
        look_at={"type": "bone", "offsetFromHeadBone": [0, 0.105, 0.06],
                 **{k: {"inputMaxValue": 90.0, "outputScale": o} for k, o in
                    (("rangeMapHorizontalInner", 8.0), ("rangeMapHorizontalOuter", 8.0),
                     ("rangeMapVerticalDown", 6.0), ("rangeMapVerticalUp", 6.0))}})
    head_collider = {"node": node["head"], "shape": {"sphere": {"offset": [0, 0.13, 0], "radius": 0.16}}}
    chest_collider = {"node": node["chest"], "shape": {"capsule": {"offset": [0, -0.1, 0], "radius": 0.1,
                                                                   "tail": [0, 0.08, 0]}}}
    springs = [{"name": f"hair tail {side}", "colliderGroups": [0],
                "joints": [{"node": node[n], "hitRadius": 0.03, "stiffness": 0.8, "gravityPower": 0.35,
                            "gravityDir": [0, -1, 0], "dragForce": 0.45} for n in tails[side]]}
               for side in ("L", "R")]
    b.springs([head_collider, chest_collider], [{"name": "head and body", "colliders": [0, 1]}], springs)
    return b.write(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "avatar" / "data" / "mochi.vrm")
    args = ap.parse_args()
    path = build(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
