"""The README's figures, tied to the benchmark JSON they come from.

Every measured figure in the README is written between two HTML comments (invisible
when the README is rendered) that name its source:

    TTFA p50 <!--fig bench_latency:ttfa_s.p50-->0.55<!--/fig--> s
    <!--fig bench_latency:ttfa_s.p50*1000-->550<!--/fig--> ms

``bench_latency`` is ``scripts/results/bench_latency.json``; the path walks dicts by
key and lists by index; ``*N`` scales the value. The text shown keeps its own format
(decimals, thousands separators): :func:`render` rewrites it from the JSON, and
:func:`check` reports every figure that no longer matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "scripts" / "results"
README = ROOT / "README.md"

MARK = re.compile(r"<!--fig (?P<file>[\w.-]+):(?P<path>[\w.\-\[\]]+)(?:\*(?P<scale>[\d.]+))?-->"
                  r"(?P<text>[^<]*)<!--/fig-->")


@dataclass(frozen=True)
class Figure:
    file: str
    path: str
    scale: float
    text: str
    start: int
    end: int

    @property
    def source(self) -> str:
        return f"{self.file}.json:{self.path}" + (f"*{self.scale:g}" if self.scale != 1 else "")


def figures(readme: str) -> list[Figure]:
    return [Figure(m["file"], m["path"], float(m["scale"] or 1), m["text"], m.start(), m.end())
            for m in MARK.finditer(readme)]


def lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise KeyError(f"no {part!r} in {path!r}")
    return data


def fmt_like(value: float, shown: str) -> str:
    """``value`` written as ``shown`` is: its decimals and its thousands separators."""
    text = shown.strip()
    decimals = len(text.split(".")[1]) if "." in text else 0
    out = f"{value:,.{decimals}f}" if "," in text else f"{value:.{decimals}f}"
    return out


def value_of(fig: Figure, results: Path = RESULTS) -> float:
    path = results / f"{fig.file}.json"
    data = json.loads(path.read_text())
    raw = lookup(data, fig.path)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise TypeError(f"{fig.source} is {raw!r}, not a number")
    return float(raw) * fig.scale


def check(readme: str, results: Path = RESULTS) -> list[str]:
    """One line per figure whose text differs from its JSON (empty when all agree)."""
    problems = []
    for fig in figures(readme):
        try:
            want = fmt_like(value_of(fig, results), fig.text)
        except (OSError, KeyError, IndexError, TypeError, ValueError) as e:
            problems.append(f"{fig.source}: {e}")
            continue
        if want != fig.text.strip():
            problems.append(f"{fig.source}: README says {fig.text.strip()}, the JSON gives {want}")
    return problems


def render(readme: str, results: Path = RESULTS) -> str:
    """The README with every figure rewritten from its JSON."""
    out, last = [], 0
    for fig in figures(readme):
        new = fmt_like(value_of(fig, results), fig.text)
        scale = f"*{fig.scale:g}" if fig.scale != 1 else ""
        out.append(readme[last:fig.start])
        out.append(f"<!--fig {fig.file}:{fig.path}{scale}-->{new}<!--/fig-->")
        last = fig.end
    out.append(readme[last:])
    return "".join(out)


# numbers with a unit of measure, outside the markers: a figure with no source
UNMARKED = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s?(?:ms|s|%|MB|FPS|tokens/s|msg/s|messages/s|"
                      r"passages/s)(?![\w])")


def unmarked(section: str) -> list[str]:
    """Measured-looking numbers in ``section`` that no marker backs."""
    stripped = MARK.sub("FIG", section)
    stripped = re.sub(r"`[^`]*`", "", stripped)  # commands and options, not figures
    return UNMARKED.findall(stripped)


def section(readme: str, heading: str) -> str:
    """The text under ``## heading`` up to the next heading of the same level."""
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    if m is None:
        raise KeyError(f"README has no '## {heading}' section")
    return m.group(1)
