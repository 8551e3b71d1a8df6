"""Dynamic time warping that takes the query a few frames at a time.

Live speech arrives in chunks, and every chunk needs its matches at once. The
cost table is filled one query row at a time (exactly as ``align.dtw_match``
fills it), so earlier rows never have to be recomputed; after each chunk the best
path is traced back from the cheapest reference frame of the newest row (open
end: the speaker may be anywhere in the reference), and only the new rows'
matches are handed out. Later audio may still move the path through earlier
rows; those matches were already used, which is the price of answering at once.
"""

from __future__ import annotations

import numpy as np


class StreamingDTW:
    """Symmetric-step DTW (diagonal counted twice) of growing query against a fixed reference."""

    def __init__(self, reference: np.ndarray) -> None:
        if len(reference) == 0:
            raise ValueError("empty reference")
        self.reference = np.asarray(reference, dtype=np.float64)
        self._ref_sq = (self.reference**2).sum(axis=1)
        self._total: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []

    @property
    def rows(self) -> int:
        """Query frames matched so far."""
        return len(self._total)

    def push(self, query: np.ndarray, last: bool = False) -> np.ndarray:
        """The reference frame each new query row matches (``last``: the query is
        complete, so its path must end on the reference's last frame)."""
        query = np.asarray(query, dtype=np.float64)
        first_new = self.rows
        if len(query) == 0:
            return np.zeros(0, dtype=np.int64)
        cost = self._distances(query)
        for row in cost:
            self._add_row(row)
        total = self._total[-1]
        m = len(total)
        if last:
            end = m - 1
        else:
            # cheapest per step: a path to (i, j) has about i + j steps
            i = self.rows - 1
            end = int(np.argmin(total / (i + np.arange(m) + 2.0)))
        return self._trace(end, first_new)

    def _add_row(self, cost: np.ndarray) -> None:
        if not self._total:
            self._total.append(np.cumsum(cost))
            self._cost.append(cost)
            return
        self._total.append(dtw_row(self._total[-1], cost))
        self._cost.append(cost)

    def _trace(self, end: int, first_new: int) -> np.ndarray:
        """Back from ``(last row, end)`` until the path leaves the new rows; the
        median reference frame each new row touched."""
        i, j = self.rows - 1, end
        touched: list[list[int]] = [[] for _ in range(self.rows - first_new)]
        touched[i - first_new].append(j)
        while i >= first_new and (i > 0 or j > 0):
            i, j = step_back(i, j, self._total[i - 1], self._total[i], self._cost[i][j])
            if i >= first_new:
                touched[i - first_new].append(j)
        return median_matches(touched)

    def _distances(self, query: np.ndarray) -> np.ndarray:
        sq = (query**2).sum(axis=1)[:, None] + self._ref_sq[None, :] - 2 * query @ self.reference.T
        return np.sqrt(np.maximum(sq, 0.0))


def dtw_row(prev: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """The next row of accumulated cost: each cell entered from the row above
    (straight, or diagonally at double cost), then the best run along the row, which
    is a running minimum over the row's prefix sums."""
    enter = np.empty(len(cost))
    enter[0] = prev[0] + cost[0]
    enter[1:] = np.minimum(prev[1:] + cost[1:], prev[:-1] + 2 * cost[1:])
    prefix = np.cumsum(cost)
    return np.minimum.accumulate(enter - prefix) + prefix


def step_back(i: int, j: int, up: np.ndarray, row: np.ndarray, cost: float) -> tuple[int, int]:
    """One step back along the cheapest path from ``(i, j)`` (``up``: row ``i - 1``)."""
    if i == 0:
        return i, j - 1
    if j == 0:
        return i - 1, j
    options = (up[j - 1] + 2 * cost, up[j] + cost, row[j - 1] + cost)
    return ((i - 1, j - 1), (i - 1, j), (i, j - 1))[int(np.argmin(options))]


def median_matches(touched: list[list[int]]) -> np.ndarray:
    """For each query row, the median reference frame its path touched."""
    return np.array([sorted(js)[len(js) // 2] for js in touched], dtype=np.int64)
