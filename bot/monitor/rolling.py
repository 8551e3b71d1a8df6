"""Rolling percentiles over the last N samples: what the dashboard's timings show."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100), nearest-rank; None when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class RollingStat:
    """The last ``window`` values of one timing (seconds); p50/p95 on demand."""

    def __init__(self, window: int = 200):
        self.window = window
        self._values: deque[float] = deque(maxlen=window)
        self.count = 0  # every sample ever added, not only the window's

    def add(self, value: float | None) -> None:
        if value is None or not math.isfinite(value):
            return
        self._values.append(float(value))
        self.count += 1

    def __len__(self) -> int:
        return len(self._values)

    @property
    def last(self) -> float | None:
        return self._values[-1] if self._values else None

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0-100) of the window, nearest-rank; None when empty."""
        return percentile(self._values, q)

    @property
    def p50(self) -> float | None:
        return self.percentile(50)

    @property
    def p95(self) -> float | None:
        return self.percentile(95)
