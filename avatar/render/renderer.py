"""`AvatarRenderer`: draws a `VrmModel` into whatever framebuffer is bound.

It needs only a current OpenGL 3.3 core context, so the overlay's QOpenGLWidget,
an off-screen Qt surface and a headless EGL context all drive it the same way.
The caller clears (colour to transparent, depth) before `draw`; the renderer
leaves alpha 0 wherever it draws nothing and 1 on opaque surfaces, draws opaque,
then alpha-tested, then blended primitives (far to near, no depth writes), and
puts back the GL state a QPainter drawing after it relies on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from OpenGL import GL

from avatar.render import shaders as sh
from avatar.render.camera import ARM_ROOTS, PortraitCamera, follow_share, frame_model
from avatar.render.gpu import DrawItem, GpuModel
from avatar.render.pose import Pose, Poser, rest_vertices
from avatar.vrm.model import Material, MToon, VrmModel

_ALPHA = {"OPAQUE": sh.ALPHA_OPAQUE, "MASK": sh.ALPHA_MASK, "BLEND": sh.ALPHA_BLEND}
_OUTLINE = {"none": sh.OUTLINE_NONE, "worldCoordinates": sh.OUTLINE_WORLD,
            "screenCoordinates": sh.OUTLINE_SCREEN}
# Plain glTF (non-MToon, lit) materials: a soft two-tone ramp so they sit with toon ones.
_PLAIN_SHADE, _PLAIN_TOONY = 0.55, 0.4


@dataclass(frozen=True)
class Lighting:
    """One directional light (stage space, pointing towards the light) plus ambient.

    Light and ambient add up to 1, so a fully lit MToon surface shows exactly the
    colour its author picked.
    """

    direction: tuple[float, float, float] = (-0.25, 0.45, 1.0)
    color: tuple[float, float, float] = (0.78, 0.78, 0.78)
    ambient: tuple[float, float, float] = (0.22, 0.22, 0.22)


@dataclass
class FrameStats:
    """What the last `draw` did (for the benchmark and tests)."""

    draw_calls: int = 0
    morph_uploads: int = 0
    joint_uploads: int = 0
    pose_ms: float = 0.0  # bones, expressions, joint matrices
    upload_ms: float = 0.0  # morph blending and buffer uploads
    cpu_ms: float = 0.0  # the whole call (GL work may still be queued when it returns)


@dataclass
class _MaterialState:
    """A material's textures and shader features, resolved once."""

    index: int | None
    material: Material
    alpha_mode: int
    features: frozenset[str]  # the fragment shader #defines it needs
    textures: dict[int, int] = field(default_factory=dict)  # unit -> GL texture
    queue: int = 0
    z_write: bool = True

    @property
    def outline_features(self) -> frozenset[str]:
        keep = {"ALPHA_TEST", "BLEND", "BASE_TEX", "DOUBLE_SIDED", "NORMAL_TEX", "UV_ANIM",
                "UV_MASK_TEX"}
        return frozenset(self.features & keep) | {"OUTLINE"}


def _near_first(items: list[DrawItem], depth: dict[int, float]) -> list[DrawItem]:
    """Opaque draw order: materials by their nearest primitive, near to far inside
    each. Hidden pixels then mostly fail the depth test before they are shaded
    (what a software rasteriser spends its time on) without switching materials
    once per primitive."""
    by_material: dict[int | None, list[DrawItem]] = {}
    for item in sorted(items, key=lambda i: -depth[id(i)]):
        by_material.setdefault(item.material, []).append(item)
    return [item for group in by_material.values() for item in group]


def _matrix3(location: int, matrix: np.ndarray) -> None:
    GL.glUniformMatrix3fv(location, 1, GL.GL_TRUE, matrix)


class _GlState:
    """What this frame has bound already, so repeated binds are skipped.

    Reset at the start of every frame: between frames other code (Qt's painter)
    may change any of it. Uniform values live in each program, so what was sent
    to a program is remembered per program handle.
    """

    def __init__(self) -> None:
        self.program: sh.Program | None = None
        self.textures: dict[int, tuple[int, int]] = {}
        self.culling: bool | None = None
        self.mirrored: bool | None = None
        self.depth_mask: bool | None = None
        self.material: dict[int, tuple] = {}  # program -> (frame, material, outline)
        self.node: dict[int, int] = {}  # program -> node whose matrices it holds
        self.skinned: dict[int, bool] = {}

    def use(self, prog: sh.Program) -> None:
        if self.program is not prog:
            GL.glUseProgram(prog.handle)
            self.program = prog

    def texture(self, unit: int, target: int, handle: int) -> None:
        if self.textures.get(unit) != (target, handle):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(target, handle)
            self.textures[unit] = (target, handle)

    def cull(self, on: bool) -> None:
        if self.culling != on:
            (GL.glEnable if on else GL.glDisable)(GL.GL_CULL_FACE)
            self.culling = on

    def front_face(self, mirrored: bool) -> None:
        if self.mirrored != mirrored:
            GL.glFrontFace(GL.GL_CW if mirrored else GL.GL_CCW)
            self.mirrored = mirrored

    def depth_write(self, on: bool) -> None:
        if self.depth_mask != on:
            GL.glDepthMask(GL.GL_TRUE if on else GL.GL_FALSE)
            self.depth_mask = on


def _uv_matrix(offset: Sequence[float], rotation: float, scale: Sequence[float]) -> np.ndarray:
    """KHR_texture_transform as a 3x3 (math order): translate * rotate * scale."""
    c, s = math.cos(rotation), math.sin(rotation)
    t = np.array([[1.0, 0.0, offset[0]], [0.0, 1.0, offset[1]], [0.0, 0.0, 1.0]])
    r = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    return t @ r @ np.diag([scale[0], scale[1], 1.0])


def drawn_nodes(model: VrmModel) -> list[int]:
    """Nodes with meshes reachable from the scene, minus first-person-only ones."""
    out: list[int] = []
    stack = list(reversed(model.root_nodes))
    while stack:
        i = stack.pop()
        node = model.nodes[i]
        if node.mesh is not None and model.first_person.flag(i) != "firstPersonOnly":
            out.append(i)
        stack.extend(reversed(node.children))
    return out


class AvatarRenderer:
    """Draws one avatar; GL objects are made on the first `draw` and freed by `close`."""

    def __init__(self, model: VrmModel, *, lighting: Lighting | None = None,
                 camera: PortraitCamera | None = None) -> None:
        self.model = model
        self.lighting = lighting or Lighting()
        self.poser = Poser(model)
        self.nodes = drawn_nodes(model)
        rest = rest_vertices(model, self.poser.rest_world)
        self._rest_centres = {k: (v.min(axis=0) + v.max(axis=0)) / 2 for k, v in rest.items()}
        if camera is None:
            shown = set(self.nodes)
            keys = [k for k in rest if k[0] in shown]
            positions = np.concatenate([rest[k] for k in keys]) if keys else np.zeros((0, 3))
            framing = frame_model(model, self.poser.rest_world, positions,
                                  follow_share(model, rest, keys, ("head",)),
                                  follow_share(model, rest, keys, ARM_ROOTS))
            camera = PortraitCamera(framing)
        self.camera = camera
        self.stats = FrameStats()
        self._gpu: GpuModel | None = None
        self._programs: dict[frozenset[str], sh.Program] = {}  # by shader features
        self._bound: dict[int, int] = {}  # program handle -> frame it last got frame uniforms
        self._frame_no = 0
        self._frame_values: tuple = ()
        self._gl = _GlState()
        self._rest_matrices: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}
        self._frame_matrices: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}
        self._frame_materials: dict[tuple, list[tuple]] = {}
        self._materials: dict[int | None, _MaterialState] = {}
        self._joints_at_rest: set[int] = set()  # skins whose buffer holds the rest pose
        self._t0 = time.monotonic()
        self._closed = False

    # -- set-up and tear-down ------------------------------------------------------------

    def _setup(self) -> None:
        self._gpu = GpuModel.upload(self.model, self.nodes)
        used = {item.material for item in self._gpu.items}
        self._materials = {m: self._material_state(m) for m in used}

    def _material_state(self, index: int | None) -> _MaterialState:
        mat = self.model.materials[index] if index is not None else Material()
        tex = self._gpu.textures  # type: ignore[union-attr]
        assert tex is not None
        mt = mat.mtoon

        def ref(r: object, srgb: bool) -> int:
            return tex.get(getattr(r, "index", None), srgb)

        units = {
            sh.UNIT_BASE: ref(mat.base_color_texture, True),
            sh.UNIT_EMISSIVE: ref(mat.emissive_texture, True),
            sh.UNIT_NORMAL: ref(mat.normal_texture, False),
        }
        if mt is not None:
            units.update({
                sh.UNIT_SHADE: ref(mt.shade_multiply_texture, True),
                sh.UNIT_SHIFT: ref(mt.shading_shift_texture, False),
                sh.UNIT_RIM: ref(mt.rim_multiply_texture, True),
                sh.UNIT_MATCAP: ref(mt.matcap_texture, True),
                sh.UNIT_OUTLINE_WIDTH: ref(mt.outline_width_multiply_texture, False),
                sh.UNIT_UV_MASK: ref(mt.uv_animation_mask_texture, False),
            })
        for unit in (sh.UNIT_SHADE, sh.UNIT_SHIFT, sh.UNIT_RIM, sh.UNIT_MATCAP,
                     sh.UNIT_OUTLINE_WIDTH, sh.UNIT_UV_MASK):
            units.setdefault(unit, tex.white)
        features = {"ALPHA_TEST"} if mat.alpha_mode == "MASK" else set()
        if mat.alpha_mode == "BLEND":
            features.add("BLEND")
        bound = {b.type for e in self.model.expressions.values()
                 for b in e.material_color_binds if b.material == index}
        if mat.unlit:
            features.add("UNLIT")
        elif mt is None:
            features.add("PLAIN")
        if mat.double_sided:
            features.add("DOUBLE_SIDED")
        has = {unit: units[unit] != tex.white for unit in units}
        for unit, name in ((sh.UNIT_BASE, "BASE_TEX"), (sh.UNIT_SHADE, "SHADE_TEX"),
                           (sh.UNIT_SHIFT, "SHIFT_TEX"), (sh.UNIT_EMISSIVE, "EMISSIVE_TEX"),
                           (sh.UNIT_RIM, "RIM_TEX"), (sh.UNIT_MATCAP, "MATCAP"),
                           (sh.UNIT_NORMAL, "NORMAL_TEX"), (sh.UNIT_UV_MASK, "UV_MASK_TEX")):
            if has[unit]:
                features.add(name)
        if any(mat.emissive_factor) or has[sh.UNIT_EMISSIVE] or "emissionColor" in bound:
            features.add("EMISSIVE")
        if mt is not None:
            if any(mt.parametric_rim_color_factor) or "rimColor" in bound or has[sh.UNIT_MATCAP]:
                features.add("RIM")
            if (mt.uv_animation_scroll_x_speed_factor or mt.uv_animation_scroll_y_speed_factor
                    or mt.uv_animation_rotation_speed_factor):
                features.add("UV_ANIM")
        return _MaterialState(
            index=index, material=mat, alpha_mode=_ALPHA.get(mat.alpha_mode, sh.ALPHA_OPAQUE),
            features=frozenset(features), textures=units,
            queue=mt.render_queue_offset if mt else 0,
            z_write=mt.transparent_with_z_write if mt else False,
        )

    def _program(self, features: frozenset[str]) -> sh.Program:
        """Use the program for these features (compiled on first use) with this
        frame's camera and light set."""
        prog = self._programs.get(features)
        if prog is None:
            prog = self._programs[features] = sh.build_program(features)
        self._gl.use(prog)
        if self._bound.get(prog.handle) != self._frame_no:
            self._frame_uniforms(prog, *self._frame_values)
            self._bound[prog.handle] = self._frame_no
        return prog

    def close(self) -> None:
        """Free every GL object (the context they were made in must be current)."""
        if self._gpu is not None:
            self._gpu.delete()
            self._gpu = None
        for program in self._programs.values():
            program.delete()
        self._programs = {}
        self._closed = True

    @property
    def gpu(self) -> GpuModel | None:
        """The uploaded model (None before the first `draw` and after `close`)."""
        return self._gpu

    # -- a frame ---------------------------------------------------------------------------

    def draw(
        self,
        width: int,
        height: int,
        *,
        expressions: Mapping[str, float],
        bone_rotations: Mapping[str, Sequence[float]] | None = None,
        look_at: tuple[float, float] | None = None,
        time_s: float | None = None,
        dt: float | None = None,
    ) -> None:
        """Draw one frame into the bound framebuffer's (0, 0, width, height).

        `bone_rotations` are (x, y, z, w) per humanoid bone, normalized (see
        `avatar.render.pose`); `look_at` is (yaw, pitch) in degrees; `time_s` drives
        MToon UV animation (default: seconds since this renderer was made); `dt`,
        the seconds since the previous frame, swings the spring bones (None holds
        them still, for repeatable pictures).
        """
        if self._closed:
            raise RuntimeError("AvatarRenderer.draw after close()")
        if self._gpu is None:
            self._setup()
        started = time.perf_counter()
        gpu = self._gpu
        assert gpu is not None
        stats = FrameStats()
        pose = self.poser.pose(expressions, bone_rotations, look_at, dt=dt)
        posed = time.perf_counter()
        for skin, matrices in pose.joints.items():
            at_rest = not pose.changed
            if skin in gpu.joint_buffers and not (at_rest and skin in self._joints_at_rest):
                gpu.upload_joints(skin, matrices)
                stats.joint_uploads += 1
                (self._joints_at_rest.add if at_rest else self._joints_at_rest.discard)(skin)
        for item in gpu.items:
            if item.update_morphs(pose.morph_weights.get(item.node)):
                stats.morph_uploads += 1
        uploaded = time.perf_counter()
        stats.pose_ms = (posed - started) * 1000
        stats.upload_ms = (uploaded - posed) * 1000
        view, proj, eye = self.camera.matrices(width, height)

        GL.glViewport(0, 0, width, height)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LEQUAL)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glColorMask(GL.GL_TRUE, GL.GL_TRUE, GL.GL_TRUE, GL.GL_TRUE)
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glDisable(GL.GL_STENCIL_TEST)
        GL.glCullFace(GL.GL_BACK)
        GL.glFrontFace(GL.GL_CCW)
        self._frame_no += 1
        self._frame_values = (view, proj, eye, width / max(height, 1))
        self._gl = _GlState()
        self._frame_matrices = {}
        self._frame_materials: dict[tuple, list[tuple]] = {}
        now = time.monotonic() - self._t0 if time_s is None else time_s

        groups: dict[int, list[DrawItem]] = {
            sh.ALPHA_OPAQUE: [], sh.ALPHA_MASK: [], sh.ALPHA_BLEND: []}
        for item in gpu.items:
            groups[self._materials[item.material].alpha_mode].append(item)
        depth = {id(i): self._view_depth(i, pose, view) for i in gpu.items}
        for mode in (sh.ALPHA_OPAQUE, sh.ALPHA_MASK):
            stats.draw_calls += self._draw_items(_near_first(groups[mode], depth), pose, now)
        outlined = [i for i in groups[sh.ALPHA_OPAQUE] + groups[sh.ALPHA_MASK]
                    if self._has_outline(self._materials[i.material].material)]
        if outlined:
            GL.glCullFace(GL.GL_FRONT)
            stats.draw_calls += self._draw_items(outlined, pose, now, outline=True)
            GL.glCullFace(GL.GL_BACK)
        if groups[sh.ALPHA_BLEND]:
            GL.glEnable(GL.GL_BLEND)
            GL.glBlendFuncSeparate(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA,
                                   GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
            items = sorted(groups[sh.ALPHA_BLEND],
                           key=lambda i: (self._materials[i.material].queue, depth[id(i)]))
            stats.draw_calls += self._draw_items(items, pose, now, blend=True)
        self._restore()
        stats.cpu_ms = (time.perf_counter() - started) * 1000
        self.stats = stats

    # -- helpers ---------------------------------------------------------------------------

    def _frame_uniforms(self, prog: sh.Program, view: np.ndarray, proj: np.ndarray,
                        eye: np.ndarray, aspect: float) -> None:
        lt = self.lighting
        direction = np.asarray(lt.direction, dtype=np.float64)
        direction /= np.linalg.norm(direction)
        GL.glUniformMatrix4fv(prog.loc("u_view"), 1, GL.GL_TRUE, view.astype(np.float32))
        GL.glUniformMatrix4fv(prog.loc("u_proj"), 1, GL.GL_TRUE, proj.astype(np.float32))
        GL.glUniform3f(prog.loc("u_light_dir"), *direction)
        GL.glUniform3f(prog.loc("u_light_color"), *lt.color)
        GL.glUniform3f(prog.loc("u_ambient"), *lt.ambient)
        GL.glUniform3f(prog.loc("u_camera_pos"), *eye)
        GL.glUniform1f(prog.loc("u_aspect"), aspect)

    def _view_depth(self, item: DrawItem, pose: Pose, view: np.ndarray) -> float:
        """View-space z of the item's centre (more negative is further away)."""
        if item.skin is not None or item.node not in pose.changed:
            centre = self._rest_centres.get((item.node, item.primitive))
            if centre is None:
                return 0.0
        else:
            world = pose.world[item.node]
            centre = world[:3, :3] @ item.buffers.centre + world[:3, 3]
        return float(view[2, :3] @ centre + view[2, 3])

    @staticmethod
    def _has_outline(mat: Material) -> bool:
        mt = mat.mtoon
        return bool(mt and mt.outline_width_mode != "none" and mt.outline_width_factor > 0)

    def _draw_items(self, items: list[DrawItem], pose: Pose, now: float, *,
                    outline: bool = False, blend: bool = False) -> int:
        gl = self._gl
        current: object = ()
        calls = 0
        for item in items:
            state = self._materials[item.material]
            if item.material != current or gl.program is None:
                current = item.material
                prog = self._program(state.outline_features if outline else state.features)
                key = (self._frame_no, item.material, outline)
                if gl.material.get(prog.handle) != key:  # uniforms live in the program
                    values = self._frame_materials.get(key)
                    if values is None:
                        values = self._material_uniforms(state, pose, now, outline)
                        self._frame_materials[key] = values
                    for setter, name, args in values:
                        location = prog.loc(name)
                        if location >= 0:
                            setter(location, *args)
                    gl.material[prog.handle] = key
                for unit, handle in state.textures.items():
                    gl.texture(unit, GL.GL_TEXTURE_2D, handle)
                gl.cull(not (state.material.double_sided and not outline))
                if blend:
                    gl.depth_write(state.z_write)
            self._bind_node(item, pose)
            b = item.buffers
            GL.glBindVertexArray(item.vao)
            GL.glDrawElements(b.mode, b.index_count, GL.GL_UNSIGNED_INT, None)
            calls += 1
        gl.depth_write(True)
        return calls

    def _bind_node(self, item: DrawItem, pose: Pose) -> None:
        gl, prog = self._gl, self._gl.program
        assert prog is not None
        skinned = item.skin is not None
        if gl.skinned.get(prog.handle) != skinned:
            GL.glUniform1i(prog.loc("u_skinned"), int(skinned))
            gl.skinned[prog.handle] = skinned
        if skinned:
            _, texture = self._gpu.joint_buffers[item.skin]  # type: ignore[union-attr,index]
            gl.texture(sh.UNIT_JOINTS, GL.GL_TEXTURE_BUFFER, texture)
            gl.front_face(False)
            return
        model, normal, mirrored = self._node_matrices(item.node, pose)
        if gl.node.get(prog.handle) != item.node:
            GL.glUniformMatrix4fv(prog.loc("u_model"), 1, GL.GL_TRUE, model)
            GL.glUniformMatrix3fv(prog.loc("u_normal_matrix"), 1, GL.GL_TRUE, normal)
            gl.node[prog.handle] = item.node
        gl.front_face(mirrored)  # mirrored nodes turn their faces inside out

    def _node_matrices(self, node: int, pose: Pose) -> tuple[np.ndarray, np.ndarray, bool]:
        """(model, normal matrix, mirrored) as float32; cached at rest, else per frame."""
        cache = self._rest_matrices if node not in pose.changed else self._frame_matrices
        found = cache.get(node)
        if found is None:
            world = pose.world[node]
            det = float(np.linalg.det(world[:3, :3]))
            normal = np.linalg.inv(world[:3, :3]).T if abs(det) > 1e-12 else np.eye(3)
            found = cache[node] = (world.astype(np.float32), normal.astype(np.float32), det < 0)
        return found

    def _material_uniforms(self, state: _MaterialState, pose: Pose, now: float,
                           outline: bool) -> list[tuple]:
        """(glUniform function, name, values) for one material this frame."""
        mat, index = state.material, state.index
        colors = pose.mix.material_colors

        def color(kind: str, default: Sequence[float], n: int = 3) -> list[float]:
            value = colors.get((index, kind)) if index is not None else None
            return [float(c) for c in (value if value is not None else default)[:n]]

        base = mat.uv_transform
        scale, offset = base.scale, base.offset
        if index is not None and index in pose.mix.texture_transforms:
            sc, off = pose.mix.texture_transforms[index]
            scale, offset = (float(sc[0]), float(sc[1])), (float(off[0]), float(off[1]))
        uv = _uv_matrix(offset, base.rotation, scale).astype(np.float32)
        mt = mat.mtoon
        m = mt or MToon()
        shift = m.shading_shift_texture
        if mt is not None:
            shade, shading_shift, toony = color("shadeColor", m.shade_color_factor), \
                m.shading_shift_factor, m.shading_toony_factor
        else:
            shade, shading_shift, toony = [_PLAIN_SHADE] * 3, 0.0, _PLAIN_TOONY
        u1f, u1i, u3f, u4f = GL.glUniform1f, GL.glUniform1i, GL.glUniform3f, GL.glUniform4f
        return [
            (_matrix3, "u_uv_transform", (uv,)),
            (u4f, "u_base_color", color("color", mat.base_color_factor, 4)),
            (u3f, "u_emissive",
             [c * mat.emissive_strength for c in color("emissionColor", mat.emissive_factor)]),
            (u1f, "u_alpha_cutoff", (mat.alpha_cutoff,)),
            (u1f, "u_normal_scale", (mat.normal_texture.scale if mat.normal_texture else 1.0,)),
            (u3f, "u_shade_color", shade),
            (u1f, "u_shading_shift", (shading_shift,)),
            (u1f, "u_toony", (toony,)),
            (u1f, "u_shift_tex_scale", (shift.scale if shift else 0.0,)),
            (u3f, "u_rim_color", color("rimColor", m.parametric_rim_color_factor)),
            (u1f, "u_rim_mix", (m.rim_lighting_mix_factor,)),
            (u1f, "u_rim_power", (m.parametric_rim_fresnel_power_factor,)),
            (u1f, "u_rim_lift", (m.parametric_rim_lift_factor,)),
            (u3f, "u_matcap_color", color("matcapColor", m.matcap_factor)),
            (u3f, "u_uv_anim", ((m.uv_animation_scroll_x_speed_factor * now) % 1.0,
                                (m.uv_animation_scroll_y_speed_factor * now) % 1.0,
                                (m.uv_animation_rotation_speed_factor * now) % (2 * math.pi))),
            (u1i, "u_outline_mode", (_OUTLINE[m.outline_width_mode] if outline else 0,)),
            (u1f, "u_outline_width", (m.outline_width_factor if outline else 0.0,)),
            (u3f, "u_outline_color", color("outlineColor", m.outline_color_factor)),
            (u1f, "u_outline_lighting_mix", (m.outline_lighting_mix_factor,)),
        ]

    @staticmethod
    def _restore() -> None:
        """Leave the state Qt's paint engine (and most callers) assume."""
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        GL.glUseProgram(0)
        GL.glActiveTexture(GL.GL_TEXTURE0 + sh.UNIT_JOINTS)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, 0)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glFrontFace(GL.GL_CCW)
