"""Idle life over a simulated minute at 60 fps: blinks at human rates, quick and
complete; eyes that jump and settle; breathing; more motion while speaking."""

from __future__ import annotations

import math

import numpy as np

from avatar.life import IdleLife, LifeSettings, quat_from_euler


def run(life: IdleLife, seconds: float = 60.0, fps: float = 60.0, speaking=lambda t: 0.0):
    return [(i / fps, life.frame(i / fps, speaking(i / fps))) for i in range(int(seconds * fps))]


def blinks(frames):
    starts, closed = [], False
    for t, f in frames:
        if f.expressions["blink"] > 0.95 and not closed:
            starts.append(t)
        closed = f.expressions["blink"] > 0.95
    return starts


def test_blinks_at_a_human_rate_and_close_fully():
    frames = run(IdleLife(seed=1))
    starts = blinks(frames)
    assert 12 <= len(starts) <= 30  # people blink 15-20 times a minute
    gaps = np.diff(starts)
    assert gaps.min() > 0.1 and gaps.std() > 0.3  # irregular, never a flicker
    weights = [f.expressions["blink"] for _, f in frames]
    assert min(weights) == 0.0 and max(weights) == 1.0
    shut = sum(w > 0.05 for w in weights) / len(weights)
    assert shut < 0.1  # the eyes are open more than 90% of the time


def test_same_seed_same_life():
    a = [f for _, f in run(IdleLife(seed=7), 5)]
    b = [f for _, f in run(IdleLife(seed=7), 5)]
    assert a == b


def test_saccades_jump_and_hold():
    frames = run(IdleLife(seed=3))
    yaws = np.array([f.look_at[0] for _, f in frames])
    moves = np.abs(np.diff(yaws)) > 0.05
    assert 15 <= sum(np.diff(moves.astype(int)) == 1) <= 120  # distinct jumps, not drift
    assert np.abs(yaws).max() <= LifeSettings().saccade_range_deg[0] + 1e-9


def test_breathing_and_more_motion_while_speaking():
    idle = run(IdleLife(seed=5), 20)
    talk = run(IdleLife(seed=5), 20, speaking=lambda t: 0.8)
    chest = [f.bones["chest"][0] for _, f in idle]
    assert max(chest) - min(chest) > 0.005  # the chest rises and falls

    def head_motion(frames):
        qs = np.array([f.bones["head"] for _, f in frames])
        return np.abs(np.diff(qs, axis=0)).sum()

    assert head_motion(talk) > 1.5 * head_motion(idle)


def test_expressions_fade_in_hold_and_out():
    life = IdleLife(seed=1)
    life.express("happy", 0.8, now=1.0, hold_s=2.0)
    w = {t: life.frame(t).expressions.get("happy", 0.0) for t in (0.5, 1.1, 2.0, 3.0, 3.1, 3.5)}
    assert w[0.5] == 0.0 and 0 < w[1.1] < 0.8 and w[2.0] == w[3.0] == 0.8
    assert 0 < w[3.1] < 0.8 and w[3.5] == 0.0


def test_quaternions_are_unit_and_match_simple_cases():
    q = quat_from_euler(0, 90, 0)
    assert np.allclose(q, (0, math.sin(math.pi / 4), 0, math.cos(math.pi / 4)))
    for angles in [(10, 20, 30), (-5, 0, 12)]:
        assert math.isclose(np.linalg.norm(quat_from_euler(*angles)), 1.0)
