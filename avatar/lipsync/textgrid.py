"""Praat TextGrid reading, for forced-alignment references (MFA writes them).

Praat's long ("ooTextFile") and short text formats carry the same values in the
same order; the long one only adds ``name =`` labels and ``[n]`` indices. So one
reader takes the stream of values (numbers, quoted strings, ``<exists>``) and
ignores the labels, which reads both formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from avatar.lipsync.timing import TimedPhoneme

_TOKEN = re.compile(
    r'"(?P<string>(?:[^"]|"")*)"'
    r"|(?P<index>\[[^\]]*\])"
    r"|(?P<flag><exists>|<absent>)"
    r"|(?<![A-Za-z_\d.])(?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?![A-Za-z_])",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Interval:
    xmin: float
    xmax: float
    text: str


@dataclass(frozen=True, slots=True)
class Point:
    time: float
    mark: str


@dataclass(frozen=True)
class Tier:
    """An IntervalTier (``intervals``) or a TextTier of points (``points``)."""

    name: str
    kind: str
    xmin: float
    xmax: float
    intervals: tuple[Interval, ...] = ()
    points: tuple[Point, ...] = ()

    def timed_phonemes(self, sample_rate: int) -> list[TimedPhoneme]:
        """The intervals as sample spans (times rounded to the nearest sample)."""
        out = []
        for iv in self.intervals:
            start, end = round(iv.xmin * sample_rate), round(iv.xmax * sample_rate)
            if end > start:
                out.append(TimedPhoneme(iv.text.strip(), start, end))
        return out


@dataclass(frozen=True)
class TextGrid:
    xmin: float
    xmax: float
    tiers: tuple[Tier, ...] = field(default_factory=tuple)

    def tier(self, name: str) -> Tier:
        """The first tier with this name."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(f"no tier {name!r}; tiers are {[t.name for t in self.tiers]}")


def read_textgrid(path: str | Path) -> TextGrid:
    """Read a text TextGrid file (UTF-8 or, as Praat writes non-ASCII, UTF-16)."""
    raw = Path(path).read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        text = raw.decode("utf-8-sig")
    return parse_textgrid(text)


def parse_textgrid(text: str) -> TextGrid:
    """Parse a long- or short-format TextGrid from its text."""
    values = _values(text)
    if next(values) != "ooTextFile" or next(values) != "TextGrid":
        raise ValueError("not a text TextGrid (expected ooTextFile / TextGrid header)")
    xmin, xmax = float(next(values)), float(next(values))
    if next(values) != "<exists>":
        return TextGrid(xmin, xmax, ())
    tiers = tuple(_tier(values) for _ in range(int(next(values))))
    return TextGrid(xmin, xmax, tiers)


def _tier(values: Iterator[str | float]) -> Tier:
    kind, name = str(next(values)), str(next(values))
    xmin, xmax = float(next(values)), float(next(values))
    count = int(next(values))
    if kind == "IntervalTier":
        intervals = tuple(
            Interval(float(next(values)), float(next(values)), str(next(values)))
            for _ in range(count)
        )
        return Tier(name, kind, xmin, xmax, intervals=intervals)
    if kind == "TextTier":
        points = tuple(Point(float(next(values)), str(next(values))) for _ in range(count))
        return Tier(name, kind, xmin, xmax, points=points)
    raise ValueError(f"unknown tier class {kind!r}")


def _values(text: str) -> Iterator[str | float]:
    for match in _TOKEN.finditer(text):
        if match.group("string") is not None:
            yield match.group("string").replace('""', '"')
        elif match.group("flag"):
            yield match.group("flag")
        elif match.group("number"):
            yield float(match.group("number"))
