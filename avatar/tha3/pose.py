"""THA3's 45-value pose vector: which value is which, its range, and a clamped container.

The networks read the pose as 45 numbers in a fixed order, with no names: 12 eyebrow
values, 27 face values (eyes, iris size, mouth, iris rotation) and 6 rotation values
(head, neck, body, breathing). The order, groups and ranges below are those of the
reference implementation (``tha3`` 0.1.9, ``tha3/poser/modes/pose_parameters.py``), so
a vector built here means the same to the official weights. Groups with two values
have a ``_left`` and a ``_right`` value, the character's own left and right (the
reference renders ``eye_wink_left`` closing the eye on the viewer's right).

Signs, as the reference networks render them (seen on their frames): ``head_x`` and
``iris_rotation_x`` > 0 look up; ``head_y``, ``body_y`` and ``iris_rotation_y`` > 0 turn
or look towards the character's right (the viewer's left); ``neck_z`` and ``body_z`` > 0
tilt counter-clockwise as the viewer sees it (the top of the head goes to the viewer's
left). ``eye_wink`` closes an eye plainly, ``eye_happy_wink`` into a smiling arc,
``eye_relaxed`` into a flat line.

The reference gives ``mouth_aaa`` a default of 1 for its manual poser's slider; vtbot's
rest pose is all zeros (a closed mouth), which the networks render as the input image.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

POSE_SIZE = 45

UNIT = (0.0, 1.0)
SIGNED = (-1.0, 1.0)

# (group, category, number of values, range): the reference's order.
_GROUPS: tuple[tuple[str, str, int, tuple[float, float]], ...] = (
    ("eyebrow_troubled", "eyebrow", 2, UNIT),
    ("eyebrow_angry", "eyebrow", 2, UNIT),
    ("eyebrow_lowered", "eyebrow", 2, UNIT),
    ("eyebrow_raised", "eyebrow", 2, UNIT),
    ("eyebrow_happy", "eyebrow", 2, UNIT),
    ("eyebrow_serious", "eyebrow", 2, UNIT),
    ("eye_wink", "eye", 2, UNIT),
    ("eye_happy_wink", "eye", 2, UNIT),
    ("eye_surprised", "eye", 2, UNIT),
    ("eye_relaxed", "eye", 2, UNIT),
    ("eye_unimpressed", "eye", 2, UNIT),
    ("eye_raised_lower_eyelid", "eye", 2, UNIT),
    ("iris_small", "iris_morph", 2, UNIT),
    ("mouth_aaa", "mouth", 1, UNIT),
    ("mouth_iii", "mouth", 1, UNIT),
    ("mouth_uuu", "mouth", 1, UNIT),
    ("mouth_eee", "mouth", 1, UNIT),
    ("mouth_ooo", "mouth", 1, UNIT),
    ("mouth_delta", "mouth", 1, UNIT),
    ("mouth_lowered_corner", "mouth", 2, UNIT),
    ("mouth_raised_corner", "mouth", 2, UNIT),
    ("mouth_smirk", "mouth", 1, UNIT),
    ("iris_rotation_x", "iris_rotation", 1, SIGNED),
    ("iris_rotation_y", "iris_rotation", 1, SIGNED),
    ("head_x", "face_rotation", 1, SIGNED),
    ("head_y", "face_rotation", 1, SIGNED),
    ("neck_z", "face_rotation", 1, SIGNED),
    ("body_y", "body_rotation", 1, SIGNED),
    ("body_z", "body_rotation", 1, SIGNED),
    ("breathing", "breathing", 1, UNIT),
)


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One pose value: where it sits in the vector and what it may hold."""

    name: str
    index: int
    group: str
    category: str
    low: float
    high: float
    side: str | None = None  # "left" or "right" for two-sided groups

    @property
    def range(self) -> tuple[float, float]:
        return (self.low, self.high)

    def clamp(self, value: float) -> float:
        return min(self.high, max(self.low, float(value)))


def _build() -> tuple[ParamSpec, ...]:
    specs: list[ParamSpec] = []
    for group, category, arity, (low, high) in _GROUPS:
        sides: tuple[str | None, ...] = ("left", "right") if arity == 2 else (None,)
        for side in sides:
            name = f"{group}_{side}" if side else group
            specs.append(ParamSpec(name, len(specs), group, category, low, high, side))
    return tuple(specs)


PARAMETERS: tuple[ParamSpec, ...] = _build()
PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
GROUPS: tuple[str, ...] = tuple(g for g, *_ in _GROUPS)
_BY_NAME: dict[str, ParamSpec] = {p.name: p for p in PARAMETERS}
_BY_GROUP: dict[str, tuple[ParamSpec, ...]] = {
    g: tuple(p for p in PARAMETERS if p.group == g) for g in GROUPS
}
LOW = np.array([p.low for p in PARAMETERS], dtype=np.float32)
HIGH = np.array([p.high for p in PARAMETERS], dtype=np.float32)

assert len(PARAMETERS) == POSE_SIZE


def spec(name: str) -> ParamSpec:
    """The parameter called ``name`` (a KeyError that lists nothing: use `resolve` for users)."""
    return _BY_NAME[name]


def resolve(name: str) -> tuple[ParamSpec, ...]:
    """A parameter name, or a two-sided group name meaning both its sides.

    ``eyebrow_happy`` gives the left and right values, ``mouth_aaa`` its one value.
    """
    if name in _BY_NAME:
        return (_BY_NAME[name],)
    if name in _BY_GROUP:
        return _BY_GROUP[name]
    raise KeyError(name)


def indices(names: Iterable[str]) -> np.ndarray:
    """Vector positions of parameters or groups, for slicing many values at once."""
    return np.array([p.index for n in names for p in resolve(n)], dtype=np.intp)


def in_category(*categories: str) -> np.ndarray:
    """Vector positions of every parameter in the given categories."""
    return np.array([p.index for p in PARAMETERS if p.category in categories], dtype=np.intp)


def clamp_vector(values: np.ndarray) -> np.ndarray:
    """Each value clamped to its parameter's range (a new float32 array)."""
    return np.clip(np.asarray(values, dtype=np.float32), LOW, HIGH)


def _zeros() -> np.ndarray:
    return np.zeros(POSE_SIZE, dtype=np.float32)


@dataclass
class Tha3Pose:
    """45 float32 values, always within their ranges; read and written by name.

    Writing a group name (``eyebrow_happy``) writes both sides; reading one returns
    the mean of its sides. Values out of range are clamped, not rejected: the
    animator adds signals together and the networks must never see more than 1.
    """

    values: np.ndarray = field(default_factory=_zeros)

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float32).reshape(-1)
        if v.shape != (POSE_SIZE,):
            raise ValueError(f"a THA3 pose has {POSE_SIZE} values, not {v.size}")
        if not np.all(np.isfinite(v)):
            raise ValueError("a THA3 pose must be finite numbers")
        self.values = clamp_vector(v)

    @classmethod
    def from_dict(cls, values: Mapping[str, float]) -> Tha3Pose:
        pose = cls()
        for name, value in values.items():
            pose[name] = value
        return pose

    def __getitem__(self, name: str) -> float:
        specs = resolve(name)
        return float(np.mean([self.values[p.index] for p in specs]))

    def __setitem__(self, name: str, value: float) -> None:
        for p in resolve(name):
            self.values[p.index] = p.clamp(value)

    def get(self, name: str) -> float:
        return self[name]

    def set(self, name: str, value: float) -> None:
        self[name] = value

    def add(self, name: str, delta: float) -> None:
        """Add to a parameter (or both sides of a group), clamped."""
        for p in resolve(name):
            self.values[p.index] = p.clamp(self.values[p.index] + delta)

    def copy(self) -> Tha3Pose:
        return Tha3Pose(self.values.copy())

    def as_dict(self, nonzero: bool = False) -> dict[str, float]:
        """Name → value, in the vector's order (only the non-zero ones if asked)."""
        return {p.name: float(self.values[p.index]) for p in PARAMETERS
                if not nonzero or self.values[p.index] != 0.0}

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.values if dtype is None else self.values.astype(dtype)
        return out.copy() if copy and out is self.values else out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tha3Pose) and bool(np.array_equal(self.values, other.values))
