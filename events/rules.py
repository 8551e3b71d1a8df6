"""Rules from YAML: `on:` an event type, `when:` a condition, `do:` actions.

    rules:
      - name: big cheer
        on: cheer
        when: bits >= 100
        cooldown_s: 30
        do:
          - vfx: {kind: fireworks, scale: bits, per: 500}
          - say: "Thanks {user} for {bits} bits!"
          - obs.scene: {scene: Celebration, back_after_s: 8}

Each action is a one-key mapping (`vfx: fireworks` is short for `vfx: {kind: fireworks}`).
Rules are tried in file order; an event may match several, unless a matching rule
says `stop: true`. A problem is reported with the file, the rule and the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from bot.link.protocol import MAX_VFX_INTENSITY, VFX_KINDS

from .conditions import Condition, ConditionError, field_kinds
from .model import EVENT_TYPES, StreamEvent
from .templates import Template, TemplateError

EXPRESSIONS = ("happy", "angry", "sad", "relaxed", "surprised", "neutral")


class RulesError(ValueError):
    """A rules file that cannot be used: names the file, the place and the reason."""


# -- actions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One step of an alert; `kind` is its YAML key. Subclasses hold validated values."""

    KIND: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        return self.KIND

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.KIND, **asdict(self)}

    def describe(self, fields: Mapping[str, Any]) -> str:
        return self.KIND


@dataclass(frozen=True)
class Vfx(Action):
    KIND: ClassVar[str] = "vfx"
    effect: str = "fireworks"
    intensity: float = 1.0
    scale: str | None = None  # a number field: intensity = value / per (at least min, at most max)
    per: float = 1.0
    min: float = 0.5
    max: float = MAX_VFX_INTENSITY
    colors: tuple[str, ...] = ()

    def strength(self, fields: Mapping[str, Any]) -> float:
        if self.scale is None:
            return self.intensity
        value = float(fields.get(self.scale) or 0)
        return max(self.min, min(self.max, value / self.per))

    def describe(self, fields: Mapping[str, Any]) -> str:
        return f"vfx {self.effect} ×{self.strength(fields):.2g}"


@dataclass(frozen=True)
class Say(Action):
    KIND: ClassVar[str] = "say"
    text: str = ""

    def describe(self, fields: Mapping[str, Any]) -> str:
        return f"say {Template.parse(self.text).render(fields)!r}"


@dataclass(frozen=True)
class React(Action):
    """A short LLM reaction; the prompt (templated) tells the brain what happened."""

    KIND: ClassVar[str] = "react"
    prompt: str = ""


@dataclass(frozen=True)
class Expression(Action):
    KIND: ClassVar[str] = "expression"
    name: str = "happy"
    hold_s: float = 4.0


@dataclass(frozen=True)
class ObsScene(Action):
    KIND: ClassVar[str] = "obs.scene"
    scene: str = ""
    back_after_s: float | None = None  # then back to the scene that was on before

    def describe(self, fields: Mapping[str, Any]) -> str:
        back = f", back after {self.back_after_s:g} s" if self.back_after_s else ""
        return f"OBS scene {self.scene!r}{back}"


@dataclass(frozen=True)
class ObsSource(Action):
    KIND: ClassVar[str] = "obs.source"
    source: str = ""
    visible: bool = True
    scene: str | None = None  # None: the scene on program now
    for_s: float | None = None  # then the other way again


@dataclass(frozen=True)
class ObsFilter(Action):
    KIND: ClassVar[str] = "obs.filter"
    source: str = ""
    filter: str = ""
    enabled: bool = True
    for_s: float | None = None


@dataclass(frozen=True)
class Wait(Action):
    KIND: ClassVar[str] = "wait"
    seconds: float = 1.0


ACTIONS: dict[str, type[Action]] = {a.KIND: a for a in (Vfx, Say, React, Expression, ObsScene, ObsSource,
                                                       ObsFilter, Wait)}
SHORT_KEY = {"vfx": "effect", "say": "text", "react": "prompt", "expression": "name", "obs.scene": "scene",
             "obs.source": "source", "wait": "seconds"}  # `say: "hi"` means `say: {text: "hi"}`
MAX_WAIT_S = 600.0


def action_from_json(data: Mapping[str, Any]) -> Action:
    """An action back from the journal (the shape `to_json` wrote)."""
    data = dict(data)
    cls = ACTIONS[data.pop("kind")]
    if "colors" in data:
        data["colors"] = tuple(data["colors"])
    return cls(**data)


def parse_action(spec: Any, where: str) -> Action:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise RulesError(f"{where}: each action is a one-key mapping, e.g. `- say: \"Thanks {{user}}!\"`; "
                         f"known actions: {', '.join(ACTIONS)}")
    (kind, value), = spec.items()
    if kind not in ACTIONS:
        raise RulesError(f"{where}: unknown action {kind!r}; known: {', '.join(ACTIONS)}")
    where = f"{where}.{kind}"
    if kind == "react" and value is True:
        value = {}
    if not isinstance(value, Mapping):
        if kind not in SHORT_KEY or isinstance(value, (list, dict)) or value is None:
            raise RulesError(f"{where}: expected a mapping of settings")
        value = {SHORT_KEY[kind]: value}
    cls = ACTIONS[kind]
    allowed = {f for f in cls.__dataclass_fields__}
    if kind == "vfx" and "kind" in value:  # `vfx: {kind: confetti}` reads better than effect
        value = {("effect" if k == "kind" else k): v for k, v in value.items()}
    unknown = set(value) - allowed
    if unknown:
        raise RulesError(f"{where}: unknown setting {sorted(unknown)[0]!r}; known: {', '.join(sorted(allowed))}")
    try:
        action = cls(**{k: _coerce(cls, k, v) for k, v in value.items()})
    except (TypeError, ValueError) as e:
        raise RulesError(f"{where}: {e}") from None
    _check(action, where)
    return action


def _coerce(cls: type[Action], key: str, value: Any) -> Any:
    if key == "colors":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ValueError("colors: a list of '#rrggbb' strings")
        return tuple(value)
    kind = cls.__dataclass_fields__[key].type
    if "float" in str(kind) and value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key}: a number, not {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{key}: a finite number")
        return float(value)
    if "bool" in str(kind) and not isinstance(value, bool):
        raise ValueError(f"{key}: true or false, not {value!r}")
    if "str" in str(kind) and value is not None and not isinstance(value, str):
        raise ValueError(f"{key}: text, not {value!r}")
    return value


def _check(action: Action, where: str) -> None:
    def fail(why: str) -> None:
        raise RulesError(f"{where}: {why}")

    try:
        for text in _templates(action):
            Template.parse(text)
    except TemplateError as e:
        fail(str(e))
    if isinstance(action, Vfx):
        if action.effect not in VFX_KINDS:
            fail(f"unknown effect {action.effect!r}; known: {', '.join(VFX_KINDS)}")
        if not 0.1 <= action.intensity <= MAX_VFX_INTENSITY:
            fail(f"intensity from 0.1 to {MAX_VFX_INTENSITY:g}")
        if action.scale is not None and field_kinds().get(action.scale) not in (int, float):
            numbers = sorted(k for k, v in field_kinds().items() if v in (int, float))
            fail(f"scale: a number field ({', '.join(numbers)}), not {action.scale!r}")
        if action.per <= 0 or not 0.1 <= action.min <= action.max <= MAX_VFX_INTENSITY:
            fail(f"per > 0 and 0.1 <= min <= max <= {MAX_VFX_INTENSITY:g}")
        for c in action.colors:
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", c):
                fail(f"{c!r} is not a '#rrggbb' colour")
    elif isinstance(action, Say) and not action.text.strip():
        fail("say needs text")
    elif isinstance(action, Expression) and action.name not in EXPRESSIONS:
        fail(f"unknown expression {action.name!r}; known: {', '.join(EXPRESSIONS)}")
    elif isinstance(action, ObsScene) and not action.scene:
        fail("which scene? e.g. `obs.scene: {scene: Celebration, back_after_s: 8}`")
    elif isinstance(action, (ObsSource, ObsFilter)) and not action.source:
        fail("which source?")
    elif isinstance(action, ObsFilter) and not action.filter:
        fail("which filter?")
    for name in ("back_after_s", "for_s", "seconds", "hold_s"):
        value = getattr(action, name, None)
        if value is not None and not 0 < value <= MAX_WAIT_S:
            fail(f"{name}: more than 0 and at most {MAX_WAIT_S:g} seconds")


def _templates(action: Action) -> list[str]:
    if isinstance(action, Say):
        return [action.text]
    if isinstance(action, React) and action.prompt:
        return [action.prompt]
    return []


# -- rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    on: tuple[str, ...]
    when: Condition | None
    actions: tuple[Action, ...]
    cooldown_s: float = 0.0
    stop: bool = False

    def matches(self, event: StreamEvent) -> bool:
        return event.type in self.on and (self.when is None or self.when(event))


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    source: str = "<rules>"
    _last: dict[str, float] = field(default_factory=dict, compare=False)

    def match(self, event: StreamEvent, now: float) -> list[tuple[Rule, str | None]]:
        """Each rule that applies, with None, or the reason it was held back."""
        out: list[tuple[Rule, str | None]] = []
        for rule in self.rules:
            if not rule.matches(event):
                continue
            last = self._last.get(rule.name)
            if rule.cooldown_s and last is not None and now - last < rule.cooldown_s:
                out.append((rule, f"cooling down ({rule.cooldown_s - (now - last):.0f} s left)"))
                continue
            self._last[rule.name] = now
            out.append((rule, None))
            if rule.stop:
                break
        return out


RULE_KEYS = {"name", "on", "when", "do", "cooldown_s", "stop"}


def parse_rules(doc: Any, source: str = "<rules>") -> RuleSet:
    if doc is None:
        return RuleSet((), source)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules", []), list):
        raise RulesError(f"{source}: expected `rules:` with a list of rules")
    unknown_top = set(doc) - {"rules"}
    if unknown_top:
        raise RulesError(f"{source}: unknown key {sorted(unknown_top)[0]!r}; the file holds `rules:`")
    rules, names = [], set()
    for i, spec in enumerate(doc.get("rules") or []):
        where = f"{source}: rules[{i}]"
        if not isinstance(spec, Mapping):
            raise RulesError(f"{where}: a rule is a mapping with on:, when: and do:")
        spec = {("on" if k is True else k): v for k, v in spec.items()}  # YAML 1.1 reads `on:` as true
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise RulesError(f"{where}: unknown key {sorted(unknown)[0]!r}; known: {', '.join(sorted(RULE_KEYS))}")
        on = spec.get("on")
        on_list = [on] if isinstance(on, str) else on
        if not on_list or not isinstance(on_list, list) or any(t not in EVENT_TYPES for t in on_list):
            raise RulesError(f"{where}.on: one of {', '.join(EVENT_TYPES)} (or a list of them), not {on!r}")
        name = str(spec.get("name") or f"{'/'.join(on_list)} #{i + 1}")
        if name in names:
            raise RulesError(f"{where}.name: {name!r} is used twice")
        names.add(name)
        where = f"{source}: rule {name!r}"
        when = spec.get("when")
        condition = None
        if when is not None:
            if not isinstance(when, str):
                raise RulesError(f"{where}.when: a condition in quotes, e.g. when: \"bits >= 100\"")
            try:
                condition = Condition.parse(when)
            except ConditionError as e:
                raise RulesError(f"{where}.when: {e}") from None
        do = spec.get("do")
        if not isinstance(do, list) or not do:
            raise RulesError(f"{where}.do: a list of actions")
        actions = tuple(parse_action(a, f"{where}.do[{j}]") for j, a in enumerate(do))
        cooldown = spec.get("cooldown_s", 0)
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or not 0 <= cooldown <= 86400:
            raise RulesError(f"{where}.cooldown_s: seconds from 0 to 86400")
        stop = spec.get("stop", False)
        if not isinstance(stop, bool):
            raise RulesError(f"{where}.stop: true or false")
        rules.append(Rule(name, tuple(on_list), condition, actions, float(cooldown), stop))
    return RuleSet(tuple(rules), source)


def load_rules(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesError(f"{path}: cannot read the rules ({e.strerror or e})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesError(f"{path}: not valid YAML{at}: {getattr(e, 'problem', e)}") from None
    return parse_rules(doc, str(path))
