"""The default avatar, Mochi: built by scripts/build_default_avatar.py, shipped in
avatar/data/mochi.vrm, and a complete VRM 1.0 character."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from avatar.vrm import ExpressionMixer, load_vrm

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "avatar" / "data" / "mochi.vrm"


def test_the_shipped_file_is_what_the_script_builds(tmp_path):
    out = tmp_path / "mochi.vrm"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_default_avatar.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == SHIPPED.read_bytes()  # deterministic, and up to date


def test_mochi_is_a_complete_vrm_character():
    m = load_vrm(SHIPPED)
    assert m.version == "1.0" and m.meta.name == "Mochi" and not m.notes
    required = {"hips", "spine", "chest", "neck", "head", "leftUpperArm", "leftLowerArm", "leftHand",
                "rightUpperArm", "rightLowerArm", "rightHand", "leftUpperLeg", "leftLowerLeg", "leftFoot",
                "rightUpperLeg", "rightLowerLeg", "rightFoot", "leftEye", "rightEye"}
    assert required <= set(m.humanoid)
    assert {"aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry", "sad",
            "relaxed", "surprised"} <= set(m.expressions)
    assert m.look_at is not None and len(m.spring_bones.springs) == 2
    assert all(len(s.joints) >= 4 for s in m.spring_bones.springs)


def mouth_size(m, weights):
    mixer = ExpressionMixer.for_model(m)
    mix = mixer.mix(weights)
    node = next(n for n in m.nodes if n.name == "mesh_mouth")
    prim = m.meshes[node.mesh].primitives[0]
    pos = prim.positions.astype(float).copy()
    for i, t in enumerate(prim.targets):
        pos += mix.morph_weights[node.index][i] * t.positions
    return np.ptp(pos[:, 0]), np.ptp(pos[:, 1])


def test_each_vowel_shapes_the_mouth_its_own_way():
    m = load_vrm(SHIPPED)
    closed = mouth_size(m, {})
    sizes = {v: mouth_size(m, {v: 1.0}) for v in ("aa", "ih", "ou", "ee", "oh")}
    assert all(h > closed[1] for _, h in sizes.values())  # every vowel opens the mouth
    assert sizes["aa"][1] > sizes["ee"][1] and sizes["ee"][0] > sizes["ou"][0]  # tall aa, wide ee, round ou
    assert len({tuple(np.round(s, 4)) for s in sizes.values()}) == 5
