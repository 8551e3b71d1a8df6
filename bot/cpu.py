"""Shares the CPU cores between the brain and the voice.

llama.cpp's worker threads spin while they wait for each other; when the voice's
onnxruntime threads run on the same cores at the same time, both slow down many
times over (measured: 80 → under 1 token/s on 2 cores). Giving each its own cores
keeps both fast while the brain writes the next sentence during speech.
"""

from __future__ import annotations

import os


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 2


def thread_split(total: int | None = None) -> tuple[int, int]:
    """(brain threads, voice threads) for ``total`` cores."""
    n = total or cores()
    if n <= 1:
        return 1, 1
    voice = 1 if n <= 4 else 2
    return n - voice, voice
