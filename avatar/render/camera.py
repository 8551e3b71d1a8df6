"""A portrait camera: head and upper body of a humanoid, or the whole model if not.

Works in stage space, where every model faces +Z (the pose module turns VRM 0.x
models round), so the camera always sits on +Z looking down -Z. The framing is
worked out once from the rest pose, so breathing and head sway move the avatar
inside a steady frame rather than the frame following them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from avatar.vrm.model import VrmModel


@dataclass(frozen=True)
class Framing:
    """The box (stage space) that must be in view: centre and half extents."""

    centre: tuple[float, float, float]
    half_height: float
    half_width: float
    front: float  # largest z of the geometry in view
    back: float  # smallest z
    humanoid: bool


def perspective(fov_y_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2)
    m = np.zeros((4, 4))
    m[0, 0] = f / aspect
    m[1, 1] = f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    f = target - eye
    f = f / np.linalg.norm(f)
    s = np.cross(f, up)
    s = s / np.linalg.norm(s)
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


ARM_ROOTS = ("leftShoulder", "rightShoulder", "leftUpperArm", "rightUpperArm")


def follow_share(model: VrmModel, rest: Mapping[tuple[int, int], np.ndarray],
                 keys: Sequence[tuple[int, int]], bones: Sequence[str]) -> np.ndarray:
    """Per vertex (of `rest[k]` for k in `keys`, concatenated), how much it follows
    the named humanoid bones or anything under them: skin weight for skinned
    meshes, 0 or 1 for meshes hung on a node."""
    under: set[int] = set()
    stack = [model.humanoid[b] for b in bones if b in model.humanoid]
    while stack:
        node = stack.pop()
        if node not in under:
            under.add(node)
            stack.extend(model.nodes[node].children)
    out = []
    for i, p in keys:
        node = model.nodes[i]
        prim = model.meshes[node.mesh].primitives[p]  # type: ignore[index]
        n = len(rest[(i, p)])
        if node.skin is None or prim.joints is None or prim.weights is None:
            out.append(np.full(n, 1.0 if i in under else 0.0))
            continue
        joints = model.skins[node.skin].joints
        follows = np.array([j in under for j in joints] + [False], dtype=np.float64)
        out.append((follows[np.minimum(prim.joints, len(joints))] * prim.weights).sum(axis=1))
    return np.concatenate(out) if out else np.zeros(0)


def frame_model(model: VrmModel, world: np.ndarray, positions: np.ndarray,
                head_share: np.ndarray | None = None,
                arm_share: np.ndarray | None = None) -> Framing:
    """Head to hips when geometry follows the head bone; otherwise the whole bounds.

    `world` holds the rest-pose world matrices and `positions` every drawn vertex at
    rest, in stage space; the shares (see `follow_share`) say which vertices move
    with the head and which with the arms. Test scenes that hang plain quads on a
    humanoid skeleton have nothing on the head and are framed whole.
    """
    if not len(positions):
        return Framing((0.0, 1.0, 0.0), 1.0, 1.0, 0.5, -0.5, False)
    lo, hi = positions.min(axis=0), positions.max(axis=0)
    bones = {name: world[node][:3, 3] for name, node in model.humanoid.items()}
    hips = bones.get("hips")
    head = positions[head_share > 0.5] if head_share is not None else positions[:0]
    if len(head) and hips is not None and head[:, 1].max() > hips[1]:
        top = float(head[:, 1].max())
        bottom = float(max(hips[1], lo[1]))
        height = top - bottom
        centre_x = float(bones["head"][0]) if "head" in bones else float(head[:, 0].mean())
        # Wide enough for everything from the hips up except arms (a T-pose's would
        # shrink the avatar to a stick figure); lowered arms fit beside the shoulders.
        body = (positions[:, 1] >= bottom) & (positions[:, 1] <= top)
        if arm_share is not None:
            body &= arm_share < 0.5
        spread = [abs(bones[b][0] - centre_x) * 1.6 for b in ("leftUpperArm", "rightUpperArm")
                  if b in bones]
        if body.any():
            spread.append(float(np.abs(positions[body, 0] - centre_x).max()) * 1.05)
        half_width = max(max(spread, default=0.0), 0.3 * height)
        in_view = positions[(positions[:, 1] >= bottom) & (positions[:, 1] <= top)]
        front = float(in_view[:, 2].max()) if len(in_view) else float(hi[2])
        back = float(in_view[:, 2].min()) if len(in_view) else float(lo[2])
        centre_z = float(bones["head"][2]) if "head" in bones else float(head[:, 2].mean())
        centre_y = bottom + height * 0.52  # a little air above the head
        return Framing((centre_x, centre_y, centre_z), height * 0.54, half_width, front, back,
                       True)
    cx, cy, cz = ((lo + hi) / 2).tolist()
    size = hi - lo
    return Framing((cx, cy, cz), max(size[1], 1e-3) * 0.55, max(size[0], 1e-3) * 0.55,
                   float(hi[2]), float(lo[2]), False)


@dataclass
class PortraitCamera:
    """View and projection for a viewport; `fov_y_deg` narrow, as portraits are."""

    framing: Framing
    fov_y_deg: float = 20.0

    def matrices(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(view, projection, eye position) for a viewport of this size."""
        aspect = max(width, 1) / max(height, 1)
        fr = self.framing
        t = math.tan(math.radians(self.fov_y_deg) / 2)
        distance = max(fr.half_height / t, fr.half_width / (t * aspect))
        centre = np.array(fr.centre)
        front_gap = max(fr.front - centre[2], 0.0)
        if not fr.humanoid:
            distance += front_gap  # fit the nearest face, not the middle
        eye = centre + np.array([0.0, 0.0, distance])
        view = look_at(eye, centre, np.array([0.0, 1.0, 0.0]))
        near = max((distance - front_gap) * 0.5, 1e-3)
        far = distance + max(centre[2] - fr.back, 0.0) + distance
        return view, perspective(self.fov_y_deg, aspect, near, far), eye
