"""Whether the brain may borrow the voice's cores to read a prompt.

llama.cpp reads a prompt (the prefill) on every core: the voice is idle then, and a
quiet 2-core machine reads about twice as fast. But when other programs keep those
cores busy, llama.cpp's threads wait for each other at every layer, and reading gets
several times slower than on the brain's own core alone (measured on a 2-core machine
busy with other programs: 150 prompt tokens in 3.5 s on two threads, 1.0 s on one).
So the brain looks at how much CPU other programs used since it last asked, and
borrows the cores only when they were free.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def busy_cpu_seconds(stat: Path = Path("/proc/stat")) -> float | None:
    """CPU seconds all cores spent working since boot (None where /proc/stat is missing)."""
    try:
        first = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu" or len(first) < 9:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuShare:
    """Decides, before each prompt, whether the voice's cores are free to borrow."""

    def __init__(self, *, max_others_cores: float = 0.3, min_window_s: float = 0.2,
                 busy: Callable[[], float | None] = busy_cpu_seconds,
                 own: Callable[[], float] = time.process_time, clock: Callable[[], float] = time.monotonic):
        """``max_others_cores``: other programs' average use (in cores) above which the
        prompt is read on the brain's own cores only."""
        self.max_others_cores = max_others_cores
        self.min_window_s = min_window_s
        self._busy, self._own, self._clock = busy, own, clock
        self._last = self._sample()
        self.lent = True
        self.others_cores: float | None = None  # the last reading, for logs and benchmarks

    def _sample(self) -> tuple[float, float, float] | None:
        busy = self._busy()
        return None if busy is None else (self._clock(), busy, self._own())

    def lend(self) -> bool:
        """True: read the prompt on every core. A window too short to judge keeps the last
        answer (and keeps growing); with no /proc/stat the cores are always borrowed."""
        now = self._sample()
        if now is None or self._last is None:
            return True
        wall = now[0] - self._last[0]
        if wall < self.min_window_s:
            return self.lent
        others = max(0.0, (now[1] - self._last[1]) - (now[2] - self._last[2])) / wall
        self._last = now
        self.others_cores = others
        self.lent = others <= self.max_others_cores
        return self.lent
