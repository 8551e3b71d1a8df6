"""`when:` conditions of the rules: a tiny expression language, parsed, never `eval`.

    bits >= 100
    amount >= 5 and currency == "USD"
    reward == "Hydrate" or reward == "Stretch"
    not anonymous and message contains "song"
    (tier >= 2 or months >= 12) and type != "gift"

Names are the fields of a `StreamEvent` (see `StreamEvent.fields`); literals are
numbers, "double" or 'single' quoted strings, true and false. Operators: `==`,
`!=`, `<`, `<=`, `>`, `>=`, `contains`; `and`, `or`, `not` and parentheses.
Strings compare without regard to case, so `reward == "hydrate"` matches "Hydrate".
Everything is checked when the rules load: an unknown field, a string compared with
a number, or a stray character is a `ConditionError` naming the place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .model import StreamEvent

Value = int | float | str | bool
Test = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>\d+(?:\.\d+)?)
    | "(?P<dq>[^"\\]*)"
    | '(?P<sq>[^'\\]*)'
    | (?P<op>==|!=|<=|>=|<|>|\(|\))
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.VERBOSE)
_WORDS = {"and", "or", "not", "contains", "true", "false"}
_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "contains": lambda a, b: b in a,
}
MAX_LENGTH = 500


class ConditionError(ValueError):
    """A condition that cannot be used; the message says where and why."""


def field_kinds() -> dict[str, type]:
    """Each field a condition may name, and whether it is a number, text or yes/no."""
    kinds: dict[str, type] = {}
    for name, info in StreamEvent.model_fields.items():
        if name in ("at", "user_id"):
            continue
        ann = info.annotation
        kinds[name] = bool if ann is bool else (int if ann is int else float if ann is float else str)
    return kinds


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, str, op, name, word, end
    value: Any
    at: int


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionError(f"unexpected {text[pos:].strip()[:10]!r} at character {pos + 1}")
        at = m.start(m.lastgroup) if m.lastgroup else pos
        if m.group("num") is not None:
            num = m.group("num")
            out.append(_Tok("num", float(num) if "." in num else int(num), at))
        elif m.group("dq") is not None or m.group("sq") is not None:
            out.append(_Tok("str", m.group("dq") if m.group("dq") is not None else m.group("sq"), at))
        elif m.group("op") is not None:
            out.append(_Tok("op", m.group("op"), at))
        else:
            word = m.group("name")
            out.append(_Tok("word" if word.lower() in _WORDS else "name",
                            word.lower() if word.lower() in _WORDS else word, at))
        pos = m.end()
    out.append(_Tok("end", None, len(text)))
    return out


class _Parser:
    """Recursive descent over: or → and → not → comparison → operand."""

    def __init__(self, text: str, kinds: Mapping[str, type]):
        self.toks = _tokens(text)
        self.i = 0
        self.kinds = kinds

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def sees(self, kind: str, value: Any) -> bool:
        tok = self.toks[self.i]
        return tok.kind == kind and tok.value == value

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str, value: Any = None) -> _Tok:
        tok = self.take()
        if tok.kind != kind or (value is not None and tok.value != value):
            want = value or kind
            raise ConditionError(f"expected {want!r} at character {tok.at + 1}, found {_show(tok)}")
        return tok

    def parse(self) -> Test:
        test = self.or_()
        if self.peek().kind != "end":
            tok = self.peek()
            raise ConditionError(f"unexpected {_show(tok)} at character {tok.at + 1}")
        return test

    def or_(self) -> Test:
        parts = [self.and_()]
        while self.sees("word", "or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def and_(self) -> Test:
        parts = [self.not_()]
        while self.sees("word", "and"):
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def not_(self) -> Test:
        if self.sees("word", "not"):
            self.take()
            inner = self.not_()
            return lambda f: not inner(f)
        return self.comparison()

    def comparison(self) -> Test:
        if self.sees("op", "("):
            self.take()
            inner = self.or_()
            self.expect("op", ")")
            return inner
        left = self.operand()
        tok = self.peek()
        if tok.kind == "op" and tok.value in _COMPARE or self.sees("word", "contains"):
            self.take()
            right = self.operand()
            return self._compare(left, tok, right)
        if left.kind == bool:  # a yes/no field alone: `anonymous`
            return lambda f: bool(left.get(f))
        raise ConditionError(f"{left.text} needs a comparison (e.g. {left.text} >= 1) "
                             f"at character {tok.at + 1}")

    def operand(self) -> _Operand:
        tok = self.take()
        if tok.kind == "num":
            return _Operand(float, tok.value, None, str(tok.value))
        if tok.kind == "str":
            return _Operand(str, tok.value.casefold(), None, repr(tok.value))
        if tok.kind == "word" and tok.value in ("true", "false"):
            return _Operand(bool, tok.value == "true", None, tok.value)
        if tok.kind == "name":
            if tok.value not in self.kinds:
                known = ", ".join(sorted(self.kinds))
                raise ConditionError(f"unknown field {tok.value!r} at character {tok.at + 1}; known: {known}")
            kind = self.kinds[tok.value]
            return _Operand(float if kind in (int, float) else kind, None, tok.value, tok.value)
        raise ConditionError(f"expected a field or a value at character {tok.at + 1}, found {_show(tok)}")

    def _compare(self, left: _Operand, op: _Tok, right: _Operand) -> Test:
        name = op.value
        if name == "contains":
            if left.kind is not str or right.kind is not str:
                raise ConditionError(f"'contains' works on text, at character {op.at + 1}")
        elif left.kind is not right.kind:
            raise ConditionError(f"cannot compare {left.text} ({_kind(left.kind)}) with {right.text} "
                                 f"({_kind(right.kind)}) at character {op.at + 1}")
        elif left.kind is not float and name not in ("==", "!="):
            raise ConditionError(f"{name} needs numbers, at character {op.at + 1}")
        compare = _COMPARE[name]
        return lambda f: compare(left.get(f), right.get(f))


@dataclass(frozen=True)
class _Operand:
    kind: type
    literal: Any
    field: str | None
    text: str

    def get(self, fields: Mapping[str, Any]) -> Any:
        if self.field is None:
            return self.literal
        value = fields.get(self.field)
        if self.kind is str:
            return str(value or "").casefold()
        if self.kind is float:
            return float(value or 0)
        return bool(value)


def _show(tok: _Tok) -> str:
    return "the end" if tok.kind == "end" else repr(str(tok.value))


def _kind(kind: type) -> str:
    return {float: "a number", str: "text", bool: "yes/no"}[kind]


@dataclass(frozen=True)
class Condition:
    """A parsed condition; `Condition.parse("bits >= 100")(event)` → True or False."""

    text: str
    test: Test

    @classmethod
    def parse(cls, text: str, kinds: Mapping[str, type] | None = None) -> Condition:
        if len(text) > MAX_LENGTH:
            raise ConditionError(f"longer than {MAX_LENGTH} characters")
        if not text.strip():
            raise ConditionError("empty")
        return cls(text, _Parser(text, kinds if kinds is not None else field_kinds()).parse())

    def __call__(self, event: StreamEvent | Mapping[str, Any]) -> bool:
        fields = event.fields() if isinstance(event, StreamEvent) else event
        return self.test(fields)
