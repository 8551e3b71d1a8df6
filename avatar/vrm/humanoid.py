"""Humanoid bone names (VRM 1.0) and the VRM 0.x spellings mapped onto them.

The animation side addresses bones only by these names, so a pose written for
one avatar drives any other.
"""

from __future__ import annotations

from collections.abc import Iterable

_SIDES = ("left", "right")
_FINGERS = {
    "Thumb": ("Metacarpal", "Proximal", "Distal"),
    "Index": ("Proximal", "Intermediate", "Distal"),
    "Middle": ("Proximal", "Intermediate", "Distal"),
    "Ring": ("Proximal", "Intermediate", "Distal"),
    "Little": ("Proximal", "Intermediate", "Distal"),
}
BONES: tuple[str, ...] = (
    "hips", "spine", "chest", "upperChest", "neck",
    "head", "leftEye", "rightEye", "jaw",
    *(f"{s}{p}" for s in _SIDES for p in ("UpperLeg", "LowerLeg", "Foot", "Toes")),
    *(f"{s}{p}" for s in _SIDES for p in ("Shoulder", "UpperArm", "LowerArm", "Hand")),
    *(f"{s}{f}{j}" for s in _SIDES for f, joints in _FINGERS.items() for j in joints),
)
REQUIRED: tuple[str, ...] = (
    "hips", "spine", "head",
    *(f"{s}{p}" for s in _SIDES for p in ("UpperLeg", "LowerLeg", "Foot")),
    *(f"{s}{p}" for s in _SIDES for p in ("UpperArm", "LowerArm", "Hand")),
)
#: VRM 0.x thumb bones were named one joint further out than in 1.0.
V0_RENAMES = {
    f"{s}Thumb{old}": f"{s}Thumb{new}"
    for s in _SIDES
    for old, new in (("Proximal", "Metacarpal"), ("Intermediate", "Proximal"))
}


def humanoid_from_vrm1(human_bones: dict, n_nodes: int, notes: list[str]) -> dict[str, int]:
    """VRMC_vrm.humanoid.humanBones: {"hips": {"node": 3}, ...}."""
    pairs = ((name, bone.get("node") if isinstance(bone, dict) else None)
             for name, bone in (human_bones or {}).items())
    return _checked(pairs, n_nodes, notes)


def humanoid_from_vrm0(human_bones: list, n_nodes: int, notes: list[str]) -> dict[str, int]:
    """VRM 0.x humanoid.humanBones: [{"bone": "hips", "node": 3}, ...], renamed to 1.0."""
    pairs = ((V0_RENAMES.get(b.get("bone"), b.get("bone")), b.get("node"))
             for b in (human_bones or []) if isinstance(b, dict))
    return _checked(pairs, n_nodes, notes)


def _checked(pairs: Iterable[tuple[str, object]], n_nodes: int, notes: list[str]) -> dict[str, int]:
    bones: dict[str, int] = {}
    for name, node in pairs:
        if name not in BONES:
            notes.append(f"unknown humanoid bone {name!r} ignored")
        elif not (isinstance(node, int) and 0 <= node < n_nodes):
            notes.append(f"humanoid bone {name!r} points at missing node {node!r}")
        elif name in bones:
            notes.append(f"humanoid bone {name!r} is assigned twice; the first one is kept")
        else:
            bones[name] = node
    missing = [b for b in REQUIRED if b not in bones]
    if missing:
        notes.append(f"required humanoid bones missing: {', '.join(missing)}")
    return dict(sorted(bones.items(), key=lambda kv: BONES.index(kv[0])))
