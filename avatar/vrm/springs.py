"""Spring bones (hair, skirts, ears) from VRMC_springBone (1.0) or secondaryAnimation (0.x).

VRM 0.x names only the root of each swaying branch and lets every descendant
sway; VRM 1.0 lists explicit chains. 0.x branches are unrolled into 1.0 chains
here: the first child continues a chain, further children start new ones, and
no joint is in two chains (the 1.0 spec forbids that). 0.x stored vectors in
Unity's left-handed space, so their Z is negated to match the glTF nodes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from avatar.vrm.model import Collider, ColliderGroup, Node, Spring, SpringBones, SpringJoint

#: VRM 0.x leaves sway towards a virtual tail this far beyond the last bone.
V0_TAIL_LENGTH = 0.07


def springs_from_vrm1(ext: dict, n_nodes: int, notes: list[str]) -> SpringBones:
    colliders = []
    for i, c in enumerate(ext.get("colliders", [])):
        node, shape = c.get("node"), c.get("shape", {})
        if not _is_node(node, n_nodes):
            notes.append(f"spring bone collider {i} points at missing node {node!r}; skipped")
            colliders.append(None)
            continue
        if "capsule" in shape:
            cap = shape["capsule"]
            colliders.append(Collider(node, "capsule", _v3(cap.get("offset")),
                                      float(cap.get("radius", 0.0)), _v3(cap.get("tail"))))
        else:
            sph = shape.get("sphere", {})
            colliders.append(Collider(node, "sphere", _v3(sph.get("offset")),
                                      float(sph.get("radius", 0.0))))
    kept = _compact(colliders)
    groups = tuple(
        ColliderGroup(g.get("name"), tuple(kept[c] for c in g.get("colliders", []) if c in kept))
        for g in ext.get("colliderGroups", [])
    )
    springs = []
    for i, s in enumerate(ext.get("springs", [])):
        joints = []
        for j in s.get("joints", []):
            if not _is_node(j.get("node"), n_nodes):
                notes.append(f"spring {i} has a joint on missing node {j.get('node')!r}; skipped")
                continue
            joints.append(SpringJoint(
                node=j["node"],
                hit_radius=float(j.get("hitRadius", 0.0)),
                stiffness=float(j.get("stiffness", 1.0)),
                gravity_power=float(j.get("gravityPower", 0.0)),
                gravity_dir=_v3(j.get("gravityDir"), (0.0, -1.0, 0.0)),
                drag_force=float(j.get("dragForce", 0.5)),
            ))
        center = s.get("center")
        springs.append(Spring(
            name=s.get("name"),
            joints=tuple(joints),
            collider_groups=_valid_indices(s.get("colliderGroups", []), len(groups)),
            center=center if _is_node(center, n_nodes) else None,
        ))
    return SpringBones(tuple(c for c in colliders if c), groups, tuple(springs))


def springs_from_vrm0(sec: dict, nodes: Sequence[Node], notes: list[str]) -> SpringBones:
    colliders: list[Collider] = []
    groups = []
    for i, g in enumerate(sec.get("colliderGroups", [])):
        node = g.get("node")
        members: list[int] = []
        if _is_node(node, len(nodes)):
            for c in g.get("colliders", []):
                members.append(len(colliders))
                colliders.append(Collider(node, "sphere", _unity_v3(c.get("offset")),
                                          float(c.get("radius", 0.0))))
        else:
            notes.append(f"collider group {i} points at missing node {node!r}; left empty")
        groups.append(ColliderGroup(None, tuple(members)))

    springs = []
    claimed: set[int] = set()
    for gi, group in enumerate(sec.get("boneGroups", [])):
        joint_args = dict(
            hit_radius=float(group.get("hitRadius", 0.0)),
            stiffness=float(group.get("stiffiness", group.get("stiffness", 1.0))),  # sic, 0.x
            gravity_power=float(group.get("gravityPower", 0.0)),
            gravity_dir=_unity_v3(group.get("gravityDir"), (0.0, -1.0, 0.0)),
            drag_force=float(group.get("dragForce", 0.4)),
        )
        center = group.get("center", -1)
        for root in group.get("bones", []):
            if not _is_node(root, len(nodes)):
                notes.append(f"bone group {gi} has missing root node {root!r}; skipped")
                continue
            for chain in _unroll(root, nodes, claimed):
                springs.append(Spring(
                    name=group.get("comment") or None,
                    joints=tuple(SpringJoint(node=n, **joint_args) for n in chain),
                    collider_groups=_valid_indices(group.get("colliderGroups", []), len(groups)),
                    center=center if _is_node(center, len(nodes)) else None,
                    tail_length=V0_TAIL_LENGTH,
                ))
    return SpringBones(tuple(colliders), tuple(groups), tuple(springs))


def _unroll(root: int, nodes: Sequence[Node], claimed: set[int]) -> list[list[int]]:
    """Chains covering `root` and its descendants: first children continue a
    chain, other children start new ones; nodes already in a chain are skipped."""
    chains = []
    starts = deque([root])
    while starts:
        node = starts.popleft()
        chain = []
        while node is not None and node not in claimed:
            chain.append(node)
            claimed.add(node)
            kids = nodes[node].children
            starts.extend(kids[1:])
            node = kids[0] if kids else None
        if chain:
            chains.append(chain)
    return chains


def _is_node(value: object, count: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count


def _valid_indices(values: Sequence[object], count: int) -> tuple[int, ...]:
    return tuple(v for v in values if _is_node(v, count))


def _compact(items: list[Collider | None]) -> dict[int, int]:
    """Old index -> new index for the items that were kept."""
    mapping, n = {}, 0
    for i, item in enumerate(items):
        if item is not None:
            mapping[i] = n
            n += 1
    return mapping


def _v3(
    values: object, default: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> tuple[float, float, float]:
    if isinstance(values, (list, tuple)) and len(values) == 3:
        return (float(values[0]), float(values[1]), float(values[2]))
    return default


def _unity_v3(
    values: object, default: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> tuple[float, float, float]:
    """A 0.x {x, y, z} object in Unity space as a glTF vector (Z negated)."""
    if not isinstance(values, dict):
        return default
    return (float(values.get("x", 0.0)), float(values.get("y", 0.0)), -float(values.get("z", 0.0)))
