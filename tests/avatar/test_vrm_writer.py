"""The VRM 1.0 writer: what it writes, vtbot's loader reads back exactly."""

from __future__ import annotations

import numpy as np

from avatar.vrm import ExpressionMixer, load_vrm
from avatar.vrm.writer import MorphSpec, VrmBuilder


def cube(size=0.1):
    p = np.array([[x, y, z] for x in (-size, size) for y in (-size, size) for z in (-size, size)], np.float32)
    idx = np.array([0, 1, 3, 0, 3, 2, 4, 6, 7, 4, 7, 5, 0, 4, 5, 0, 5, 1,
                    2, 3, 7, 2, 7, 6, 0, 2, 6, 0, 6, 4, 1, 5, 7, 1, 7, 3], np.uint32)
    return p, p / np.linalg.norm(p, axis=1, keepdims=True), idx


def build(tmp_path):
    b = VrmBuilder()
    hips = b.node("Hips", translation=(0, 0.9, 0))
    spine = b.node("Spine", translation=(0, 0.1, 0), parent=hips)
    chest = b.node("Chest", translation=(0, 0.15, 0), parent=spine)
    neck = b.node("Neck", translation=(0, 0.2, 0), parent=chest)
    head = b.node("Head", translation=(0, 0.1, 0), parent=neck)
    pos, nrm, idx = cube()
    open_mouth = np.zeros_like(pos)
    open_mouth[:, 1] = -0.02
    joints = np.zeros((len(pos), 4), np.uint16)
    joints[:, 0] = 4  # all on the head joint (index 4 in the skin)
    weights = np.zeros((len(pos), 4), np.float32)
    weights[:, 0] = 1
    mat = b.material("Skin", (1.0, 0.9, 0.85, 1.0))
    mesh = b.mesh("Face", pos + [0, 1.45, 0], nrm, idx, mat, joints=joints, weights=weights,
                  morphs=[MorphSpec("aa", open_mouth), MorphSpec("blink", -open_mouth)])
    chain = [hips, spine, chest, neck, head]
    world = np.cumsum([b.gltf["nodes"][n]["translation"][1] for n in chain])
    inv = np.stack([np.eye(4) for _ in chain])
    inv[:, 1, 3] = -world
    skin = b.skin(chain, inv, skeleton=hips)
    b.node("Body", mesh=mesh, skin=skin)
    b.vrm(meta={"name": "Tester", "authors": ["vtbot"], "licenseUrl": "https://vrm.dev/licenses/1.0/",
                "avatarPermission": "everyone", "commercialUsage": "corporation"},
          humanoid={"hips": hips, "spine": spine, "chest": chest, "neck": neck, "head": head},
          expressions={"aa": {"binds": [(5, 0, 1.0)]}, "blink": {"binds": [(5, 1, 1.0)]},
                       "happy": {"binds": [], "overrideBlink": "block"}})
    b.springs([], [], [])
    return b.write(tmp_path / "t.vrm")


def test_written_file_loads_back(tmp_path):
    model = load_vrm(build(tmp_path))
    assert model.version == "1.0" and model.meta.name == "Tester"
    assert model.humanoid == {"hips": 0, "spine": 1, "chest": 2, "neck": 3, "head": 4}
    assert np.allclose(model.rest_world_matrices()[4][:3, 3], [0, 1.45, 0])
    (prim,) = model.meshes[0].primitives
    assert prim.positions.shape == (8, 3) and len(prim.indices) == 36
    assert [t.name for t in prim.targets] == ["aa", "blink"]
    assert model.skins[0].joints == (0, 1, 2, 3, 4) or list(model.skins[0].joints) == [0, 1, 2, 3, 4]
    mixer = ExpressionMixer.for_model(model)
    out = mixer.mix({"aa": 0.5, "blink": 1.0, "happy": 1.0})
    assert np.allclose(out.morph_weights[5], [0.5, 0.0])  # happy blocks blink
