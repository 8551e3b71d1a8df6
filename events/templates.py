"""Templated text of the rules: "Thanks {user} for {bits} bits!".

Only `{field}` is understood (fields of `StreamEvent.fields`, `{{` and `}}` for
braces): no attribute access, indexing or format specs, so a template can never
reach into Python objects. Names are checked when the rules load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import field_kinds

_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
MAX_FIELD_CHARS = 300  # a viewer's message is cut here before it is spoken


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Template:
    text: str
    names: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        known = field_kinds()
        names = []
        for m in _PART.finditer(text):
            token = m.group(0)
            if token in ("{{", "}}"):
                continue
            name = m.group(1)
            if name is None:
                raise TemplateError(f"a lone {token!r} at character {m.start() + 1} (write {token * 2} for a brace)")
            if name not in known:
                raise TemplateError(f"unknown field {{{name}}}; known: {', '.join('{' + k + '}' for k in sorted(known))}")
            names.append(name)
        return cls(text, tuple(names))

    def render(self, fields: Mapping[str, Any]) -> str:
        def sub(m: re.Match[str]) -> str:
            token = m.group(0)
            if token == "{{":
                return "{"
            if token == "}}":
                return "}"
            return show(fields.get(m.group(1), ""))

        return _PART.sub(sub, self.text)


def show(value: Any) -> str:
    """A value as it is read aloud: 5 not 5.0, 2.50 for money, long text cut."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    text = str(value)
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS].rsplit(" ", 1)[0] + "…"
