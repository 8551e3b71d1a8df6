"""Emotion templates for the THA3 avatar: one JSON file per expression, editable by the streamer.

A template is the face an emotion makes at full strength. The file's name is the
expression's name as vtbot sends it (``happy.json`` for ``happy``); the file holds::

    {
      "description": "optional words for people",
      "pose": {"eyebrow_happy": 1.0, "eye_happy_wink": 0.7, "mouth_raised_corner": 1.0}
    }

``pose`` maps THA3 parameter names (``eye_wink_left``) or two-sided group names
(``eye_wink``: both sides; a side named on its own wins over its group) to values in
the parameter's range (see `avatar.tha3.pose`). Parameters left out are 0. Rotations
(``head_x`` ... ``body_z``, ``iris_rotation_x``/``_y``, range -1..1) are offsets added to
the idle motion, so a sad face can look a little down; ``breathing`` is not allowed
(the idle life breathes). ``neutral.json`` is the resting face, shown wherever no other
emotion is.

The shipped set lives next to this module. A streamer's folder is read after it: a
file there replaces the shipped one of the same name, new names add emotions. Any
mistake stops loading with the file, the key and the reason, so a typo never silently
gives a blank face.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar.tha3.errors import Tha3Error
from avatar.tha3.pose import GROUPS, PARAMETER_NAMES, POSE_SIZE, ParamSpec, resolve

SHIPPED_DIR = Path(__file__).resolve().parent
NEUTRAL = "neutral"
# Driven by blinking and lip sync, never by a template.
RESERVED = frozenset({"blink", "aa", "ih", "ou", "ee", "oh"})
FORBIDDEN_PARAMETERS = frozenset({"breathing"})
TOP_LEVEL_KEYS = ("description", "pose")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class EmotionTemplateError(Tha3Error):
    """A template file is wrong; says which file, which key and why."""

    def __init__(self, file: Path, key: str, reason: str):
        self.file = Path(file)
        self.key = key
        self.reason = reason
        super().__init__(f"{self.file}: {key}: {reason}")


@dataclass(frozen=True, eq=False)
class EmotionTemplate:
    """One emotion's face at full strength, as a full 45-value vector (0 where unset)."""

    name: str
    values: np.ndarray
    source: Path
    description: str = ""

    def value(self, name: str) -> float:
        """A parameter's value (the mean of both sides for a group name)."""
        return float(np.mean([self.values[p.index] for p in resolve(name)]))

    def set_values(self) -> dict[str, float]:
        """The values this template sets (non-zero), by parameter name."""
        return {PARAMETER_NAMES[i]: float(v) for i, v in enumerate(self.values) if v != 0.0}


def load_template(path: str | Path) -> EmotionTemplate:
    """Read and check one template file."""
    path = Path(path)
    name = path.stem
    if not _NAME.match(name):
        raise EmotionTemplateError(path, "(file name)", f"{name!r} is not an expression name: "
                                   "use lower-case letters, digits and _, e.g. happy.json")
    if name in RESERVED:
        raise EmotionTemplateError(path, "(file name)", f"{name!r} is reserved: blinking and "
                                   "lip sync drive it, not a template")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise EmotionTemplateError(path, "(file)", f"cannot be read: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise EmotionTemplateError(path, "(file)", f"is not UTF-8 text: {e.reason}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise EmotionTemplateError(path, "(json)", f"not valid JSON: {e.msg} at line {e.lineno}, "
                                   f"column {e.colno}") from e
    if not isinstance(data, dict):
        raise EmotionTemplateError(path, "(json)", "the file must hold one JSON object "
                                   '{"description": ..., "pose": {...}}')
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise EmotionTemplateError(path, key, "unknown key; a template has only "
                                       + " and ".join(TOP_LEVEL_KEYS)
                                       + _suggest(key, TOP_LEVEL_KEYS))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise EmotionTemplateError(path, "description", "must be a string")
    if "pose" not in data:
        raise EmotionTemplateError(path, "pose", 'missing; give the values as "pose": '
                                   '{"eyebrow_happy": 1.0, ...} ({} for none)')
    pose = data["pose"]
    if not isinstance(pose, dict):
        raise EmotionTemplateError(path, "pose", "must be an object of parameter: value")
    return EmotionTemplate(name, _vector(path, pose), path, description)


def _vector(path: Path, pose: Mapping[str, object]) -> np.ndarray:
    values = np.zeros(POSE_SIZE, dtype=np.float32)
    # group names first, so that a side named on its own wins over its group
    for key in sorted(pose, key=lambda k: k not in GROUPS):
        where = f"pose.{key}"
        try:
            specs = resolve(key)
        except KeyError:
            raise EmotionTemplateError(path, where, "unknown THA3 parameter"
                                       + _suggest(key, PARAMETER_NAMES + GROUPS)) from None
        if key in FORBIDDEN_PARAMETERS:
            raise EmotionTemplateError(path, where, "not allowed in a template: the idle life "
                                       "drives breathing")
        raw = pose[key]
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise EmotionTemplateError(path, where, f"must be a number, not {json.dumps(raw)}")
        if not math.isfinite(raw):
            raise EmotionTemplateError(path, where, "must be a finite number")
        for p in specs:
            _check_range(path, where, p, float(raw))
            values[p.index] = raw
    return values


def _check_range(path: Path, where: str, p: ParamSpec, value: float) -> None:
    if not p.low <= value <= p.high:
        raise EmotionTemplateError(path, where, f"{value:g} is out of range: {p.name} takes "
                                   f"{p.low:g} to {p.high:g}")


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_folder(folder: str | Path) -> dict[str, EmotionTemplate]:
    """Every ``*.json`` template in a folder, by name (other files are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EmotionTemplateError(folder, "(folder)", "no such folder of emotion templates; "
                                   "point the THA3 emotions setting at a folder of *.json files")
    return {t.name: t for t in (load_template(p) for p in sorted(folder.glob("*.json")))}


def load_emotions(user_dir: str | Path | None = None) -> dict[str, EmotionTemplate]:
    """The shipped templates, then the streamer's folder replacing them by name."""
    templates = load_folder(SHIPPED_DIR)
    if user_dir is not None:
        templates.update(load_folder(user_dir))
    return templates
