"""The THA3 animator: vtbot's per-frame signals in, THA3's 45-value pose out.

It reads exactly what drives a VRM avatar, so the overlay can drive either kind the
same way: the mouth weights `overlay.mouth.MouthDriver` samples at the audio clock
(the five VRM shapes ``aa ih ou ee oh``, already smoothed by the viseme timeline) and
the `avatar.life.LifeFrame` of `avatar.life.IdleLife` (blink and emotion weights,
humanoid bone rotations, gaze). It keeps no state between frames: smoothing, blink
timing and the extra motion while speaking all come from those two, so nothing is
smoothed twice and a frame can be reproduced from its inputs.

How each signal maps (the degree scales are `Tha3AnimatorSettings`):

* mouth ``aa ih ou ee oh`` → ``mouth_aaa iii uuu eee ooo``; the five together never
  exceed ``mouth_total``. While speaking, the emotion's own mouth shapes (its vowels,
  ``mouth_delta``, ``mouth_smirk``) give way: fully once the mouth weights sum to
  ``speech_takes_mouth_at``. Raised and lowered corners stay (a smile while talking);
  the networks render them on an open mouth.
* ``blink`` → closes both eyes: whatever the emotion leaves open is closed, with
  ``eye_wink`` or, once the emotion itself narrows the eyes (happy arcs, relaxed
  lids), mostly in the emotion's own way; ``eye_surprised`` lets go while the lids are
  down.
* gaze (yaw > 0 to the avatar's left, pitch > 0 down, degrees) → ``iris_rotation_y``
  = -yaw / ``gaze_yaw_deg``, ``iris_rotation_x`` = -pitch / ``gaze_pitch_deg``.
* neck·head rotation (relative to the body) → ``head_x`` = -pitch / ``head_pitch_deg``,
  ``head_y`` = -yaw / ``head_yaw_deg``, ``neck_z`` = roll / ``neck_roll_deg``;
  spine·chest·upperChest → ``body_y`` = -yaw / ``body_yaw_deg``, ``body_z`` = roll /
  ``body_roll_deg`` (THA3 has no body pitch). Signs follow `avatar.tha3.pose`.
* the chest's breathing pitch → ``breathing`` = -pitch / ``breath_deg`` (IdleLife
  tilts the chest back by up to ``LifeSettings.breath_deg`` at the top of a breath).
* emotions: every expression weight with a template (`avatar.tha3.emotions`) blends
  that template in proportion to its weight; weights summing above 1 are scaled to
  sum to 1, and what is left below 1 goes to the ``neutral`` template. Template
  rotations are offsets added to the motion above.

Every value is finally clamped to its THA3 range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from avatar.life import LifeFrame, LifeSettings, Quat
from avatar.lipsync.visemes import VRM_SHAPES
from avatar.tha3.emotions import NEUTRAL, RESERVED, EmotionTemplate, load_emotions
from avatar.tha3.pose import POSE_SIZE, Tha3Pose, indices, spec

#: VRM mouth shape → THA3 mouth parameter.
MOUTH_PARAMETERS: Mapping[str, str] = MappingProxyType({
    "aa": "mouth_aaa", "ih": "mouth_iii", "ou": "mouth_uuu", "ee": "mouth_eee", "oh": "mouth_ooo",
})
assert tuple(MOUTH_PARAMETERS) == VRM_SHAPES

_VOWELS = indices(MOUTH_PARAMETERS[s] for s in VRM_SHAPES)
# mouth shapes of an emotion that an open speaking mouth replaces
_SPEECH_REPLACES = indices([*(MOUTH_PARAMETERS[s] for s in VRM_SHAPES),
                            "mouth_delta", "mouth_smirk"])
# per side: the parameters that close an eye, the plain blink, the widener
_CLOSERS = {side: indices([f"eye_wink_{side}", f"eye_happy_wink_{side}", f"eye_relaxed_{side}"])
            for side in ("left", "right")}
_WINK = {side: spec(f"eye_wink_{side}").index for side in ("left", "right")}
_WIDE = {side: spec(f"eye_surprised_{side}").index for side in ("left", "right")}
_I = {name: spec(name).index for name in (
    "iris_rotation_x", "iris_rotation_y", "head_x", "head_y", "neck_z", "body_y", "body_z",
    "breathing")}

_IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)
_BODY_BONES = ("spine", "chest", "upperChest")
_HEAD_BONES = ("neck", "head")


@dataclass(frozen=True)
class Tha3AnimatorSettings:
    """Scales from vtbot's degrees and weights to THA3's ranges.

    The rotation scales are the degrees that reach ±1. Measured on the reference
    networks' frames, ``neck_z`` = 1 tilts the face about 10° and ``body_z`` = 1 the
    upper body about 5°; ``head_y`` = 1 and ``body_y`` = 1 move the eyes and chest as
    turns of roughly 10° and 5° would; for ``head_x`` the reference's face-capture
    converter uses 15°. Larger values give calmer motion.
    """

    head_pitch_deg: float = 15.0
    head_yaw_deg: float = 10.0
    neck_roll_deg: float = 10.0
    body_yaw_deg: float = 5.0
    body_roll_deg: float = 5.0
    gaze_yaw_deg: float = 20.0  # IdleLife's saccades reach ±7° (±0.35), ±4° up and down
    gaze_pitch_deg: float = 15.0
    breath_deg: float = LifeSettings().breath_deg
    mouth_total: float = 1.0  # the five vowel shapes together never exceed this
    speech_takes_mouth_at: float = 0.5  # mouth weight sum at which speech owns the mouth
    blink_own_style_at: float = 0.5  # eye closure from which a blink follows the emotion's way

    def __post_init__(self) -> None:
        for name in ("head_pitch_deg", "head_yaw_deg", "neck_roll_deg", "body_yaw_deg",
                     "body_roll_deg", "gaze_yaw_deg", "gaze_pitch_deg", "breath_deg",
                     "speech_takes_mouth_at", "blink_own_style_at"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Tha3AnimatorSettings.{name} must be > 0")
        if not 0 < self.mouth_total <= 1:
            raise ValueError("Tha3AnimatorSettings.mouth_total must be in (0, 1]")


@dataclass
class Tha3Animator:
    """Turns one frame's life and mouth into a THA3 pose (stateless per frame).

    ``emotions_dir``: the streamer's folder of templates, read over the shipped set
    (a file there replaces the shipped one of the same name); errors name the file.
    """

    emotions_dir: str | Path | None = None
    settings: Tha3AnimatorSettings = field(default_factory=Tha3AnimatorSettings)

    def __post_init__(self) -> None:
        self._templates = MappingProxyType(load_emotions(self.emotions_dir))

    @property
    def templates(self) -> Mapping[str, EmotionTemplate]:
        return self._templates

    def pose(self, life: LifeFrame | None, mouth: Mapping[str, float]) -> Tha3Pose:
        """The pose for one frame; ``life`` None means the resting face with no motion."""
        expressions = life.expressions if life is not None else {}
        v = self._emotions(expressions)
        self._mouth(v, mouth)
        self._blink(v, _unit(expressions.get("blink", 0.0)))
        if life is not None:
            self._gaze(v, life.look_at)
            self._motion(v, life.bones)
        return Tha3Pose(v.astype(np.float32))

    # -- emotions ----------------------------------------------------------------------

    def emotion_weights(self, expressions: Mapping[str, float]) -> dict[str, float]:
        """Each template's share of the face: proportional, at most 1 in all, the rest neutral."""
        weights = {name: _unit(w) for name, w in expressions.items()
                   if name in self._templates and name not in RESERVED}
        weights = {name: w for name, w in weights.items() if w > 0.0}
        total = sum(weights.values())
        if total > 1.0:
            weights = {name: w / total for name, w in weights.items()}
            total = 1.0
        if total < 1.0 and NEUTRAL in self._templates:
            weights[NEUTRAL] = weights.get(NEUTRAL, 0.0) + (1.0 - total)
        return weights

    def _emotions(self, expressions: Mapping[str, float]) -> np.ndarray:
        v = np.zeros(POSE_SIZE, dtype=np.float64)
        for name, w in self.emotion_weights(expressions).items():
            v += w * self._templates[name].values
        return v

    # -- mouth -------------------------------------------------------------------------

    def _mouth(self, v: np.ndarray, mouth: Mapping[str, float]) -> None:
        speech = np.array([_unit(mouth.get(shape, 0.0)) for shape in VRM_SHAPES])
        energy = min(1.0, float(speech.sum()))
        v[_SPEECH_REPLACES] *= max(0.0, 1.0 - energy / self.settings.speech_takes_mouth_at)
        v[_VOWELS] += speech
        total = float(v[_VOWELS].sum())
        if total > self.settings.mouth_total:
            v[_VOWELS] *= self.settings.mouth_total / total

    # -- eyes --------------------------------------------------------------------------

    def _blink(self, v: np.ndarray, blink: float) -> None:
        for side, closers in _CLOSERS.items():
            closed = float(v[closers].sum())
            if closed > 1.0:  # templates that close an eye two ways at once
                v[closers] /= closed
                closed = 1.0
            if blink <= 0.0:
                continue
            extra = blink * (1.0 - closed)
            own = closed / max(closed, self.settings.blink_own_style_at)
            if closed > 0.0:
                v[closers] += extra * own * v[closers] / closed
            v[_WINK[side]] += extra * (1.0 - own)
            v[_WIDE[side]] *= 1.0 - blink

    def _gaze(self, v: np.ndarray, look_at: tuple[float, float]) -> None:
        yaw, pitch = (_finite(a) for a in look_at)
        v[_I["iris_rotation_y"]] += -yaw / self.settings.gaze_yaw_deg
        v[_I["iris_rotation_x"]] += -pitch / self.settings.gaze_pitch_deg

    # -- head, body, breath ------------------------------------------------------------

    def _motion(self, v: np.ndarray, bones: Mapping[str, Quat]) -> None:
        s = self.settings
        pitch, yaw, roll = euler_from_quat(_chain(bones, _HEAD_BONES))
        v[_I["head_x"]] += -pitch / s.head_pitch_deg
        v[_I["head_y"]] += -yaw / s.head_yaw_deg
        v[_I["neck_z"]] += roll / s.neck_roll_deg
        _, yaw, roll = euler_from_quat(_chain(bones, _BODY_BONES))
        v[_I["body_y"]] += -yaw / s.body_yaw_deg
        v[_I["body_z"]] += roll / s.body_roll_deg
        chest_pitch = euler_from_quat(bones.get("chest", _IDENTITY))[0]
        v[_I["breathing"]] = -chest_pitch / s.breath_deg


# -- quaternions (x, y, z, w), as avatar.life makes them -------------------------------


def quat_multiply(a: Quat, b: Quat) -> Quat:
    """``a`` then ``b`` in the parent's frame: the rotation of a child ``b`` under ``a``."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz)


def euler_from_quat(q: Quat) -> tuple[float, float, float]:
    """(pitch, yaw, roll) in degrees, the inverse of `avatar.life.quat_from_euler`."""
    x, y, z, w = (_finite(c) for c in q)
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if n == 0.0:
        return (0.0, 0.0, 0.0)
    x, y, z, w = x / n, y / n, z / n, w / n
    pitch = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    yaw = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    roll = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return (math.degrees(pitch), math.degrees(yaw), math.degrees(roll))


def _chain(bones: Mapping[str, Quat], names: tuple[str, ...]) -> Quat:
    q = _IDENTITY
    for name in names:
        if name in bones:
            q = quat_multiply(q, bones[name])
    return q


def _finite(x: float) -> float:
    x = float(x)
    return x if math.isfinite(x) else 0.0


def _unit(x: float) -> float:
    return min(1.0, max(0.0, _finite(x)))
