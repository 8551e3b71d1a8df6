"""Spring bones: hair and accessories that swing, droop and bounce off the body.

This follows the reference algorithm of VRMC_springBone 1.0 (verlet tails with
drag, stiffness back towards the rest direction, gravity, a length constraint,
sphere and capsule colliders, inertia in the `center` node's space) and runs
VRM 0.x secondary animation through the same code, with its virtual 7 cm tail
on the last joint of each chain.

Work is vectorised over joints: a joint's *level* is one more than the deepest
simulated joint above it, so all joints of one level are independent and move
in one batch of numpy operations, whatever the number of chains. Time advances
in fixed 1/60 s steps (the reference update is frame-rate dependent), at most
`MAX_STEPS` per frame, so hair behaves the same at 30 and 60 FPS and a stalled
frame never makes it explode. Collider radii are used as authored (no world
scale), which is how avatars are exported in practice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar.vrm.model import VrmModel

STEP_S = 1.0 / 60.0
MAX_STEPS = 4
RESET_AFTER_S = 0.5
COLLISION_PASSES = 3  # a longer gap (window hidden, model reloaded) starts from rest again


@dataclass(frozen=True)
class _Level:
    """The simulated joints of one level and the arrays their update needs."""

    nodes: np.ndarray  # (n,) node index of each joint
    parents: np.ndarray  # (n,) parent node, -1 for a root
    centers: np.ndarray  # (n,) center node, -1 for none (stage space)
    rest_local: np.ndarray  # (n, 4, 4)
    axis: np.ndarray  # (n, 3) unit direction to the tail, joint-local
    local_tail: np.ndarray  # (n, 3) the tail's rest position, joint-local
    length: np.ndarray  # (n,) stage-space distance head to tail
    stiffness: np.ndarray  # (n,)
    keep: np.ndarray  # (n,) 1 - drag
    gravity: np.ndarray  # (n, 3) direction * power, stage space
    hit_radius: np.ndarray  # (n,)
    colliders: np.ndarray  # (n, C) bool: which colliders this joint meets
    follow: tuple[int, ...]  # nodes below these joints (not simulated), parent first


class SpringPhysics:
    """Per-avatar spring state; `apply` moves the simulated joints of one frame's pose.

    Positions are in stage space (the model turned to face +Z), the space of the
    `Poser`'s world matrices; `stage` is that turn, so authored gravity directions
    and collider shapes keep their meaning for VRM 0.x avatars too.
    """

    def __init__(self, model: VrmModel, parents: list[int], rest_world: np.ndarray,
                 rest_local: np.ndarray, stage: np.ndarray) -> None:
        self.parents = parents
        self.stage = stage
        self._rest_local = rest_local
        sb = model.spring_bones
        self._collider_nodes = np.array([c.node for c in sb.colliders], dtype=np.int64)
        self._collider_offset = np.array([c.offset for c in sb.colliders], dtype=np.float64).reshape(-1, 3)
        self._collider_tail = np.array([c.tail if c.tail is not None else c.offset for c in sb.colliders],
                                       dtype=np.float64).reshape(-1, 3)
        self._collider_radius = np.array([c.radius for c in sb.colliders], dtype=np.float64)
        self._collider_capsule = np.array([c.shape == "capsule" for c in sb.colliders], dtype=bool)
        self.levels = self._build_levels(model, rest_world, rest_local)
        self._tails: list[np.ndarray] | None = None  # per level, (n, 3), in each joint's center space
        self._prev: list[np.ndarray] | None = None
        # each level's joint matrices relative to their parents; a step stores the
        # (parent, joint) world pair instead and the inverse is only taken when a
        # frame without a step needs it
        self._locals: list[np.ndarray | tuple[np.ndarray, np.ndarray]] = [
            lv.rest_local.copy() for lv in self.levels]
        self._pending = 0.0

    @property
    def active(self) -> bool:
        return bool(self.levels)

    @property
    def nodes(self) -> frozenset[int]:
        """Every node whose world matrix `apply` may change."""
        out: set[int] = set()
        for lv in self.levels:
            out.update(int(n) for n in lv.nodes)
            out.update(lv.follow)
        return frozenset(out)

    def reset(self) -> None:
        """Forget the motion; the next `apply` starts from the rest direction."""
        self._tails = self._prev = None
        self._locals = [lv.rest_local.copy() for lv in self.levels]
        self._pending = 0.0

    # -- set-up ----------------------------------------------------------------------

    def _build_levels(self, model: VrmModel, rest_world: np.ndarray, rest_local: np.ndarray) -> list[_Level]:
        sb = model.spring_bones
        n_colliders = len(sb.colliders)
        stage3 = self.stage[:3, :3]
        joints: dict[int, dict] = {}
        for spring in sb.springs:
            members = sorted({c for g in spring.collider_groups if g < len(sb.collider_groups)
                              for c in sb.collider_groups[g].colliders if c < n_colliders})
            chain = spring.joints
            simulated = len(chain) if spring.tail_length > 0 else len(chain) - 1
            for i in range(simulated):
                j = chain[i]
                if j.node in joints:  # a joint in two chains: the first one wins
                    continue
                head = rest_world[j.node][:3, 3]
                if i + 1 < len(chain):
                    tail = rest_world[chain[i + 1].node][:3, 3]
                else:  # VRM 0.x: a virtual tail continuing the parent-to-joint direction
                    parent = self.parents[j.node]
                    base = rest_world[parent][:3, 3] if parent >= 0 else head - np.array([0.0, 1.0, 0.0])
                    direction = head - base
                    norm = np.linalg.norm(direction)
                    direction = direction / norm if norm > 1e-9 else np.array([0.0, -1.0, 0.0])
                    tail = head + direction * spring.tail_length
                length = float(np.linalg.norm(tail - head))
                if length < 1e-6:
                    continue  # a tail on top of its joint has no direction to swing
                local_tail = (np.linalg.inv(rest_world[j.node]) @ np.r_[tail, 1.0])[:3]
                mask = np.zeros(n_colliders, dtype=bool)
                mask[members] = True
                gravity = stage3 @ np.asarray(j.gravity_dir, dtype=np.float64)
                gn = np.linalg.norm(gravity)
                joints[j.node] = dict(
                    center=spring.center if spring.center is not None else -1,
                    local_tail=local_tail, axis=local_tail / np.linalg.norm(local_tail), length=length,
                    stiffness=j.stiffness, keep=1.0 - j.drag_force,
                    gravity=(gravity / gn if gn > 0 else gravity) * j.gravity_power,
                    hit_radius=j.hit_radius, colliders=mask)
        if not joints:
            return []

        level: dict[int, int] = {}

        def level_of(node: int) -> int:
            if node not in level:
                deepest, p = -1, self.parents[node]
                while p >= 0:
                    if p in joints:
                        deepest = level_of(p)
                        break
                    p = self.parents[p]
                level[node] = deepest + 1
            return level[node]

        for node in joints:
            level_of(node)
        children: dict[int, list[int]] = {}
        for node, parent in enumerate(self.parents):
            children.setdefault(parent, []).append(node)

        levels = []
        for k in range(max(level.values()) + 1):
            nodes = [n for n in joints if level[n] == k]
            follow: list[int] = []
            stack = [c for n in nodes for c in reversed(children.get(n, []))]
            while stack:  # depth first, parents before children, stopping at deeper joints
                n = stack.pop()
                if n in joints:
                    continue
                follow.append(n)
                stack.extend(reversed(children.get(n, [])))
            js = [joints[n] for n in nodes]
            levels.append(_Level(
                nodes=np.array(nodes, dtype=np.int64),
                parents=np.array([self.parents[n] for n in nodes], dtype=np.int64),
                centers=np.array([j["center"] for j in js], dtype=np.int64),
                rest_local=np.stack([rest_local[n] for n in nodes]).astype(np.float64),
                axis=np.array([j["axis"] for j in js]),
                local_tail=np.array([j["local_tail"] for j in js]),
                length=np.array([j["length"] for j in js]),
                stiffness=np.array([j["stiffness"] for j in js]),
                keep=np.array([j["keep"] for j in js]),
                gravity=np.array([j["gravity"] for j in js]),
                hit_radius=np.array([j["hit_radius"] for j in js]),
                colliders=np.array([j["colliders"] for j in js]).reshape(len(js), n_colliders),
                follow=tuple(follow),
            ))
        return levels

    # -- per frame -------------------------------------------------------------------

    def apply(self, world: np.ndarray, dt: float | None) -> None:
        """Advance by `dt` seconds and write the swung joints (and what hangs below
        them) into `world`, in place. `dt=None` holds the current swing, no time."""
        if not self.levels:
            return
        if dt is not None and (dt < 0 or dt > RESET_AFTER_S):
            self.reset()
            dt = 0.0
        if self._tails is None:
            self._start(world)
        steps = 0
        if dt:
            self._pending = min(self._pending + dt, MAX_STEPS * STEP_S)
            steps = int(self._pending / STEP_S + 1e-9)
            self._pending -= steps * STEP_S
        for _ in range(steps):
            self._step(world, STEP_S)
        if not steps:
            self._hold(world)

    def _start(self, world: np.ndarray) -> None:
        self._tails, self._prev = [], []
        for k, lv in enumerate(self.levels):
            self._hold_level(world, k)  # joints at rest, below their (posed) parents
            joint_world = world[lv.nodes]
            tails = np.einsum("nij,nj->ni", joint_world, np.c_[lv.local_tail, np.ones(len(lv.nodes))])
            center = self._centers(world, lv)
            tails = tails[:, :3] if center is None else _transform(np.linalg.inv(center), tails[:, :3])
            self._tails.append(tails)
            self._prev.append(tails.copy())

    def _centers(self, world: np.ndarray, lv: _Level) -> np.ndarray | None:
        """Each joint's center matrix, or None when the whole level is in stage space."""
        has = lv.centers >= 0
        if not has.any():
            return None
        out = np.broadcast_to(np.eye(4), (len(lv.nodes), 4, 4)).copy()
        out[has] = world[lv.centers[has]]
        return out

    def _parent_world(self, world: np.ndarray, lv: _Level) -> np.ndarray:
        has = lv.parents >= 0
        if has.all():
            return world[lv.parents]
        out = np.broadcast_to(self.stage, (len(lv.nodes), 4, 4)).copy()
        out[has] = world[lv.parents[has]]
        return out

    def _follow(self, world: np.ndarray, lv: _Level) -> None:
        for n in lv.follow:
            p = self.parents[n]
            world[n] = (world[p] if p >= 0 else self.stage) @ self._rest_local[n]

    def _hold_level(self, world: np.ndarray, k: int) -> None:
        lv = self.levels[k]
        local = self._locals[k]
        if isinstance(local, tuple):  # (parent world, joint world) of the last step
            parent_world, swung = local
            local = self._locals[k] = np.linalg.inv(parent_world) @ swung
        world[lv.nodes] = self._parent_world(world, lv) @ local
        self._follow(world, lv)

    def _hold(self, world: np.ndarray) -> None:
        for k in range(len(self.levels)):
            self._hold_level(world, k)

    def _step(self, world: np.ndarray, dt: float) -> None:
        assert self._tails is not None and self._prev is not None
        colliders = self._collider_shapes(world)
        for k, lv in enumerate(self.levels):
            parent_world = self._parent_world(world, lv)
            rest = parent_world @ lv.rest_local  # the joint as if unswung, under its posed parent
            head = rest[:, :3, 3]
            basis = rest[:, :3, :3]
            axis = np.einsum("nij,nj->ni", basis, lv.axis)
            axis /= np.linalg.norm(axis, axis=1, keepdims=True)
            center = self._centers(world, lv)
            cur, prev = self._tails[k], self._prev[k]
            if center is not None:
                cur, prev = _transform(center, cur), _transform(center, prev)
            nxt = (cur + (cur - prev) * lv.keep[:, None] + axis * (dt * lv.stiffness)[:, None]
                   + lv.gravity * dt)
            nxt = _constrain(head, nxt, lv.length)
            if colliders is not None and lv.colliders.any():
                nxt = self._collide(nxt, head, lv, colliders)
            self._prev[k] = self._tails[k]
            self._tails[k] = nxt if center is None else _transform(np.linalg.inv(center), nxt)
            turn = _from_to(axis, (nxt - head) / lv.length[:, None])
            swung = rest.copy()
            swung[:, :3, :3] = turn @ basis
            world[lv.nodes] = swung
            self._locals[k] = (parent_world, swung)
            self._follow(world, lv)

    def _collider_shapes(self, world: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        if not len(self._collider_nodes):
            return None
        mats = world[self._collider_nodes]
        heads = np.einsum("nij,nj->ni", mats, np.c_[self._collider_offset, np.ones(len(mats))])[:, :3]
        tails = np.einsum("nij,nj->ni", mats, np.c_[self._collider_tail, np.ones(len(mats))])[:, :3]
        return heads, tails

    def _collide(self, nxt: np.ndarray, head: np.ndarray, lv: _Level,
                 shapes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Push tails out of the colliders they meet, keeping the bone length.

        The reference pushes straight out of the collider and then re-applies the
        length, which leaves the tail part of the way inside when the bone meets
        the collider at a slant (hair visibly sinking into a shoulder). Here an
        inside tail goes to the nearest point that is both at the bone's length
        and on the collider's surface (a sphere-sphere intersection circle); the
        reference push is the fallback when those do not meet. A capsule's nearest
        axis point moves as the tail does, hence a couple of passes.
        """
        heads, tails = shapes
        used = np.flatnonzero(lv.colliders.any(axis=0))
        near = np.linalg.norm(nxt[:, None, :] - (heads[used] + tails[used])[None] / 2, axis=2)
        far = (np.linalg.norm(tails[used] - heads[used], axis=1) / 2 + self._collider_radius[used])[None]
        if not (lv.colliders[:, used] & (near < far + lv.hit_radius[:, None])).any():
            return nxt  # the usual case: nothing close to any collider
        for _ in range(COLLISION_PASSES):
            moved = False
            for c in used:
                centre = np.broadcast_to(heads[c], nxt.shape)
                if self._collider_capsule[c]:
                    along = tails[c] - heads[c]
                    sq = float(along @ along)
                    if sq > 0:
                        t = np.clip((nxt - heads[c]) @ along / sq, 0.0, 1.0)
                        centre = heads[c] + t[:, None] * along
                delta = nxt - centre
                dist = np.linalg.norm(delta, axis=1)
                reach = self._collider_radius[c] + lv.hit_radius
                inside = lv.colliders[:, c] & (dist < reach - 1e-9)
                if inside.any():
                    nxt = np.where(inside[:, None], _surface_point(head, lv.length, centre, reach, nxt), nxt)
                    moved = True
            if not moved:
                break
        return nxt


def _surface_point(head: np.ndarray, length: np.ndarray, centre: np.ndarray, reach: np.ndarray,
                   tail: np.ndarray) -> np.ndarray:
    """The point nearest `tail` at `length` from `head` and `reach` from `centre`."""
    to_centre = centre - head
    d = np.linalg.norm(to_centre, axis=1)
    u = to_centre / np.where(d > 1e-12, d, 1.0)[:, None]
    a = (d * d + length * length - reach * reach) / (2 * np.where(d > 1e-12, d, 1.0))
    h2 = length * length - a * a
    side = tail - head
    side = side - np.einsum("ni,ni->n", side, u)[:, None] * u
    side_norm = np.linalg.norm(side, axis=1)
    exact = (d > 1e-12) & (h2 > 0) & (side_norm > 1e-12)
    ring = head + a[:, None] * u + np.sqrt(np.maximum(h2, 0))[:, None] * side / np.where(
        side_norm > 1e-12, side_norm, 1.0)[:, None]
    out_dir = tail - centre
    out_norm = np.linalg.norm(out_dir, axis=1)
    pushed = centre + out_dir / np.where(out_norm > 1e-12, out_norm, 1.0)[:, None] * reach[:, None]
    return np.where(exact[:, None], ring, _constrain(head, pushed, length))


def _transform(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.einsum("nij,nj->ni", m[:, :3, :3], points) + m[:, :3, 3]


def _constrain(head: np.ndarray, tail: np.ndarray, length: np.ndarray) -> np.ndarray:
    d = tail - head
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    return head + d / np.where(norm > 1e-12, norm, 1.0) * length[:, None]


def _from_to(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) turning unit vectors a onto unit vectors b."""
    ax, ay, az = a[:, 0], a[:, 1], a[:, 2]
    bx, by, bz = b[:, 0], b[:, 1], b[:, 2]
    v = np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=1)
    c = ax * bx + ay * by + az * bz
    k = np.zeros((len(a), 3, 3))
    k[:, 0, 1], k[:, 0, 2] = -v[:, 2], v[:, 1]
    k[:, 1, 0], k[:, 1, 2] = v[:, 2], -v[:, 0]
    k[:, 2, 0], k[:, 2, 1] = -v[:, 1], v[:, 0]
    scale = 1.0 / np.maximum(1.0 + c, 1e-6)  # opposite vectors cannot happen after a step
    return np.eye(3) + k + (k @ k) * scale[:, None, None]
