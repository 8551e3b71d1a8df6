"""MToon: VRM 1.0 parameters as written, VRM 0.x properties converted onto them."""

from __future__ import annotations

import math

import pytest

from avatar.vrm import VrmError, load_vrm
from avatar.vrm.expressions import MaterialColorBind, TextureTransformBind
from avatar.vrm.mtoon import srgb_to_linear, v0_shading
from tests.avatar.conftest import SIMPLE_MORPH_V0
from tests.avatar.glb import edited_copy


def test_v0_shading_conversion_keeps_the_shading_band():
    assert v0_shading(0.9, 0.0) == pytest.approx((0.95, -0.05))
    assert v0_shading(0.7, -0.4) == pytest.approx((0.79, 0.19))
    assert v0_shading(1.0, 0.0) == pytest.approx((1.0, 0.0))  # a hard edge at N.L = 0
    assert srgb_to_linear(0.5) == pytest.approx(0.21404, abs=1e-5)
    assert srgb_to_linear(0.0) == 0.0 and srgb_to_linear(1.0) == pytest.approx(1.0)


def _mtoon_v0(doc):
    """Turn simple_morph_vrm0's only material into a VRM 0.x MToon material, and
    give its "Joy" group a colour and a UV bind."""
    doc["images"] = [{"uri": "data:image/png;base64,iVBORw0KGgo="}]
    doc["textures"] = [{"source": 0}]
    doc["extensions"]["VRM"]["materialProperties"] = [{
        "name": "glTF_2_0_default_material",
        "shader": "VRM/MToon",
        "renderQueue": 2450,
        "floatProperties": {
            "_BlendMode": 1, "_Cutoff": 0.3, "_CullMode": 0, "_ShadeShift": -0.4,
            "_ShadeToony": 0.7, "_IndirectLightIntensity": 0.25, "_OutlineWidthMode": 1,
            "_OutlineWidth": 0.5, "_OutlineColorMode": 1, "_OutlineLightingMix": 0.6,
            "_RimFresnelPower": 3.0, "_RimLift": 0.1, "_UvAnimScrollX": 0.25,
            "_UvAnimScrollY": 0.5, "_UvAnimRotation": 0.5, "_BumpScale": 0.8,
        },
        "vectorProperties": {
            "_Color": [0.5, 1.0, 0.0, 0.9], "_ShadeColor": [0.5, 0.5, 0.5, 1.0],
            "_EmissionColor": [0.5, 0.0, 0.0, 1.0], "_RimColor": [1.0, 1.0, 1.0, 1.0],
            "_OutlineColor": [0.0, 0.0, 0.5, 1.0], "_MainTex": [0.0, 0.25, 2.0, 0.5],
        },
        "textureProperties": {"_MainTex": 0, "_ShadeTexture": 0, "_BumpMap": 0},
        "keywordMap": {}, "tagMap": {},
    }]
    joy = next(g for g in doc["extensions"]["VRM"]["blendShapeMaster"]["blendShapeGroups"]
               if g["presetName"] == "joy")
    joy["materialValues"] = [
        {"materialName": "glTF_2_0_default_material", "propertyName": "_Color",
         "targetValue": [1.0, 0.5, 0.5, 1.0]},
        {"materialName": "glTF_2_0_default_material", "propertyName": "_MainTex_ST",
         "targetValue": [1.0, 1.0, 0.5, 0.0]},
        {"materialName": "nowhere", "propertyName": "_Color", "targetValue": [1, 1, 1, 1]},
    ]


def test_vrm0_mtoon_properties_become_vrm1_parameters(tmp_path):
    model = load_vrm(edited_copy(SIMPLE_MORPH_V0, tmp_path / "mtoon0.vrm", _mtoon_v0))
    (mat,) = model.materials
    mt = mat.mtoon
    assert mat.alpha_mode == "MASK" and mat.alpha_cutoff == 0.3 and mat.double_sided
    assert mat.base_color_factor == pytest.approx((srgb_to_linear(0.5), 1.0, 0.0, 0.9))
    assert mat.emissive_factor == (0.5, 0.0, 0.0)  # emission was linear already
    assert mt.shade_color_factor == pytest.approx((srgb_to_linear(0.5),) * 3)
    assert mt.outline_color_factor == pytest.approx((0.0, 0.0, srgb_to_linear(0.5)))
    assert (mt.shading_toony_factor, mt.shading_shift_factor) == pytest.approx((0.79, 0.19))
    assert mt.gi_equalization_factor == pytest.approx(0.75)
    assert mt.outline_width_mode == "worldCoordinates"
    assert mt.outline_width_factor == pytest.approx(0.005)  # 0.5 cm
    assert mt.outline_lighting_mix_factor == 0.6
    assert (mt.parametric_rim_fresnel_power_factor, mt.parametric_rim_lift_factor) == (3.0, 0.1)
    assert mt.uv_animation_scroll_x_speed_factor == 0.25
    assert mt.uv_animation_scroll_y_speed_factor == -0.5  # V points the other way in glTF
    assert mt.uv_animation_rotation_speed_factor == pytest.approx(-math.pi)
    assert mat.base_color_texture.index == 0 and mt.shade_multiply_texture.index == 0
    assert mat.normal_texture.scale == 0.8
    # Unity offset (0, 0.25), scale (2, 0.5) with V up -> glTF offset (0, 1 - 0.25 - 0.5).
    transform = mat.base_color_texture.transform
    assert transform.scale == (2.0, 0.5) and transform.offset == pytest.approx((0.0, 0.25))

    happy = model.expressions["happy"]
    assert happy.material_color_binds == (
        MaterialColorBind(0, "color", pytest.approx((1.0, srgb_to_linear(0.5),
                                                     srgb_to_linear(0.5), 1.0))),)
    assert happy.texture_transform_binds == (TextureTransformBind(0, (1.0, 1.0), (0.5, 0.0)),)
    assert any("no material named 'nowhere'" in n for n in model.notes)


def test_materials_naming_missing_textures_are_refused(tmp_path):
    def no_textures(doc):
        _mtoon_v0(doc)
        del doc["textures"]

    with pytest.raises(VrmError, match="material 0 base_color_texture uses texture 0, which "
                                       "does not exist"):
        load_vrm(edited_copy(SIMPLE_MORPH_V0, tmp_path / "notex.vrm", no_textures))


def test_vrm0_gltf_shader_materials_stay_as_they_are(models):
    model = models[SIMPLE_MORPH_V0]
    (mat,) = model.materials
    assert mat.mtoon is None and mat.base_color_factor == (1.0, 1.0, 1.0, 1.0)
