"""What each sample model contains, as load_vrm sees it."""

from __future__ import annotations

import numpy as np

from avatar.vrm.expressions import PRESETS, MorphTargetBind, TextureTransformBind
from avatar.vrm.humanoid import BONES
from avatar.vrm.model import RangeMap, TextureTransform
from tests.avatar.conftest import (
    BINARY_OVERRIDDEN,
    BINARY_OVERRIDES,
    CUBE,
    MTOON_UV,
    ROBOT,
    SHAPEKEY_V0,
    SIMPLE_MORPH_V0,
    SPHERE_V0,
    VRMA,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_debug_robot_full_humanoid_and_all_presets(models):
    model = models[ROBOT]
    assert (model.version, model.spec_version, model.forward_z) == ("1.0", "1.0", 1.0)
    assert len(model.humanoid) == 53
    assert set(model.humanoid) == set(BONES) - {"jaw", "upperChest"}
    assert model.humanoid["hips"] == 73 and model.bone("hips").name == "hips"
    assert model.bone("head").name == "head" and model.bone("leftEye").name == "eye.L"
    assert model.bone("leftThumbMetacarpal").name == "thumb_proximal.L"
    # Every bone's parent chain reaches hips.
    hips = model.humanoid["hips"]
    for node in model.humanoid.values():
        while node != hips:
            node = model.nodes[node].parent
            assert node is not None
    assert sorted(model.expressions) == sorted(PRESETS) and len(PRESETS) == 18
    assert all(e.preset and not e.morph_target_binds for e in model.expressions.values())
    assert len(model.nodes) == 77
    (mesh,) = model.meshes
    assert mesh.name == "UnityAxis"
    assert [(p.vertex_count, len(p.indices), p.material) for p in mesh.primitives] == [
        (24, 36, 0), (24, 36, 1), (24, 36, 2)]
    assert len(model.nodes_with_mesh(0)) == 22  # one box per body part (and the root)
    assert [(m.name, m.unlit, m.mtoon) for m in model.materials] == [
        ("Red", True, None), ("Green", True, None), ("Blue", True, None)]
    assert all(img.mime_type == "image/png" and img.data.startswith(PNG) for img in model.images)
    assert model.look_at.type == "bone"
    assert model.look_at.offset_from_head_bone == (0.029999999329447746, 0.03541666641831398, 0.0)
    assert model.look_at.horizontal_outer == RangeMap(90.0, 10.0)
    assert model.meta.name == "VRM Animation Debug Robot"
    assert model.meta.authors == ("@saturday06",)
    assert model.meta.commercial_usage == "corporation"
    assert model.meta.modification == "allowModificationRedistribution"
    assert model.meta.license_url == "https://vrm.dev/licenses/1.0/"
    assert model.spring_bones.springs == () and model.notes == []


def test_mtoon_uv_animation_sample(models):
    model = models[MTOON_UV]
    assert len(model.humanoid) == 53 and model.expressions == {}
    assert [(m.name, m.primitives[0].vertex_count, len(m.primitives[0].indices), m.morph_count)
            for m in model.meshes] == [("ScrollX", 4, 6, 0), ("ScrollY", 4, 6, 0),
                                        ("ScrollRot", 4, 6, 0)]
    speeds = [(m.mtoon.uv_animation_scroll_x_speed_factor,
               m.mtoon.uv_animation_scroll_y_speed_factor,
               m.mtoon.uv_animation_rotation_speed_factor) for m in model.materials]
    assert speeds == [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    for i, mat in enumerate(model.materials):
        assert mat.unlit and mat.double_sided and mat.alpha_mode == "OPAQUE"
        assert mat.base_color_texture.index == i and mat.mtoon.shade_multiply_texture.index == i
        assert mat.mtoon.shade_color_factor == (1.0, 1.0, 1.0)
        assert mat.mtoon.shading_toony_factor == 0.9  # schema default
        assert mat.mtoon.outline_width_mode == "none"
        assert model.textures[i].source == i and model.samplers[i].min_filter == 9985
    assert [len(img.data) for img in model.images] == [12901, 12707, 21420]


def test_is_binary_samples(models):
    for path, happy_binary, blink_binary in ((BINARY_OVERRIDDEN, False, True),
                                             (BINARY_OVERRIDES, True, False)):
        model = models[path]
        assert len(model.humanoid) == 22 and "upperChest" in model.humanoid
        happy, blink = model.expressions["happy"], model.expressions["blink"]
        assert (happy.is_binary, blink.is_binary) == (happy_binary, blink_binary)
        assert happy.override_blink == "blend" and blink.override_blink == "none"
        assert happy.texture_transform_binds[0] == TextureTransformBind(0, (0.125, 0.125),
                                                                        (0.875, 0.0))
        assert blink.texture_transform_binds[1].material == 3
        assert model.materials[0].uv_transform == TextureTransform(scale=(0.125, 0.125))
        assert model.look_at.type == "expression"
        assert model.look_at.vertical_up == RangeMap(90.0, 1.0)
        assert model.first_person.flag(22) == "thirdPersonOnly"
        assert model.first_person.flag(24) == "auto"


def test_three_vrm_cube(models):
    model = models[CUBE]
    assert len(model.humanoid) == 17 and model.humanoid["leftEye"] == 17
    assert sorted(model.expressions) == ["aa", "blink", "blinkLeft", "blinkRight"]
    assert model.expressions["aa"].morph_target_binds == (MorphTargetBind(21, 1, 3.0),)
    assert model.expressions["blink"].morph_target_binds == (
        MorphTargetBind(18, 1, -0.75), MorphTargetBind(20, 1, -0.75))
    assert model.meta.thumbnail_image == 0 and model.meta.authors == ("FMS_Cat",)
    assert {n: model.first_person.flag(n) for n in (16, 18, 20, 21, 1)} == {
        16: "thirdPersonOnly", 18: "thirdPersonOnly", 20: "thirdPersonOnly",
        21: "thirdPersonOnly", 1: "auto"}


def test_three_vrm_sphere_vrm0(models):
    model = models[SPHERE_V0]
    assert (model.version, model.spec_version, model.forward_z) == ("0.x", "0.0", -1.0)
    assert len(model.humanoid) == 22
    assert model.humanoid["upperChest"] == 5 and model.humanoid["leftToes"] == 22
    assert model.expressions == {}
    assert model.meta.name == "sphere" and model.meta.authors == ("FMS_Cat",)
    assert model.meta.license_name == "CC0" and model.meta.avatar_permission == "everyone"
    assert model.meta.allow_excessively_violent_usage is True
    assert model.meta.allow_redistribution is None  # 0.x has no such field
    assert model.look_at.type == "bone" and model.look_at.vertical_down == RangeMap(90.0, 10.0)
    assert [len(s.joints) for s in model.skins] == [22]
    assert model.materials[0].mtoon is None  # "VRM_USE_GLTFSHADER"


def test_vrm0_blend_shape_group_a_becomes_aa(models):
    for path, node, groups in ((SIMPLE_MORPH_V0, 17, 17), (SHAPEKEY_V0, 18, 13)):
        model = models[path]
        assert model.version == "0.x" and len(model.expressions) == groups
        assert all(e.preset for e in model.expressions.values())
        aa = model.expressions["aa"]
        # mesh 0, morph "A", weight 100 -> the node showing mesh 0, weight 1.0
        assert aa.morph_target_binds == (MorphTargetBind(node, 0, 1.0),)
        assert model.meshes[0].target_names == ("A",)
        assert model.meshes[0].morph_index("A") == 0
        assert model.nodes[node].mesh == 0
        assert model.meta.license_name == "CC0"
        assert "happy" in model.expressions and "joy" not in model.expressions
        assert len(model.humanoid) == 17 and "chest" in model.humanoid


def test_vrm0_look_at_ranges_and_skinned_triangle(models):
    simple = models[SIMPLE_MORPH_V0]
    assert simple.look_at.horizontal_inner == RangeMap(90.0, 8.0)
    assert simple.look_at.horizontal_outer == RangeMap(90.0, 12.0)
    assert simple.first_person.first_person_bone == 4
    shapekey = models[SHAPEKEY_V0]
    (skin,) = shapekey.skins
    assert len(skin.joints) == 18
    (prim,) = shapekey.meshes[0].primitives
    assert prim.vertex_count == 3 and prim.joints.shape == (3, 4)
    np.testing.assert_allclose(prim.targets[0].positions[:, 0].min(), -1.0)


def test_vrma_is_not_an_avatar(models):
    model = models[VRMA]
    assert model.version == "gltf" and "VRM animation" in model.notes[0]
    assert model.meshes == [] and len(model.nodes) == 53
