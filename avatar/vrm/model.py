"""The loaded avatar, independent of any renderer.

`VrmModel` is what `load_vrm` returns for VRM 1.0, VRM 0.x and plain glTF alike:
VRM 0.x names and conventions are mapped onto the VRM 1.0 ones while loading, so
the renderer, the lip sync and the idle animation only ever deal with one shape.

Conventions: vertex data is float32 (indices and joints uint32), ready to hand to
OpenGL; matrices are float64 in math order (``m[row, col]``, translation in
``m[:3, 3]``; transpose before a column-major upload); quaternions are
``(x, y, z, w)``; colours are linear RGB(A) like glTF factors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from avatar.vrm.expressions import Expression

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Vec4 = tuple[float, float, float, float]
VrmVersion = Literal["1.0", "0.x", "gltf"]

# glTF primitive modes and sampler wrap mode (the GL enums glTF reuses).
POINTS, LINES, LINE_LOOP, LINE_STRIP, TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN = range(7)
REPEAT = 10497


# -- textures ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Image:
    """Encoded image bytes (PNG/JPEG/...) left for the renderer to decode."""

    name: str | None
    mime_type: str | None
    data: bytes
    uri: str | None = None


@dataclass(frozen=True)
class Sampler:
    mag_filter: int | None = None
    min_filter: int | None = None
    wrap_s: int = REPEAT
    wrap_t: int = REPEAT


@dataclass(frozen=True)
class Texture:
    source: int | None
    sampler: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class TextureTransform:
    """KHR_texture_transform: uv' = T(offset) * R(rotation) * S(scale) * uv."""

    offset: Vec2 = (0.0, 0.0)
    rotation: float = 0.0
    scale: Vec2 = (1.0, 1.0)
    tex_coord: int | None = None


@dataclass(frozen=True)
class TextureRef:
    """A material's use of a texture. `scale` is normalTexture.scale,
    occlusionTexture.strength or MToon's shadingShiftTexture.scale where those apply."""

    index: int
    tex_coord: int = 0
    scale: float = 1.0
    transform: TextureTransform | None = None


# -- materials --------------------------------------------------------------


@dataclass(frozen=True)
class MToon:
    """VRMC_materials_mtoon parameters (VRM 0.x MToon is converted onto these)."""

    transparent_with_z_write: bool = False
    render_queue_offset: int = 0
    shade_color_factor: Vec3 = (1.0, 1.0, 1.0)
    shade_multiply_texture: TextureRef | None = None
    shading_shift_factor: float = 0.0
    shading_shift_texture: TextureRef | None = None
    shading_toony_factor: float = 0.9
    gi_equalization_factor: float = 0.9
    matcap_factor: Vec3 = (1.0, 1.0, 1.0)
    matcap_texture: TextureRef | None = None
    parametric_rim_color_factor: Vec3 = (0.0, 0.0, 0.0)
    rim_multiply_texture: TextureRef | None = None
    rim_lighting_mix_factor: float = 1.0
    parametric_rim_fresnel_power_factor: float = 5.0
    parametric_rim_lift_factor: float = 0.0
    outline_width_mode: Literal["none", "worldCoordinates", "screenCoordinates"] = "none"
    outline_width_factor: float = 0.0
    outline_width_multiply_texture: TextureRef | None = None
    outline_color_factor: Vec3 = (0.0, 0.0, 0.0)
    outline_lighting_mix_factor: float = 1.0
    uv_animation_mask_texture: TextureRef | None = None
    uv_animation_scroll_x_speed_factor: float = 0.0
    uv_animation_scroll_y_speed_factor: float = 0.0
    uv_animation_rotation_speed_factor: float = 0.0


@dataclass(frozen=True)
class Material:
    """A glTF material plus its MToon settings when the model has them."""

    name: str | None = None
    base_color_factor: Vec4 = (1.0, 1.0, 1.0, 1.0)
    base_color_texture: TextureRef | None = None
    metallic_factor: float = 1.0
    roughness_factor: float = 1.0
    metallic_roughness_texture: TextureRef | None = None
    normal_texture: TextureRef | None = None
    occlusion_texture: TextureRef | None = None
    emissive_factor: Vec3 = (0.0, 0.0, 0.0)
    emissive_texture: TextureRef | None = None
    emissive_strength: float = 1.0  # KHR_materials_emissive_strength
    alpha_mode: Literal["OPAQUE", "MASK", "BLEND"] = "OPAQUE"
    alpha_cutoff: float = 0.5
    double_sided: bool = False
    unlit: bool = False  # KHR_materials_unlit
    mtoon: MToon | None = None

    @property
    def uv_transform(self) -> TextureTransform:
        """The base colour texture's transform: what VRM texture-transform binds move."""
        ref = self.base_color_texture
        return ref.transform if ref and ref.transform else TextureTransform()


# -- geometry ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MorphTarget:
    """Per-vertex deltas of one morph target (None where the target has none)."""

    name: str | None
    positions: np.ndarray | None
    normals: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Primitive:
    """One draw call's worth of vertex data.

    positions/normals (n, 3), texcoords (n, 2) and weights (n, 4) are float32,
    joints (n, 4) and indices (m,) uint32; indices are generated when the file has
    none. `attributes` keeps any other attribute (TANGENT, TEXCOORD_1, COLOR_0...).
    Arrays may be read-only views shared with other primitives: copy to edit.
    """

    positions: np.ndarray
    indices: np.ndarray
    normals: np.ndarray | None = None
    texcoords: np.ndarray | None = None
    joints: np.ndarray | None = None
    weights: np.ndarray | None = None
    mode: int = TRIANGLES
    material: int | None = None
    targets: tuple[MorphTarget, ...] = ()
    attributes: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def vertex_count(self) -> int:
        return len(self.positions)


@dataclass(frozen=True, eq=False)
class Mesh:
    name: str | None
    primitives: tuple[Primitive, ...]
    weights: np.ndarray  # default morph weights, float32 (morph_count,)
    target_names: tuple[str | None, ...] = ()

    @property
    def morph_count(self) -> int:
        return max((len(p.targets) for p in self.primitives), default=0)

    def morph_index(self, name: str) -> int:
        """Index of the morph target called `name` (KeyError when there is none)."""
        try:
            return self.target_names.index(name)
        except ValueError:
            raise KeyError(f"mesh {self.name!r} has no morph target {name!r}") from None


# -- hierarchy --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Node:
    """A node with its rest transform; `rest_world` is its matrix in model space."""

    index: int
    name: str | None
    parent: int | None
    children: tuple[int, ...]
    translation: Vec3
    rotation: Vec4
    scale: Vec3
    rest_local: np.ndarray
    rest_world: np.ndarray
    mesh: int | None = None
    skin: int | None = None
    weights: np.ndarray | None = None  # the node's own default morph weights, if any


@dataclass(frozen=True, eq=False)
class Skin:
    name: str | None
    joints: tuple[int, ...]
    inverse_bind_matrices: np.ndarray  # float32 (len(joints), 4, 4), math order
    skeleton: int | None = None


@dataclass(frozen=True)
class Scene:
    name: str | None
    nodes: tuple[int, ...]


# -- VRM parts --------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    """Who made the model and what its licence allows.

    Field names follow VRM 1.0. VRM 0.x models fill what maps cleanly; their
    licence (`license_name`, e.g. "CC0") has no exact 1.0 counterpart, so the
    1.0-only permissions stay None there. `raw` is the file's own meta object.
    """

    name: str = ""
    version: str | None = None
    authors: tuple[str, ...] = ()
    copyright_information: str | None = None
    contact_information: str | None = None
    references: tuple[str, ...] = ()
    third_party_licenses: str | None = None
    thumbnail_image: int | None = None
    license_url: str | None = None
    license_name: str | None = None
    other_license_url: str | None = None
    avatar_permission: str | None = None
    allow_excessively_violent_usage: bool | None = None
    allow_excessively_sexual_usage: bool | None = None
    commercial_usage: str | None = None
    allow_political_or_religious_usage: bool | None = None
    allow_antisocial_or_hate_usage: bool | None = None
    credit_notation: str | None = None
    allow_redistribution: bool | None = None
    modification: str | None = None
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RangeMap:
    """Maps a gaze angle (degrees) to an eye-bone angle or an expression weight."""

    input_max_value: float = 90.0
    output_scale: float = 10.0

    def map(self, degrees: float) -> float:
        """min(|degrees|, max) / max * scale, with the spec's guard for max == 0."""
        limit = max(self.input_max_value, 0.001)
        return min(abs(degrees), limit) / limit * self.output_scale


@dataclass(frozen=True)
class LookAt:
    """How the eyes follow a target: by rotating eye bones or by expressions."""

    type: Literal["bone", "expression"] = "bone"
    offset_from_head_bone: Vec3 = (0.0, 0.06, 0.0)
    horizontal_inner: RangeMap = RangeMap()
    horizontal_outer: RangeMap = RangeMap()
    vertical_down: RangeMap = RangeMap()
    vertical_up: RangeMap = RangeMap()

    def expression_weights(self, yaw: float, pitch: float) -> dict[str, float]:
        """lookLeft/Right/Up/Down weights for a gaze (degrees; yaw > 0 is left,
        pitch > 0 is down), for models whose `type` is "expression"."""
        side = self.horizontal_outer.map(yaw)
        down = self.vertical_down.map(pitch) if pitch > 0 else 0.0
        up = self.vertical_up.map(pitch) if pitch < 0 else 0.0
        return {
            "lookLeft": side if yaw > 0 else 0.0,
            "lookRight": side if yaw < 0 else 0.0,
            "lookDown": down,
            "lookUp": up,
        }


FirstPersonFlag = Literal["auto", "both", "thirdPersonOnly", "firstPersonOnly"]


@dataclass(frozen=True)
class FirstPerson:
    """Which mesh nodes a first-person (VR) camera should hide; unlisted = "auto"."""

    annotations: dict[int, str] = field(default_factory=dict)
    first_person_bone: int | None = None
    first_person_bone_offset: Vec3 = (0.0, 0.0, 0.0)

    def flag(self, node: int) -> str:
        return self.annotations.get(node, "auto")


@dataclass(frozen=True)
class Collider:
    """A sphere, or a capsule from `offset` to `tail`, in the node's local space."""

    node: int
    shape: Literal["sphere", "capsule"]
    offset: Vec3 = (0.0, 0.0, 0.0)
    radius: float = 0.0
    tail: Vec3 | None = None


@dataclass(frozen=True)
class ColliderGroup:
    name: str | None
    colliders: tuple[int, ...]


@dataclass(frozen=True)
class SpringJoint:
    """One joint of a chain; the last joint's settings are unused (it is only a tail)."""

    node: int
    hit_radius: float = 0.0
    stiffness: float = 1.0
    gravity_power: float = 0.0
    gravity_dir: Vec3 = (0.0, -1.0, 0.0)
    drag_force: float = 0.5


@dataclass(frozen=True)
class Spring:
    """A chain of joints, each the ancestor of the next.

    `tail_length` is 0 for VRM 1.0. Chains converted from VRM 0.x have 0.07: there
    the last joint sways too, towards a virtual tail 7 cm beyond it (continuing
    the parent-to-joint direction), which the simulation has to add.
    """

    name: str | None
    joints: tuple[SpringJoint, ...]
    collider_groups: tuple[int, ...] = ()
    center: int | None = None
    tail_length: float = 0.0


@dataclass(frozen=True)
class SpringBones:
    colliders: tuple[Collider, ...] = ()
    collider_groups: tuple[ColliderGroup, ...] = ()
    springs: tuple[Spring, ...] = ()


# -- the model --------------------------------------------------------------


@dataclass(eq=False)
class VrmModel:
    """A loaded avatar. Indices (node, mesh, material, ...) are the file's glTF indices.

    `forward_z` is +1 when the model faces +Z (VRM 1.0, and glTF's own convention)
    and -1 when it faces -Z (VRM 0.x); `notes` lists what the loader noticed but
    could not represent.
    """

    path: Path
    version: VrmVersion
    spec_version: str | None
    meta: Meta
    nodes: list[Node]
    scenes: list[Scene]
    scene: int | None
    meshes: list[Mesh]
    materials: list[Material]
    textures: list[Texture]
    images: list[Image]
    samplers: list[Sampler]
    skins: list[Skin]
    humanoid: dict[str, int] = field(default_factory=dict)
    expressions: dict[str, Expression] = field(default_factory=dict)
    look_at: LookAt | None = None
    first_person: FirstPerson = field(default_factory=FirstPerson)
    spring_bones: SpringBones = field(default_factory=SpringBones)
    forward_z: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def root_nodes(self) -> tuple[int, ...]:
        """The nodes to draw: the default scene's roots (or every parentless node)."""
        if self.scene is not None and self.scene < len(self.scenes):
            return self.scenes[self.scene].nodes
        return tuple(n.index for n in self.nodes if n.parent is None)

    def rest_world_matrices(self) -> np.ndarray:
        """All rest-pose world matrices as float32 (len(nodes), 4, 4), math order."""
        if not self.nodes:
            return np.zeros((0, 4, 4), dtype=np.float32)
        return np.stack([n.rest_world for n in self.nodes]).astype(np.float32)

    def nodes_with_mesh(self, mesh: int) -> list[int]:
        return [n.index for n in self.nodes if n.mesh == mesh]

    def node_named(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node named {name!r}")

    def bone(self, name: str) -> Node:
        """The node of a humanoid bone (VRM 1.0 name, e.g. "head", "leftEye")."""
        return self.nodes[self.humanoid[name]]
