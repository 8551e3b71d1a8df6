"""Forced alignment of known units to audio frames: a left-to-right HMM decoded
with Viterbi, one chunk of frames at a time.

Each unit is a short chain of states (its minimum length in frames) whose last
state may repeat; an optional unit (a pause) may be skipped. Decoding keeps the
best score of every state between chunks, so audio can arrive in pieces: each
chunk's frames are traced back from the best state at its end, and the next chunk
continues from that state only, so consecutive chunks never disagree about where
the speaker is in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avatar.lipsync.text_units import Unit, UnitKind

_NEG = -1e18


@dataclass(frozen=True)
class ChainSettings:
    """Minimum frames per unit and the costs of moving on; chosen on Piper speech
    (scripts/eval_lipsync.py --tune prints the sweep)."""

    vowel_frames: int = 3
    long_vowel_frames: int = 4
    consonant_frames: int = 2
    pause_frames: int = 3
    #: log-probability cost of taking an optional pause between two words
    word_pause_cost: float = 4.0
    #: ... and at punctuation, where speakers usually pause
    clause_pause_cost: float = 0.5
    #: cost of each frame a unit is held past its minimum
    hold_cost: float = 0.1


@dataclass(frozen=True)
class StateGraph:
    """The states of a unit sequence: which unit each is and how it may be left."""

    unit_of: np.ndarray  # state -> unit index
    holds: np.ndarray  # bool: the state may repeat (last of its chain)
    hold_cost: np.ndarray  # cost of repeating it
    skip_from: np.ndarray  # per state: the state it is entered from when a pause is skipped; -1 none
    enter_cost: np.ndarray  # per state: cost of entering it from the state before (pause entries)
    final: np.ndarray  # bool: a state the whole text may end in

    @property
    def size(self) -> int:
        return len(self.unit_of)


def build_graph(units: Sequence[Unit], settings: ChainSettings) -> StateGraph:
    """States for ``units`` in order (the first and last units should be pauses)."""
    unit_of: list[int] = []
    holds: list[bool] = []
    enter_cost: list[float] = []
    first_state: list[int] = []
    for u, unit in enumerate(units):
        length = _min_frames(unit, settings)
        first_state.append(len(unit_of))
        for k in range(length):
            unit_of.append(u)
            holds.append(k == length - 1)
            enter_cost.append(_pause_cost(unit, settings) if k == 0 else 0.0)
    n = len(unit_of)
    skip_from = np.full(n, -1)
    for u in range(1, len(units) - 1):
        if units[u].optional and not units[u + 1].optional:
            # from the last state of unit u-1 straight into unit u+1
            skip_from[first_state[u + 1]] = first_state[u] - 1
    final = np.zeros(n, dtype=bool)
    final[-1] = True
    if units and units[-1].optional and len(units) > 1:
        final[first_state[-1] - 1] = True
    holds_arr = np.array(holds, dtype=bool)
    return StateGraph(np.array(unit_of), holds_arr, np.where(holds_arr, settings.hold_cost, 0.0),
                      skip_from, np.array(enter_cost), final)


def _min_frames(unit: Unit, s: ChainSettings) -> int:
    if unit.kind is UnitKind.PAUSE:
        return s.pause_frames
    if unit.kind is UnitKind.VOWEL:
        return s.long_vowel_frames if unit.long else s.vowel_frames
    return s.consonant_frames


def _pause_cost(unit: Unit, s: ChainSettings) -> float:
    if unit.kind is not UnitKind.PAUSE:
        return 0.0
    return s.clause_pause_cost if unit.clause else s.word_pause_cost


class ChunkedViterbi:
    """Viterbi through a ``StateGraph``, fed emission scores a chunk at a time."""

    def __init__(self, graph: StateGraph) -> None:
        self.graph = graph
        self._score = np.full(graph.size, _NEG)
        self._score[0] = 0.0  # a leading pause...
        speech = np.flatnonzero(graph.unit_of > 0)
        if len(speech):
            self._score[speech[0]] = 0.0  # ... or speech from the first frame
        self._fresh = True

    def push(self, emissions: np.ndarray, last: bool = False) -> np.ndarray:
        """The state of each frame in ``emissions`` (``(frames, states)`` log scores).

        ``last``: no more audio follows, so the path must end where the text ends.
        """
        g = self.graph
        n = len(emissions)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        back = np.empty((n, g.size), dtype=np.int64)
        idx = np.arange(g.size)
        has_skip = g.skip_from >= 0
        skip_src = np.where(has_skip, g.skip_from, 0)
        hold = np.where(g.holds, g.hold_cost, np.inf)
        score = self._score
        for t in range(n):
            if self._fresh:
                best = score
                back[t] = idx
                self._fresh = False
            else:
                stay = score - hold
                move = np.empty(g.size)
                move[0] = _NEG
                move[1:] = score[:-1] - g.enter_cost[1:]
                skip = np.where(has_skip, score[skip_src], _NEG)
                best = np.maximum(np.maximum(stay, move), skip)
                back[t] = np.where(best == stay, idx, np.where(best == move, idx - 1, skip_src))
            score = best + emissions[t]
        end = int(np.argmax(np.where(g.final, score, _NEG) if last else score))
        path = np.empty(n, dtype=np.int64)
        path[-1] = end
        for t in range(n - 1, 0, -1):
            path[t - 1] = back[t, path[t]]
        # carry on from where this chunk ended, and only from there
        self._score = np.full(g.size, _NEG)
        self._score[end] = 0.0
        return path
