"""Deterministic malformed input for the listening sockets: mutations of valid messages
(missing, extra and wrongly typed fields, huge and odd values), broken JSON and raw
bytes. Seeded, so a failure is repeatable."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

ODD_STRINGS = ["", " ", "\x00", "\u202e\u200b", "💥" * 50, "A" * 5000, "%s%n{0}{user}", "${jndi:x}",
               "../../etc/passwd", "<script>", "'; DROP TABLE events;--", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace")]
ODD_VALUES: list[Any] = [None, True, 0, -1, 2**63, -(2**63) - 1, 1e308, -0.0, [], {}, [1, [2, [3]]],
                         {"a": {"b": {"c": None}}}, *ODD_STRINGS]


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def mutations(valid: dict[str, Any], seed: int, count: int) -> Iterator[dict[str, Any] | list | str | int | None]:
    """``count`` wrong shapes of ``valid``: each key dropped or replaced by odd values,
    unknown keys added, and the whole object swapped for other JSON types."""
    rng = random.Random(seed)
    keys = list(valid)
    for key in keys:  # every key missing once
        yield {k: v for k, v in valid.items() if k != key}
    for value in (None, [], "", 0, nested(60), [valid]):
        yield value
    for _ in range(count):
        doc = dict(valid)
        for key in rng.sample(keys, k=rng.randint(1, max(1, len(keys)))):
            doc[key] = rng.choice(ODD_VALUES)
        if rng.random() < 0.3:
            doc[rng.choice(ODD_STRINGS)[:40] or "x"] = rng.choice(ODD_VALUES)
        yield doc


def broken_texts(valid: dict[str, Any], seed: int, count: int) -> Iterator[str]:
    """Text that is not valid JSON, or JSON with tricks: truncated, duplicated keys, NaN."""
    rng = random.Random(seed)
    text = json.dumps(valid)
    yield text[: len(text) // 2]
    yield text + "}"
    yield "{" * 10_000
    yield '{"type": NaN}'
    yield text.replace("{", '{"type": "x", ', 1)
    yield "\ufeff" + text
    for _ in range(count):
        cut = rng.randint(0, len(text))
        yield text[:cut] + rng.choice(["\x00", "\\", '"', "\ud800", "\n", "]"]) + text[cut:]


def random_bytes(seed: int, count: int, longest: int = 4096) -> Iterator[bytes]:
    rng = random.Random(seed)
    yield b""
    yield b"\xff\xfe\xfd"
    yield b"VTA1" + b"\xff" * 8  # a plausible header with wild numbers
    for _ in range(count):
        yield bytes(rng.getrandbits(8) for _ in range(rng.randint(1, longest)))
