"""Visual effects: what each effect emits, how long it lasts, what a request may ask,
and that the work per frame stays bounded whatever chat asks for. (That they are
drawn, behind or in front of the avatar, is checked in the window test.)"""

from __future__ import annotations

import numpy as np
import pytest

from bot.link import protocol
from overlay.vfx import EFFECTS, VfxPlayer, parse_request
from overlay.vfx.particles import GLOW, HEART, RECT, STAR, Batch, Particles
from overlay.vfx.player import MAX_RUNNING


def run(player: VfxPlayer, seconds: float, fps: float = 60.0, aspect: float = 0.75) -> list[int]:
    counts = []
    for _ in range(round(seconds * fps)):
        player.step(1 / fps, aspect)
        counts.append(player.count)
    return counts


def test_the_bot_and_the_overlay_know_the_same_effects():
    assert tuple(EFFECTS) == protocol.VFX_KINDS


@pytest.mark.parametrize("kind,layer,shape", [("fireworks", "back", GLOW), ("confetti", "front", RECT),
                                              ("hearts", "front", HEART), ("sparkles", "front", STAR),
                                              ("rain", "front", GLOW)])
def test_each_effect_plays_and_ends(kind, layer, shape):
    player = VfxPlayer(seed=7)
    assert player.play(protocol.vfx(kind)) is not None
    counts = run(player, 1.0)
    pool = player.layers[layer]
    assert max(counts) >= 5 and pool.count == player.count  # all on its own layer
    assert shape in set(pool.live("shape").astype(int))
    verts = pool.vertices()
    assert verts.shape == (pool.count, 10) and verts.dtype == np.float32
    assert np.all((verts[:, 3:7] >= 0) & (verts[:, 3:7] <= 1))  # colours and alpha in range
    run(player, 8.0)
    assert not player.active and player.count == 0  # nothing lingers


def test_fireworks_climb_then_burst_with_a_flash():
    player = VfxPlayer(seed=3)
    player.play(protocol.vfx("fireworks"))
    back = player.layers["back"]
    run(player, 0.3)
    climbing = back.count
    assert climbing > 0 and not any(r.burst for r in player.running[0].rockets)  # rockets and trails
    assert back.live("pos")[:, 1].max() < 0.9
    counts = run(player, 1.5)
    assert max(counts) > climbing + 100  # the bursts
    sizes = back.live("size")
    assert np.all(sizes < 0.5)


def test_intensity_scales_the_show():
    def peak(intensity: float) -> int:
        player = VfxPlayer(seed=11)
        player.play(protocol.vfx("confetti", intensity))
        return max(run(player, 2.0))

    assert peak(3.0) > 2.5 * peak(1.0)
    small, big = VfxPlayer(seed=5), VfxPlayer(seed=5)
    small.play(protocol.vfx("fireworks", 0.5))
    big.play(protocol.vfx("fireworks", 4.0))
    assert len(big.running[0].rockets) > 2 * len(small.running[0].rockets)


def test_colours_replace_the_palette():
    player = VfxPlayer(seed=1)
    player.play(protocol.vfx("hearts", colors=["#00ff00"]))
    run(player, 1.0)
    colours = player.layers["front"].live("color")
    assert np.allclose(colours, [0.0, 1.0, 0.0, 1.0])


@pytest.mark.parametrize("event,why", [
    ({"type": "vfx", "name": "lasers"}, "unknown effect 'lasers'"),
    ({"type": "vfx", "name": "confetti", "params": {"intensity": "lots"}}, "intensity must be a number"),
    ({"type": "vfx", "name": "confetti", "params": {"intensity": float("nan")}}, "finite"),
    ({"type": "vfx", "name": "confetti", "params": {"colors": ["red"]}}, "not a #rrggbb colour"),
    ({"type": "vfx", "name": "confetti", "params": {"colors": ["#fff000"] * 40}}, "at most 16"),
    ({"type": "vfx", "name": "confetti", "params": "big"}, "params must be an object"),
])
def test_bad_requests_are_refused_with_a_reason(event, why, caplog):
    with pytest.raises(ValueError, match=why):
        parse_request(event)
    player = VfxPlayer()
    assert player.play(event) is None and not player.active
    assert why.split("'")[0] in caplog.text


def test_intensity_is_clamped():
    assert parse_request({"name": "sparkles", "params": {"intensity": 1e9}}).intensity == 5.0
    assert parse_request({"name": "sparkles", "params": {"intensity": -3}}).intensity == 0.1


def test_a_flood_of_alerts_stays_bounded():
    player = VfxPlayer(seed=2, capacity=4000)
    for _ in range(200):
        player.play(protocol.vfx("fireworks", 5.0))
        player.play(protocol.vfx("confetti", 5.0))
    assert len(player.running) == MAX_RUNNING
    counts = run(player, 3.0)
    assert max(counts) <= 4000
    assert player.layers["back"].dropped + player.layers["front"].dropped > 0


def test_a_stalled_frame_does_not_teleport_particles():
    pool = Particles(capacity=10)
    pool.add(Batch(pos=np.zeros((1, 2)), vel=np.array([[1.0, 0.0]]), life=10.0, size=0.01,
                   color=np.ones(4)))
    player = VfxPlayer()
    player.layers["front"] = pool
    player.step(5.0, 1.0)  # a 5 s hitch
    assert pool.live("pos")[0, 0] == pytest.approx(0.1)


def test_particles_age_fall_and_die():
    pool = Particles(capacity=3)
    pool.add(Batch(pos=np.zeros((2, 2)), vel=np.zeros((2, 2)), life=np.array([0.5, 2.0]), size=0.01,
                   color=np.ones(4), gravity=1.0))
    assert pool.add(Batch(pos=np.zeros((2, 2)), vel=np.zeros((2, 2)), life=1.0, size=0.01,
                          color=np.ones(4))) == 1
    assert pool.dropped == 1
    for _ in range(32):
        pool.step(1 / 60)
    assert pool.count == 2  # the 0.5 s particle is gone
    assert pool.live("pos")[0, 1] < -0.1  # gravity pulled the survivor down
    verts = pool.vertices()
    assert 0 < verts[0, 6] < 1  # fading out with age
