"""`vtbot avatar snapshot` for a THA3 character: the animator's pose for a mouth shape,
an emotion or a blink, rendered by the official networks to a transparent PNG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from avatar.tha3.animator import Tha3Animator
from avatar.tha3.errors import Tha3Error
from avatar.tha3.snapshot import main, parse_overrides, snapshot_pose

from .conftest import EYES, IMAGE, MOUTH


def _change(a: np.ndarray, b: np.ndarray, box) -> float:
    return float(np.abs(a[box][..., :3].astype(int) - b[box][..., :3].astype(int)).mean())


def test_snapshot_pose_is_the_overlays_pose_then_the_hand_set_values():
    animator = Tha3Animator()
    pose = snapshot_pose(animator, viseme="aa", expression="happy",
                         overrides=parse_overrides(["head_y=0.5", "eye_wink_left=2"]))
    assert pose["mouth_aaa"] > 0.9 and pose["eyebrow_happy"] > 0  # speech and the happy template
    assert pose["head_y"] == 0.5 and pose["eye_wink_left"] == 1.0  # set by hand, clamped
    blink = snapshot_pose(animator, expression="blink")
    assert blink["eye_wink"] == 1.0 and blink["mouth_aaa"] == 0.0


@pytest.mark.parametrize("kwargs, message", [
    ({"viseme": "xx"}, "unknown viseme 'xx': use one of aa, ih, ou, ee, oh"),
    ({"expression": "smug"}, "unknown expression 'smug': use one of angry, blink, happy"),
])
def test_unknown_shapes_are_named(kwargs, message):
    with pytest.raises(Tha3Error, match=message):
        snapshot_pose(Tha3Animator(), **kwargs)


@pytest.mark.parametrize("item, message", [
    ("eye_wnk=1", "no THA3 parameter 'eye_wnk'; did you mean eye_wink?"),
    ("head_y", "write NAME=VALUE"),
    ("head_y=left", "'left' is not a number"),
    ("head_y=nan", "finite number"),
])
def test_bad_pose_values_are_named(item, message):
    with pytest.raises(Tha3Error, match=message):
        parse_overrides([item])


def test_snapshot_writes_the_posed_character(tmp_path, poser, capsys):
    neutral = poser.render(snapshot_pose(Tha3Animator()).values)
    assert main([str(IMAGE), "--out", str(tmp_path / "aa.png"), "--viseme", "aa", "--device", "cpu"]) == 0
    assert main([str(IMAGE), "--out", str(tmp_path / "blink.png"), "--expression", "blink",
                 "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "saved" in printed and "512x512, THA3 separable_float on cpu float32" in printed
    aa = np.asarray(Image.open(tmp_path / "aa.png"))
    blink = np.asarray(Image.open(tmp_path / "blink.png"))
    assert aa.shape == (512, 512, 4) and (aa[:40, :40, 3] == 0).all()  # transparent around her
    assert _change(aa, neutral, MOUTH) > 8.0 and _change(aa, neutral, EYES) < 3.0
    assert _change(blink, neutral, EYES) > 8.0 and _change(blink, neutral, MOUTH) < 2.0


def test_mistakes_fail_before_the_networks_load(tmp_path, capsys):
    assert main([str(IMAGE), "--out", str(tmp_path / "x.png"), "--expression", "smug"]) == 1
    assert main([str(tmp_path / "none.png"), "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "unknown expression 'smug'" in err and "character image not found" in err
    assert not (tmp_path / "x.png").exists()
