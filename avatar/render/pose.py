"""One frame's pose: node matrices, joint matrices, morph weights and material values.

Bone rotations are given per humanoid bone in the *normalized* convention: a
rotation about the model's own axes (x towards the avatar's left, y up, z the
way it faces), applied on top of the rest pose.
Because the axes are the model's and not each bone's, the same rotation nods a
head or lowers an arm the same way on any avatar. VRM 0.x avatars face -Z; their
rotations are mirrored through the vertical axis so callers never see that.

Look-at is a (yaw, pitch) gaze in degrees, yaw > 0 towards the avatar's left and
pitch > 0 downwards (as `LookAt.expression_weights` reads it): bone-type models
turn their eye bones within the range maps, expression-type models get
lookLeft/Right/Up/Down weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from avatar.render.spring_physics import SpringPhysics
from avatar.vrm.expressions import ExpressionMixer, MixResult
from avatar.vrm.model import VrmModel
from avatar.vrm.transforms import parent_first, quat_to_matrix

Quat = tuple[float, float, float, float]

# A 180 degree turn about Y: maps a VRM 0.x model (facing -Z) onto +Z.
TURN_Y = np.diag([-1.0, 1.0, -1.0, 1.0])


def axis_rotation(axis: str, degrees: float) -> np.ndarray:
    """3x3 right-handed rotation about the x or y axis."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@dataclass(frozen=True, eq=False)
class Pose:
    """Everything the renderer needs for one frame, in stage space (model facing +Z).

    `world` holds every node's world matrix; `joints[skin]` the skinning matrices
    (joint world times inverse bind); `morph_weights[node]` the weight vector of
    the mesh on each drawn node; `mix` the expression output (material values).
    """

    world: np.ndarray
    joints: dict[int, np.ndarray]
    morph_weights: dict[int, np.ndarray]
    mix: MixResult
    changed: frozenset[int]  # nodes whose world matrix differs from the rest pose


class Poser:
    """Turns (expressions, bone rotations, gaze) into a `Pose`; built once per model."""

    def __init__(self, model: VrmModel) -> None:
        self.model = model
        n = len(model.nodes)
        self.parents = [node.parent if node.parent is not None else -1 for node in model.nodes]
        self.stage = TURN_Y if model.forward_z < 0 else np.eye(4)
        empty = np.zeros((0, 4, 4))
        self.rest_local = np.stack([nd.rest_local for nd in model.nodes]) if n else empty
        rest_world = np.stack([nd.rest_world for nd in model.nodes]) if n else empty
        self.rest_world = self.stage @ rest_world if n else rest_world
        self.order = parent_first(self.parents)
        self.mixer = ExpressionMixer.for_model(model)
        self.default_weights = {
            nd.index: (nd.weights if nd.weights is not None else model.meshes[nd.mesh].weights)
            for nd in model.nodes
            if nd.mesh is not None
        }
        self.springs = SpringPhysics(model, self.parents, self.rest_world, self.rest_local, self.stage)
        self._spring_nodes = self.springs.nodes
        self._rest_joints = {
            s: self._joint_matrices(s, self.rest_world) for s in range(len(model.skins))
        }

    # -- per frame ---------------------------------------------------------------------

    def pose(
        self,
        expressions: Mapping[str, float],
        bone_rotations: Mapping[str, Sequence[float]] | None = None,
        look_at: tuple[float, float] | None = None,
        dt: float | None = None,
    ) -> Pose:
        """One frame. `dt` is the time since the previous frame: it swings the spring
        bones (hair); None holds them where they are (a still, repeatable picture)."""
        weights = dict(expressions)
        rotations = {k: quat_to_matrix(v) for k, v in (bone_rotations or {}).items()
                     if k in self.model.humanoid}
        la = self.model.look_at
        if look_at is not None and la is not None:
            yaw, pitch = look_at
            if la.type == "expression":
                for name, value in la.expression_weights(yaw, pitch).items():
                    weights[name] = max(weights.get(name, 0.0), value)
            else:
                self._eye_rotations(rotations, yaw, pitch)
        mix = self.mixer.mix(weights)
        world, changed = self._world(rotations)
        if self.springs.active:
            if world is self.rest_world:
                world = world.copy()
            self.springs.apply(world, dt)
            changed |= self._spring_nodes
        joints = {
            s: self._joint_matrices(s, world) if changed else self._rest_joints[s]
            for s in range(len(self.model.skins))
        }
        morphs = dict(self.default_weights)
        morphs.update(mix.morph_weights)
        return Pose(world, joints, morphs, mix, frozenset(changed))

    def _eye_rotations(self, rotations: dict[str, np.ndarray], yaw: float, pitch: float) -> None:
        la = self.model.look_at
        assert la is not None
        vertical = la.vertical_down.map(pitch) if pitch > 0 else -la.vertical_up.map(pitch)
        for eye, outward in (("leftEye", yaw > 0), ("rightEye", yaw < 0)):
            if eye not in self.model.humanoid:
                continue
            ranges = la.horizontal_outer if outward else la.horizontal_inner
            turn = math.copysign(ranges.map(yaw), yaw)
            r = axis_rotation("y", turn) @ axis_rotation("x", vertical)
            rotations[eye] = rotations[eye] @ r if eye in rotations else r

    def _world(self, rotations: Mapping[str, np.ndarray]) -> tuple[np.ndarray, set[int]]:
        """World matrices with the rotated bones (and everything under them) recomputed."""
        if not rotations:
            return self.rest_world, set()
        stage3 = self.stage[:3, :3]
        local: dict[int, np.ndarray] = {}
        for bone, q in rotations.items():
            node = self.model.humanoid[bone]
            q = stage3 @ q @ stage3.T  # the caller's axes face +Z; the model's may not
            parent = self.parents[node]
            p = _rotation_part(self.model.nodes[parent].rest_world if parent >= 0 else np.eye(4))
            m = self.rest_local[node].copy()
            m[:3, :3] = p.T @ q @ p @ m[:3, :3]
            local[node] = m
        world = self.rest_world.copy()
        dirty = np.zeros(len(self.parents), dtype=bool)
        changed: set[int] = set()
        for node in self.order:
            parent = self.parents[node]
            parent_dirty = parent >= 0 and dirty[parent]
            if node in local or parent_dirty:
                base = world[parent] if parent >= 0 else self.stage
                world[node] = base @ local.get(node, self.rest_local[node])
                dirty[node] = True
                changed.add(node)
        return world, changed

    def _joint_matrices(self, skin: int, world: np.ndarray) -> np.ndarray:
        s = self.model.skins[skin]
        if not s.joints:
            return np.zeros((0, 4, 4), np.float32)
        joints = world[list(s.joints)]
        return (joints @ s.inverse_bind_matrices.astype(np.float64)).astype(np.float32)


def _rotation_part(m: np.ndarray) -> np.ndarray:
    """The rotation of an affine matrix, scale removed."""
    basis = np.array(m[:3, :3], dtype=np.float64)
    norms = np.linalg.norm(basis, axis=0)
    return basis / np.where(norms > 0, norms, 1.0)


def rest_vertices(model: VrmModel, world: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """Every primitive's vertices in stage space at rest (default morph weights
    applied, skinned on the CPU), keyed by (node, primitive): what framing and
    transparency sorting use."""
    out: dict[tuple[int, int], np.ndarray] = {}
    for node in model.nodes:
        if node.mesh is None:
            continue
        mesh = model.meshes[node.mesh]
        defaults = node.weights if node.weights is not None else mesh.weights
        for p, prim in enumerate(mesh.primitives):
            pos = np.array(prim.positions, np.float64)
            if not len(pos):
                continue
            for w, target in zip(defaults, prim.targets):
                if w and target.positions is not None:
                    pos += float(w) * target.positions
            hom = np.c_[pos, np.ones(len(pos))]
            if node.skin is not None and prim.joints is not None and prim.weights is not None:
                skin = model.skins[node.skin]
                mats = world[list(skin.joints)] @ skin.inverse_bind_matrices.astype(np.float64)
                limit = len(skin.joints) - 1
                acc = np.zeros((len(pos), 4))
                for k in range(4):
                    j = np.minimum(prim.joints[:, k], limit)
                    acc += prim.weights[:, k, None] * np.einsum("nij,nj->ni", mats[j], hom)
                out[(node.index, p)] = acc[:, :3]
            else:
                out[(node.index, p)] = (hom @ world[node.index].T)[:, :3]
    return out
