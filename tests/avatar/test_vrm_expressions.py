"""ExpressionMixer: weights, isBinary, override rules, morph and material output."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.vrm import ExpressionMixer, load_vrm
from avatar.vrm.expressions import (
    Expression,
    MaterialColorBind,
    MorphTargetBind,
    TextureTransformBind,
)
from avatar.vrm.model import LookAt, Material, MToon, RangeMap, TextureRef, TextureTransform
from tests.avatar.conftest import BINARY_OVERRIDDEN, BINARY_OVERRIDES, CUBE, SIMPLE_MORPH_V0


def _face(**overrides: dict) -> dict[str, Expression]:
    """A face on node 0: aa..oh, blink(s), look(s) and happy on morphs 0..12."""
    names = ["aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight",
             "lookUp", "lookDown", "lookLeft", "lookRight", "happy"]
    return {
        name: Expression(name=name, preset=True,
                         morph_target_binds=(MorphTargetBind(0, i, 1.0),),
                         **overrides.get(name, {}))
        for i, name in enumerate(names)
    }


def _mix(exprs, weights, **kw):
    mixer = ExpressionMixer(exprs, morph_defaults={0: np.zeros(13, dtype=np.float32)}, **kw)
    return mixer.mix(weights)


def test_vrm0_a_drives_its_morph_target_and_deforms_the_mesh():
    model = load_vrm(SIMPLE_MORPH_V0)
    out = ExpressionMixer.for_model(model).mix({"aa": 0.7})
    np.testing.assert_allclose(out.morph_weights[17], [0.7])
    assert out.morph(17, 0) == pytest.approx(0.7) and out.morph(3, 0) == 0.0
    prim = model.meshes[0].primitives[0]
    deformed = prim.positions + out.morph_weights[17][0] * prim.targets[0].positions
    # Morph "A" lifts the triangle's second corner by 1 m: at 0.7 it sits at y = -0.3.
    np.testing.assert_allclose(deformed[1], [-1.0, -0.3, 0.0], atol=1e-6)
    np.testing.assert_array_equal(deformed[[0, 2]], prim.positions[[0, 2]])


def test_cube_bind_weights_are_not_clamped_unless_asked():
    model = load_vrm(CUBE)
    out = ExpressionMixer.for_model(model).mix({"aa": 0.7, "blink": 1.0})
    assert out.morph(21, 1) == pytest.approx(2.1)  # bind weight 3
    assert out.morph(18, 1) == pytest.approx(-0.75) and out.morph(20, 1) == pytest.approx(-0.75)
    assert out.morph(21, 0) == 0.0 and out.morph_weights[21].dtype == np.float32
    clamped = ExpressionMixer.for_model(model, clamp_morphs=True).mix({"aa": 0.7, "blink": 1.0})
    assert clamped.morph(21, 1) == 1.0 and clamped.morph(18, 1) == 0.0


def test_inputs_are_clamped_and_unknown_names_ignored():
    out = _mix(_face(), {"aa": 1.7, "ih": -0.3, "ou": float("nan"), "nope": 1.0})
    np.testing.assert_allclose(out.morph_weights[0][:3], [1.0, 0.0, 0.0])
    assert "nope" not in out.weights


def test_override_blink_block_zeroes_all_blinks():
    exprs = _face(happy={"override_blink": "block"})
    blinking = {"blink": 1.0, "blinkLeft": 0.4, "blinkRight": 0.6}
    w = _mix(exprs, {**blinking, "happy": 0.01}).morph_weights[0]
    np.testing.assert_allclose(w[5:8], [0, 0, 0])
    assert w[12] == pytest.approx(0.01)
    w = _mix(exprs, {**blinking, "happy": 0.0}).morph_weights[0]
    np.testing.assert_allclose(w[5:8], [1.0, 0.4, 0.6])


def test_override_mouth_blend_scales_by_one_minus_weight_and_saturates():
    exprs = _face(happy={"override_mouth": "blend"},
                  blink={"override_mouth": "blend"})
    w = _mix(exprs, {"aa": 0.8, "oh": 0.5, "happy": 0.25}).morph_weights[0]
    np.testing.assert_allclose(w[[0, 4]], [0.8 * 0.75, 0.5 * 0.75])
    w = _mix(exprs, {"aa": 0.8, "happy": 0.7, "blink": 0.6}).morph_weights[0]
    assert w[0] == 0.0  # 0.7 + 0.6 saturates at 1
    assert w[5] == pytest.approx(0.6)  # blink itself is untouched by a mouth override


def test_override_look_at_and_own_group_is_ignored():
    exprs = _face(happy={"override_look_at": "block"},
                  blink={"override_blink": "block"})  # blink cannot block blinkLeft
    w = _mix(exprs, {"lookLeft": 1.0, "lookUp": 0.3, "happy": 1.0, "blink": 1.0,
                     "blinkLeft": 0.5}).morph_weights[0]
    np.testing.assert_allclose(w[8:12], 0.0)
    assert w[6] == pytest.approx(0.5)


def test_is_binary_rounds_at_one_half():
    exprs = _face(blink={"is_binary": True})
    assert _mix(exprs, {"blink": 0.5}).morph(0, 5) == 0.0
    assert _mix(exprs, {"blink": 0.51}).morph(0, 5) == 1.0
    assert _mix(exprs, {"blink": 0.51}).weights["blink"] == 1.0


def test_binary_overrider_uses_its_binary_value():
    exprs = _face(happy={"is_binary": True, "override_mouth": "block"})
    assert _mix(exprs, {"aa": 1.0, "happy": 0.4}).morph(0, 0) == 1.0  # happy rounds to 0
    assert _mix(exprs, {"aa": 1.0, "happy": 0.6}).morph(0, 0) == 0.0


def test_binary_overridden_is_dropped_when_touched_at_all():
    exprs = _face(happy={"override_blink": "blend"}, blink={"is_binary": True})
    assert _mix(exprs, {"blink": 1.0, "happy": 0.05}).morph(0, 5) == 0.0
    assert _mix(exprs, {"blink": 1.0, "happy": 0.0}).morph(0, 5) == 1.0


def test_official_is_binary_overridden_sample():
    model = load_vrm(BINARY_OVERRIDDEN)
    mixer = ExpressionMixer.for_model(model)
    out = mixer.mix({"happy": 0.3, "blink": 1.0})
    assert out.weights == {"happy": 0.3, "blink": 0.0}
    # The happy meter (material 2) moves 30% from its base offset towards the bind's.
    scale, offset = out.texture_transforms[2]
    np.testing.assert_allclose(offset, [0.5009765625 + 0.3 * (0.0009765625 - 0.5009765625), 0])
    np.testing.assert_allclose(scale, [0.498046875, 0])
    # The blink meter (material 3) stays at its base: blink is suppressed.
    np.testing.assert_allclose(out.texture_transforms[3][1], [0.5009765625, 0])
    out = mixer.mix({"happy": 0.0, "blink": 1.0})
    assert out.weights["blink"] == 1.0
    np.testing.assert_allclose(out.texture_transforms[3][1], [0.0009765625, 0])
    np.testing.assert_allclose(out.texture_transforms[0][1], [0, 0.875])  # window shows blink


def test_official_is_binary_overrides_sample():
    mixer = ExpressionMixer.for_model(load_vrm(BINARY_OVERRIDES))
    assert mixer.mix({"happy": 0.5, "blink": 0.8}).weights == {"happy": 0.0, "blink": 0.8}
    assert mixer.mix({"happy": 0.6, "blink": 0.8}).weights == {"happy": 1.0, "blink": 0.0}


def test_material_color_binds_blend_from_the_material_value():
    materials = [Material(name="skin", base_color_factor=(1.0, 1.0, 1.0, 1.0),
                          emissive_factor=(0.0, 0.0, 0.0),
                          mtoon=MToon(shade_color_factor=(0.5, 0.5, 0.5)),
                          base_color_texture=TextureRef(0, transform=TextureTransform()))]
    exprs = {
        "angry": Expression("angry", True, material_color_binds=(
            MaterialColorBind(0, "color", (1.0, 0.0, 0.0, 0.5)),
            MaterialColorBind(0, "emissionColor", (1.0, 0.0, 0.0, 0.0)))),
        "sad": Expression("sad", True, material_color_binds=(
            MaterialColorBind(0, "shadeColor", (0.0, 0.0, 1.0, 1.0)),),
            texture_transform_binds=(TextureTransformBind(0, (0.5, 0.5), (0.5, 0.0)),)),
    }
    out = ExpressionMixer(exprs, materials=materials).mix({"angry": 0.5, "sad": 1.0})
    np.testing.assert_allclose(out.material_colors[(0, "color")], [1.0, 0.5, 0.5, 0.75])
    np.testing.assert_allclose(out.material_colors[(0, "emissionColor")], [0.5, 0, 0, 1.0])
    np.testing.assert_allclose(out.material_colors[(0, "shadeColor")][:3], [0, 0, 1])
    scale, offset = out.texture_transforms[0]
    np.testing.assert_allclose(scale, [0.5, 0.5])
    np.testing.assert_allclose(offset, [0.5, 0.0])
    assert out.morph_weights == {}


def test_look_at_range_maps():
    rm = RangeMap(input_max_value=60.0, output_scale=12.0)
    assert rm.map(30.0) == pytest.approx(6.0) and rm.map(-90.0) == pytest.approx(12.0)
    assert RangeMap(0.0, 5.0).map(1.0) == 5.0 and RangeMap(0.0, 5.0).map(0.0) == 0.0
    look = LookAt(type="expression", horizontal_outer=RangeMap(90.0, 1.0),
                  vertical_down=RangeMap(45.0, 1.0), vertical_up=RangeMap(45.0, 0.5))
    assert look.expression_weights(45.0, 90.0) == {
        "lookLeft": 0.5, "lookRight": 0.0, "lookDown": 1.0, "lookUp": 0.0}
    assert look.expression_weights(-90.0, -22.5) == {
        "lookLeft": 0.0, "lookRight": 1.0, "lookDown": 0.0, "lookUp": 0.25}
