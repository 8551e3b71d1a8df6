"""Facial expressions: VRM 1.0 expressions, VRM 0.x blend shape groups, and the mixer.

Both file versions load into `Expression` with VRM 1.0 names ("aa", "blink",
"happy", ...), so lip sync and the idle animation never care which version the
avatar is. `ExpressionMixer` turns expression weights into morph weights and
material values every frame; it precomputes matrices so a frame is a few small
numpy operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from avatar.vrm.model import Material, Mesh, MToon, Node, Vec2, Vec4
from avatar.vrm.mtoon import v0_color

if TYPE_CHECKING:
    from avatar.vrm.model import VrmModel

Override = Literal["none", "block", "blend"]

MOUTH = ("aa", "ih", "ou", "ee", "oh")
BLINK = ("blink", "blinkLeft", "blinkRight")
LOOK_AT = ("lookUp", "lookDown", "lookLeft", "lookRight")
EMOTIONS = ("happy", "angry", "sad", "relaxed", "surprised")
PRESETS = EMOTIONS + MOUTH + BLINK + LOOK_AT + ("neutral",)

#: VRM 0.x presetName (compared case-insensitively) -> VRM 1.0 expression name.
V0_PRESETS = {
    "a": "aa", "i": "ih", "u": "ou", "e": "ee", "o": "oh",
    "blink": "blink", "blink_l": "blinkLeft", "blink_r": "blinkRight",
    "joy": "happy", "angry": "angry", "sorrow": "sad", "fun": "relaxed",
    "lookup": "lookUp", "lookdown": "lookDown", "lookleft": "lookLeft", "lookright": "lookRight",
    "neutral": "neutral",
}
COLOR_TYPES = ("color", "emissionColor", "shadeColor", "matcapColor", "rimColor", "outlineColor")
#: VRM 0.x material property -> VRM 1.0 materialColorBind type.
V0_COLOR_PROPERTIES = {
    "_Color": "color", "_EmissionColor": "emissionColor", "_ShadeColor": "shadeColor",
    "_RimColor": "rimColor", "_OutlineColor": "outlineColor",
}
_V0_UV_PROPERTIES = ("_MainTex_ST", "_MainTex_ST_S", "_MainTex_ST_T")


@dataclass(frozen=True)
class MorphTargetBind:
    node: int
    index: int
    weight: float


@dataclass(frozen=True)
class MaterialColorBind:
    material: int
    type: str
    target_value: Vec4


@dataclass(frozen=True)
class TextureTransformBind:
    material: int
    scale: Vec2 = (1.0, 1.0)
    offset: Vec2 = (0.0, 0.0)


@dataclass(frozen=True)
class Expression:
    name: str
    preset: bool
    morph_target_binds: tuple[MorphTargetBind, ...] = ()
    material_color_binds: tuple[MaterialColorBind, ...] = ()
    texture_transform_binds: tuple[TextureTransformBind, ...] = ()
    is_binary: bool = False
    override_blink: Override = "none"
    override_look_at: Override = "none"
    override_mouth: Override = "none"


# -- loading ------------------------------------------------------------------


def expressions_from_vrm1(
    ext: dict, nodes: Sequence[Node], meshes: Sequence[Mesh], n_materials: int, notes: list[str]
) -> dict[str, Expression]:
    """VRMC_vrm.expressions: presets first, then custom ones (which may not reuse a preset name)."""
    out: dict[str, Expression] = {}
    for group, is_preset in (("preset", True), ("custom", False)):
        for name, e in (ext.get(group) or {}).items():
            if not isinstance(e, dict):
                continue
            if not is_preset and name in PRESETS:
                notes.append(f"custom expression {name!r} shadows a preset name; skipped")
                continue
            preset = is_preset and name in PRESETS
            if is_preset and not preset:
                notes.append(f"unknown preset expression {name!r} loaded as custom")
            morphs = []
            for b in e.get("morphTargetBinds", []):
                bind = MorphTargetBind(b.get("node"), b.get("index"), float(b.get("weight", 0.0)))
                if _morph_ok(bind, nodes, meshes, name, notes):
                    morphs.append(bind)
            colors = [
                MaterialColorBind(b["material"], b.get("type", "color"),
                                  _vec4(b.get("targetValue")))
                for b in e.get("materialColorBinds", [])
                if _material_ok(b.get("material"), n_materials, name, notes)
                and _color_type_ok(b.get("type"), name, notes)
            ]
            uvs = [
                TextureTransformBind(b["material"], _vec2(b.get("scale"), (1.0, 1.0)),
                                     _vec2(b.get("offset"), (0.0, 0.0)))
                for b in e.get("textureTransformBinds", [])
                if _material_ok(b.get("material"), n_materials, name, notes)
            ]
            out[name] = Expression(
                name=name, preset=preset, morph_target_binds=tuple(morphs),
                material_color_binds=tuple(colors), texture_transform_binds=tuple(uvs),
                is_binary=bool(e.get("isBinary", False)),
                override_blink=_override(e.get("overrideBlink")),
                override_look_at=_override(e.get("overrideLookAt")),
                override_mouth=_override(e.get("overrideMouth")),
            )
    return out


def expressions_from_vrm0(
    master: dict, nodes: Sequence[Node], meshes: Sequence[Mesh], materials: Sequence[Material],
    notes: list[str],
) -> dict[str, Expression]:
    """VRM 0.x blendShapeMaster groups as VRM 1.0 expressions.

    Binds name a mesh, not a node: they apply to every node that uses the mesh.
    Weights go from 0..100 to 0..1, colours from sRGB to linear, and `_MainTex_ST`
    (Unity scale/offset, V up) becomes a texture-transform bind.
    """
    out: dict[str, Expression] = {}
    for group in master.get("blendShapeGroups", []):
        preset = V0_PRESETS.get(str(group.get("presetName", "unknown")).lower())
        name = preset or str(group.get("name", "")).strip()
        if not name:
            notes.append("a blend shape group without a name or preset was skipped")
            continue
        if name in out:
            notes.append(f"blend shape group {group.get('name')!r} repeats {name!r}; skipped")
            continue
        morphs = []
        for b in group.get("binds", []):
            mesh = b.get("mesh")
            users = [n.index for n in nodes if n.mesh == mesh and mesh is not None]
            if not users:
                notes.append(f"expression {name!r}: no node uses mesh {mesh!r}; bind skipped")
            for node in users:
                bind = MorphTargetBind(node, b.get("index"), float(b.get("weight", 100.0)) / 100.0)
                if _morph_ok(bind, nodes, meshes, name, notes):
                    morphs.append(bind)
        colors, uvs = _v0_material_values(name, group.get("materialValues", []), materials, notes)
        out[name] = Expression(
            name=name, preset=preset is not None, morph_target_binds=tuple(morphs),
            material_color_binds=tuple(colors), texture_transform_binds=tuple(uvs),
            is_binary=bool(group.get("isBinary", False)),
        )
    return out


def _v0_material_values(
    name: str, values: Sequence[dict], materials: Sequence[Material], notes: list[str]
) -> tuple[list[MaterialColorBind], list[TextureTransformBind]]:
    colors, uvs = [], []
    for v in values:
        prop, target = v.get("propertyName", ""), v.get("targetValue") or []
        indices = [i for i, m in enumerate(materials) if m.name == v.get("materialName")]
        if not indices:
            notes.append(f"expression {name!r}: no material named {v.get('materialName')!r}")
            continue
        if len(target) < 4:
            notes.append(f"expression {name!r}: {prop} target {target!r} is not 4 numbers")
            continue
        for i in indices:
            if prop in V0_COLOR_PROPERTIES:
                colors.append(MaterialColorBind(i, V0_COLOR_PROPERTIES[prop],
                                                _vec4(v0_color(prop, target[:4]))))
            elif prop in _V0_UV_PROPERTIES:
                uvs.append(_v0_uv_bind(i, prop, target, materials[i]))
            else:
                notes.append(f"expression {name!r}: material property {prop!r} is not supported")
    return colors, uvs


def _v0_uv_bind(
    index: int, prop: str, st: Sequence[float], material: Material
) -> TextureTransformBind:
    """Unity `_MainTex_ST` = (scale x, scale y, offset x, offset y) with V up;
    the `_S`/`_T` variants change only the horizontal/vertical half."""
    sx, sy, ox, oy = (float(c) for c in st[:4])
    base = material.uv_transform
    scale, offset = (sx, sy), (ox, 1.0 - oy - sy)
    if prop.endswith("_S"):
        scale, offset = (sx, base.scale[1]), (ox, base.offset[1])
    elif prop.endswith("_T"):
        scale, offset = (base.scale[0], sy), (base.offset[0], 1.0 - oy - sy)
    return TextureTransformBind(index, scale, offset)


def _morph_ok(
    bind: MorphTargetBind, nodes: Sequence[Node], meshes: Sequence[Mesh], name: str,
    notes: list[str],
) -> bool:
    node, index = bind.node, bind.index
    if not (isinstance(node, int) and 0 <= node < len(nodes)) or nodes[node].mesh is None:
        notes.append(f"expression {name!r}: node {node!r} has no mesh; bind skipped")
        return False
    count = meshes[nodes[node].mesh].morph_count
    if not (isinstance(index, int) and 0 <= index < count):
        notes.append(
            f"expression {name!r}: node {node} has no morph target {index!r}; bind skipped"
        )
        return False
    return True


def _material_ok(material: object, count: int, name: str, notes: list[str]) -> bool:
    if isinstance(material, int) and 0 <= material < count:
        return True
    notes.append(f"expression {name!r}: material {material!r} does not exist; bind skipped")
    return False


def _color_type_ok(kind: object, name: str, notes: list[str]) -> bool:
    if kind in COLOR_TYPES:
        return True
    notes.append(f"expression {name!r}: unknown material colour type {kind!r}; bind skipped")
    return False


def _override(value: object) -> Override:
    return value if value in ("block", "blend") else "none"  # type: ignore[return-value]


def _vec2(values: object, default: Vec2) -> Vec2:
    if isinstance(values, (list, tuple)) and len(values) == 2:
        return (float(values[0]), float(values[1]))
    return default


def _vec4(values: object) -> Vec4:
    vals = [float(v) for v in values] if isinstance(values, (list, tuple)) else []
    vals = (vals + [0.0, 0.0, 0.0, 1.0][len(vals):])[:4]
    return (vals[0], vals[1], vals[2], vals[3])


# -- mixing -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MixResult:
    """One frame of expression output.

    `morph_weights[node]` is the full weight vector (float32) for the mesh on that
    node, for every node an expression binds; `material_colors[(material, type)]`
    is an RGBA value (the 4th is meaningless for 3-component targets);
    `texture_transforms[material]` is (scale, offset) for the material's UVs.
    `weights` are the expression weights after clamping, isBinary and overrides.
    """

    weights: dict[str, float]
    morph_weights: dict[int, np.ndarray]
    material_colors: dict[tuple[int, str], np.ndarray]
    texture_transforms: dict[int, tuple[np.ndarray, np.ndarray]]

    def morph(self, node: int, index: int) -> float:
        """Weight of morph target `index` on `node` (0 when no expression touches it)."""
        vec = self.morph_weights.get(node)
        return float(vec[index]) if vec is not None and index < len(vec) else 0.0


class ExpressionMixer:
    """Expression weights in, morph weights and material values out.

    Follows VRM 1.0: inputs are clamped to 0..1; isBinary expressions snap to 0
    or 1 (above 0.5 is 1); an active expression with override*="block" zeroes the
    mouth/blink/lookAt group, "blend" scales it by 1 - (sum of blending weights);
    an overridden isBinary expression is dropped entirely once it is affected at
    all. Morph binds add up unclamped (bind weights may lie outside 0..1; pass
    `clamp_morphs=True` for renderers that cannot take that). Unknown names are
    ignored, so lip sync can send "aa" to a model without it. The target groups
    can be extended with custom expressions (the spec leaves that to apps).
    """

    def __init__(
        self,
        expressions: Mapping[str, Expression],
        *,
        morph_defaults: Mapping[int, np.ndarray] | None = None,
        materials: Sequence[Material] = (),
        mouth: Sequence[str] = MOUTH,
        blink: Sequence[str] = BLINK,
        look_at: Sequence[str] = LOOK_AT,
        clamp_morphs: bool = False,
    ) -> None:
        self.names: tuple[str, ...] = tuple(expressions)
        self._index = {n: i for i, n in enumerate(self.names)}
        exprs = [expressions[n] for n in self.names]
        self._binary = np.array([e.is_binary for e in exprs], dtype=bool)
        self._any_binary = bool(self._binary.any())
        self._clamp = clamp_morphs
        self._groups = self._override_groups(exprs, mouth, blink, look_at)
        self._build_morphs(exprs, morph_defaults or {})
        self._build_colors(exprs, materials)
        self._build_uvs(exprs, materials)

    @classmethod
    def for_model(cls, model: VrmModel, **options: object) -> ExpressionMixer:
        defaults = {
            n.index: n.weights if n.weights is not None else model.meshes[n.mesh].weights
            for n in model.nodes
            if n.mesh is not None
        }
        return cls(model.expressions, morph_defaults=defaults, materials=model.materials,
                   **options)  # type: ignore[arg-type]

    # -- per frame -----------------------------------------------------------

    def effective_weights(self, weights: Mapping[str, float]) -> np.ndarray:
        """Weights in `names` order after clamping, isBinary and the override rules."""
        w = np.zeros(len(self.names))
        for name, value in weights.items():
            i = self._index.get(name)
            if i is not None:
                w[i] = value
        np.clip(np.nan_to_num(w, nan=0.0), 0.0, 1.0, out=w)
        if self._any_binary:
            w[self._binary] = w[self._binary] > 0.5
        if self._groups:
            active = w > 0
            factors = []
            for targets, blockers, blenders in self._groups:
                if (active & blockers).any():
                    factors.append((targets, 0.0))
                else:
                    total = float(w[blenders].sum())
                    if total > 0:
                        factors.append((targets, 1.0 - min(total, 1.0)))
            for targets, factor in factors:  # all factors come from the unoverridden weights
                w[targets] *= factor
                w[targets & self._binary] = 0.0
        return w

    def mix(self, weights: Mapping[str, float]) -> MixResult:
        w = self.effective_weights(weights)
        flat = self._morph_base + w @ self._morph_matrix
        if self._clamp:
            np.clip(flat, 0.0, 1.0, out=flat)
        flat = flat.astype(np.float32)
        colors = self._color_base + (w @ self._color_delta).reshape(-1, 4)
        uvs = self._uv_base + (w @ self._uv_delta).reshape(-1, 4)
        return MixResult(
            weights=dict(zip(self.names, w.tolist())),
            morph_weights={node: flat[a:b] for node, a, b in self._morph_slices},
            material_colors={key: colors[i] for i, key in enumerate(self._color_keys)},
            texture_transforms={m: (uvs[i, :2], uvs[i, 2:]) for i, m in enumerate(self._uv_keys)},
        )

    # -- precomputation ------------------------------------------------------

    def _override_groups(
        self, exprs: list[Expression], mouth: Sequence[str], blink: Sequence[str],
        look_at: Sequence[str],
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        groups = []
        for members, attr in ((mouth, "override_mouth"), (blink, "override_blink"),
                              (look_at, "override_look_at")):
            targets = np.array([n in members for n in self.names], dtype=bool)
            kinds = np.array([getattr(e, attr) for e in exprs], dtype=object)
            # An expression's override of its own group is ignored, as the spec says.
            blockers = (kinds == "block") & ~targets
            blenders = (kinds == "blend") & ~targets
            if targets.any() and (blockers.any() or blenders.any()):
                groups.append((targets, blockers, blenders))
        return groups

    def _build_morphs(self, exprs: list[Expression], defaults: Mapping[int, np.ndarray]) -> None:
        sizes: dict[int, int] = {}
        for e in exprs:
            for b in e.morph_target_binds:
                known = len(defaults[b.node]) if b.node in defaults else 0
                sizes[b.node] = max(sizes.get(b.node, known), b.index + 1)
        self._morph_slices: list[tuple[int, int, int]] = []
        offset = 0
        for node in sorted(sizes):
            self._morph_slices.append((node, offset, offset + sizes[node]))
            offset += sizes[node]
        start = {node: a for node, a, _ in self._morph_slices}
        base = np.zeros(offset)
        for node, a, _ in self._morph_slices:
            given = np.asarray(defaults.get(node, ()), dtype=np.float64)
            base[a : a + len(given)] = given
        matrix = np.zeros((len(exprs), offset))
        for i, e in enumerate(exprs):
            for b in e.morph_target_binds:
                slot = start[b.node] + b.index
                matrix[i, slot] += b.weight
                base[slot] = 0.0  # bound targets start from zero every frame
        self._morph_base, self._morph_matrix = base, matrix

    def _build_colors(self, exprs: list[Expression], materials: Sequence[Material]) -> None:
        keys = sorted({(b.material, b.type) for e in exprs for b in e.material_color_binds})
        self._color_keys = keys
        slot = {k: i for i, k in enumerate(keys)}
        base = np.array([_material_color(materials, m, t) for m, t in keys]).reshape(-1, 4)
        delta = np.zeros((len(exprs), len(keys), 4))
        for i, e in enumerate(exprs):
            for b in e.material_color_binds:
                k = slot[(b.material, b.type)]
                width = 4 if b.type == "color" else 3
                delta[i, k, :width] += np.asarray(b.target_value[:width]) - base[k, :width]
        self._color_base, self._color_delta = base, delta.reshape(len(exprs), 4 * len(keys))

    def _build_uvs(self, exprs: list[Expression], materials: Sequence[Material]) -> None:
        keys = sorted({b.material for e in exprs for b in e.texture_transform_binds})
        self._uv_keys = keys
        slot = {m: i for i, m in enumerate(keys)}
        base = np.zeros((len(keys), 4))
        for m, i in slot.items():
            t = materials[m].uv_transform if m < len(materials) else None
            base[i] = (*t.scale, *t.offset) if t else (1.0, 1.0, 0.0, 0.0)
        delta = np.zeros((len(exprs), len(keys), 4))
        for i, e in enumerate(exprs):
            for b in e.texture_transform_binds:
                k = slot[b.material]
                delta[i, k] += np.array([*b.scale, *b.offset]) - base[k]
        self._uv_base, self._uv_delta = base, delta.reshape(len(exprs), 4 * len(keys))


def _material_color(materials: Sequence[Material], index: int, kind: str) -> Vec4:
    """The material's own value for a colour bind type (what weight 0 means)."""
    if index >= len(materials):
        return (0.0, 0.0, 0.0, 1.0)
    mat = materials[index]
    mt = mat.mtoon or MToon()
    rgb = {
        "emissionColor": mat.emissive_factor,
        "shadeColor": mt.shade_color_factor,
        "matcapColor": mt.matcap_factor,
        "rimColor": mt.parametric_rim_color_factor,
        "outlineColor": mt.outline_color_factor,
    }
    if kind == "color":
        return mat.base_color_factor
    r, g, b = rgb[kind]
    return (r, g, b, 1.0)
