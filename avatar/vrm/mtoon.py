"""MToon settings from VRM 1.0 (VRMC_materials_mtoon) and VRM 0.x (materialProperties).

VRM 0.x kept Unity shader properties: colours in sRGB, `_ShadeShift`/`_ShadeToony`
with a different meaning, outline widths in centimetres and UVs with V pointing up.
They are converted here so a renderer implements only the 1.0 MToon model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from avatar.vrm.gltf import texture_ref
from avatar.vrm.model import Material, MToon, TextureRef, TextureTransform

_OUTLINE_MODES = ("none", "worldCoordinates", "screenCoordinates")
_V0_SHADER_MTOON = "VRM/MToon"
_V0_UNLIT_ALPHA = {
    "VRM/UnlitTexture": ("OPAQUE", False),
    "VRM/UnlitCutout": ("MASK", False),
    "VRM/UnlitTransparent": ("BLEND", False),
    "VRM/UnlitTransparentZWrite": ("BLEND", True),
}
#: VRM 0.x colour properties stored in sRGB (everything but emission).
SRGB_COLOR_PROPERTIES = frozenset({"_Color", "_ShadeColor", "_RimColor", "_OutlineColor"})


def mtoon_from_vrm1(ext: dict) -> MToon:
    """Read a VRMC_materials_mtoon extension object (schema defaults for the rest)."""
    d = MToon()
    return MToon(
        transparent_with_z_write=bool(ext.get("transparentWithZWrite", False)),
        render_queue_offset=int(ext.get("renderQueueOffsetNumber", 0)),
        shade_color_factor=_vec(ext.get("shadeColorFactor"), d.shade_color_factor),
        shade_multiply_texture=texture_ref(ext.get("shadeMultiplyTexture")),
        shading_shift_factor=float(ext.get("shadingShiftFactor", d.shading_shift_factor)),
        shading_shift_texture=texture_ref(ext.get("shadingShiftTexture"), "scale"),
        shading_toony_factor=float(ext.get("shadingToonyFactor", d.shading_toony_factor)),
        gi_equalization_factor=float(ext.get("giEqualizationFactor", d.gi_equalization_factor)),
        matcap_factor=_vec(ext.get("matcapFactor"), d.matcap_factor),
        matcap_texture=texture_ref(ext.get("matcapTexture")),
        parametric_rim_color_factor=_vec(
            ext.get("parametricRimColorFactor"), d.parametric_rim_color_factor
        ),
        rim_multiply_texture=texture_ref(ext.get("rimMultiplyTexture")),
        rim_lighting_mix_factor=float(ext.get("rimLightingMixFactor", d.rim_lighting_mix_factor)),
        parametric_rim_fresnel_power_factor=float(
            ext.get("parametricRimFresnelPowerFactor", d.parametric_rim_fresnel_power_factor)
        ),
        parametric_rim_lift_factor=float(
            ext.get("parametricRimLiftFactor", d.parametric_rim_lift_factor)
        ),
        outline_width_mode=_outline_mode(ext.get("outlineWidthMode")),
        outline_width_factor=float(ext.get("outlineWidthFactor", 0.0)),
        outline_width_multiply_texture=texture_ref(ext.get("outlineWidthMultiplyTexture")),
        outline_color_factor=_vec(ext.get("outlineColorFactor"), d.outline_color_factor),
        outline_lighting_mix_factor=float(
            ext.get("outlineLightingMixFactor", d.outline_lighting_mix_factor)
        ),
        uv_animation_mask_texture=texture_ref(ext.get("uvAnimationMaskTexture")),
        uv_animation_scroll_x_speed_factor=float(ext.get("uvAnimationScrollXSpeedFactor", 0.0)),
        uv_animation_scroll_y_speed_factor=float(ext.get("uvAnimationScrollYSpeedFactor", 0.0)),
        uv_animation_rotation_speed_factor=float(ext.get("uvAnimationRotationSpeedFactor", 0.0)),
    )


def apply_vrm1_mtoon(materials: list[Material], materials_json: list[dict]) -> list[Material]:
    """Attach MToon settings to the materials that carry VRMC_materials_mtoon."""
    out = []
    for mat, raw in zip(materials, materials_json, strict=True):
        ext = raw.get("extensions", {}).get("VRMC_materials_mtoon")
        out.append(replace(mat, mtoon=mtoon_from_vrm1(ext)) if isinstance(ext, dict) else mat)
    return out


# -- VRM 0.x ------------------------------------------------------------------


def srgb_to_linear(c: float) -> float:
    """One sRGB-encoded colour channel to linear (the IEC 61966-2-1 curve)."""
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def v0_color(prop: str, values: Sequence[float]) -> tuple[float, ...]:
    """A VRM 0.x colour property as a linear glTF colour (alpha untouched)."""
    vals = tuple(float(v) for v in values)
    if prop not in SRGB_COLOR_PROPERTIES:
        return vals
    return tuple(srgb_to_linear(v) for v in vals[:3]) + vals[3:]


def v0_shading(toony: float, shift: float) -> tuple[float, float]:
    """(shadingToonyFactor, shadingShiftFactor) equivalent to 0.x `_ShadeToony`/`_ShadeShift`.

    0.x shades by linearstep(shift, lerp(1, shift, toony), N.L); 1.0 by
    linearstep(-1 + toony - shift', 1 - toony - shift', N.L). Matching the two
    ranges gives toony' = 1 - width / 2 and shift' = -centre.
    """
    low, high = shift, 1.0 + (shift - 1.0) * toony
    new_toony = min(max((2.0 - (high - low)) * 0.5, 0.0), 1.0)
    new_shift = min(max(-(high + low) * 0.5, -1.0), 1.0)
    return new_toony, new_shift


def v0_uv_transform(st: Sequence[float]) -> TextureTransform:
    """Unity's (offset, scale) with V up to a glTF transform with V down."""
    ox, oy, sx, sy = (float(v) for v in st)
    return TextureTransform(offset=(ox, 1.0 - oy - sy), scale=(sx, sy))


def apply_vrm0_material(material: Material, props: dict) -> Material:
    """Rebuild a material from its VRM 0.x `materialProperties` entry.

    VRM 0.x exporters also write a glTF fallback material; the MToon/Unlit
    properties are what the model was authored with, so they win.
    """
    shader = props.get("shader", "")
    floats = props.get("floatProperties", {}) or {}
    vectors = props.get("vectorProperties", {}) or {}
    textures = props.get("textureProperties", {}) or {}
    keep_transform = material.base_color_texture.transform if material.base_color_texture else None

    def tex(name: str, scale: float = 1.0) -> TextureRef | None:
        index = textures.get(name)
        return TextureRef(index=index, scale=scale) if isinstance(index, int) else None

    def color(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        v = vectors.get(name)
        if isinstance(v, list) and len(v) >= len(default):
            return v0_color(name, v[: len(default)])
        return default

    def num(name: str, default: float) -> float:
        return float(floats.get(name, default))

    if shader in _V0_UNLIT_ALPHA:
        alpha_mode, _ = _V0_UNLIT_ALPHA[shader]
        base = tex("_MainTex")
        return replace(
            material, unlit=True, alpha_mode=alpha_mode,
            alpha_cutoff=num("_Cutoff", material.alpha_cutoff),
            base_color_factor=color("_Color", material.base_color_factor),
            base_color_texture=_with_transform(base, vectors, keep_transform)
            or material.base_color_texture,
        )
    if shader != _V0_SHADER_MTOON:
        return material  # "VRM_USE_GLTFSHADER": the glTF material is the real one

    blend = int(num("_BlendMode", 0))
    alpha_mode = ("OPAQUE", "MASK", "BLEND", "BLEND")[blend] if 0 <= blend <= 3 else "OPAQUE"
    toony, shift = v0_shading(num("_ShadeToony", 0.9), num("_ShadeShift", 0.0))
    outline_mode = int(num("_OutlineWidthMode", 0))
    outline_mode = outline_mode if 0 <= outline_mode <= 2 else 0
    # World widths were centimetres; screen widths a percentage, half as thick in 1.0.
    width = num("_OutlineWidth", 0.0) * (0.0, 0.01, 0.005)[outline_mode]
    fixed_outline = int(num("_OutlineColorMode", 0)) == 0
    matcap = tex("_SphereAdd")
    mtoon = MToon(
        transparent_with_z_write=blend == 3,
        render_queue_offset=0,
        # (0.9331, 0.6209, 0.7106) is MToon 0.x's default shade colour, linearised.
        shade_color_factor=color("_ShadeColor", (0.9331, 0.6209, 0.7106, 1.0))[:3],
        shade_multiply_texture=tex("_ShadeTexture"),
        shading_shift_factor=shift,
        shading_toony_factor=toony,
        gi_equalization_factor=min(max(1.0 - num("_IndirectLightIntensity", 0.1), 0.0), 1.0),
        matcap_factor=(1.0, 1.0, 1.0) if matcap else (0.0, 0.0, 0.0),
        matcap_texture=matcap,
        parametric_rim_color_factor=color("_RimColor", (0.0, 0.0, 0.0, 1.0))[:3],
        rim_multiply_texture=tex("_RimTexture"),
        rim_lighting_mix_factor=num("_RimLightingMix", 0.0),
        parametric_rim_fresnel_power_factor=num("_RimFresnelPower", 1.0),
        parametric_rim_lift_factor=num("_RimLift", 0.0),
        outline_width_mode=_OUTLINE_MODES[outline_mode],
        outline_width_factor=width,
        outline_width_multiply_texture=tex("_OutlineWidthTexture"),
        outline_color_factor=color("_OutlineColor", (0.0, 0.0, 0.0, 1.0))[:3],
        outline_lighting_mix_factor=0.0 if fixed_outline else num("_OutlineLightingMix", 1.0),
        uv_animation_mask_texture=tex("_UvAnimMaskTexture"),
        uv_animation_scroll_x_speed_factor=num("_UvAnimScrollX", 0.0),
        # Unity's V axis points up, glTF's down; 0.x rotation was in turns per second.
        uv_animation_scroll_y_speed_factor=-num("_UvAnimScrollY", 0.0),
        uv_animation_rotation_speed_factor=-num("_UvAnimRotation", 0.0) * 2.0 * math.pi,
    )
    cull = int(num("_CullMode", 2))
    return replace(
        material,
        base_color_factor=color("_Color", (1.0, 1.0, 1.0, 1.0)),
        base_color_texture=_with_transform(tex("_MainTex"), vectors, keep_transform)
        or material.base_color_texture,
        normal_texture=tex("_BumpMap", num("_BumpScale", 1.0)) or material.normal_texture,
        emissive_factor=color("_EmissionColor", (0.0, 0.0, 0.0, 1.0))[:3],
        emissive_texture=tex("_EmissionMap") or material.emissive_texture,
        alpha_mode=alpha_mode,
        alpha_cutoff=num("_Cutoff", 0.5),
        double_sided=cull != 2,  # 0 off, 1 front: both need the back faces drawn
        mtoon=mtoon,
    )


def _with_transform(
    ref: TextureRef | None, vectors: dict, existing: TextureTransform | None
) -> TextureRef | None:
    if ref is None:
        return None
    st = vectors.get("_MainTex")
    if existing is not None:
        transform = existing
    elif isinstance(st, list) and len(st) == 4 and list(st) != [0, 0, 1, 1]:
        transform = v0_uv_transform(st)
    else:
        transform = None
    return replace(ref, transform=transform)


def _vec(values: Sequence[float] | None, default: tuple[float, ...]) -> tuple[float, ...]:
    if not isinstance(values, (list, tuple)) or len(values) < len(default):
        return default
    return tuple(float(v) for v in values[: len(default)])


def _outline_mode(value: object) -> str:
    return value if value in _OUTLINE_MODES else "none"
