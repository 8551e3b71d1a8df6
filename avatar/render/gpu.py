"""GPU copies of a model's geometry and textures, made once and freed together.

Each mesh primitive gets one vertex buffer for its rest positions and normals,
one for the attributes that never change (UVs, joints, weights) and an index
buffer. Every (node, primitive) pair that is drawn gets its own vertex array; if
its mesh has morph targets it also gets its own positions/normals buffer, which
the renderer rewrites (with `glBufferSubData`) only on frames where that node's
morph weights changed. Blending a few targets in numpy and uploading a few
hundred vertices costs far less than the per-vertex work of doing it in a shader
under a software rasteriser, and it keeps the shader free of target limits.
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass, field

import numpy as np
from OpenGL import GL

from avatar.render.shaders import ATTR_JOINTS, ATTR_NORMAL, ATTR_POSITION, ATTR_UV, ATTR_WEIGHTS
from avatar.vrm.model import TRIANGLES, Primitive, VrmModel

log = logging.getLogger(__name__)

_MIPMAP_FILTERS = {
    GL.GL_NEAREST_MIPMAP_NEAREST, GL.GL_LINEAR_MIPMAP_NEAREST,
    GL.GL_NEAREST_MIPMAP_LINEAR, GL.GL_LINEAR_MIPMAP_LINEAR,
}


def _offset(nbytes: int) -> ctypes.c_void_p:
    return ctypes.c_void_p(nbytes)


def flat_normals(positions: np.ndarray) -> np.ndarray:
    """Per-face normals for an unindexed triangle list (what glTF asks for when a
    primitive has no NORMAL)."""
    tri = positions.reshape(-1, 3, 3)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.where(length > 0, n / np.where(length > 0, length, 1.0), (0.0, 0.0, 1.0))
    return np.repeat(n, 3, axis=0).astype(np.float32)


@dataclass(eq=False)
class MorphData:
    """Rest geometry and stacked target deltas, (targets, vertices * 3) each."""

    base_positions: np.ndarray
    base_normals: np.ndarray
    position_deltas: np.ndarray
    normal_deltas: np.ndarray | None
    flat: bool  # normals are recomputed per face after blending

    def blend(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and normals for these weights (only non-zero targets are touched)."""
        count = min(len(weights), len(self.position_deltas))
        w = np.asarray(weights[:count], dtype=np.float32)
        active = np.flatnonzero(w)
        pos = self.base_positions.reshape(-1)
        nrm = self.base_normals.reshape(-1)
        if active.size:
            pos = pos + w[active] @ self.position_deltas[active]
            if self.normal_deltas is not None and not self.flat:
                nrm = nrm + w[active] @ self.normal_deltas[active]
        pos = pos.reshape(-1, 3)
        if self.flat:
            nrm = flat_normals(pos) if active.size else self.base_normals
        return pos.astype(np.float32, copy=False), nrm.reshape(-1, 3).astype(np.float32, copy=False)


@dataclass(eq=False)
class PrimitiveBuffers:
    """One mesh primitive on the GPU, shared by every node that draws the mesh."""

    geometry_vbo: int
    static_vbo: int
    ebo: int
    index_count: int
    vertex_count: int
    mode: int
    material: int | None
    has_skin_attributes: bool
    centre: np.ndarray  # rest-pose centre in mesh space, for sorting transparent draws
    morph: MorphData | None = None


@dataclass(eq=False)
class DrawItem:
    """A primitive drawn by a node: its vertex array and, with morphs, its own geometry."""

    node: int
    mesh: int
    primitive: int
    buffers: PrimitiveBuffers
    vao: int
    skin: int | None
    dynamic_vbo: int = 0
    uploaded_weights: np.ndarray | None = None  # what dynamic_vbo holds; None means rest

    @property
    def material(self) -> int | None:
        return self.buffers.material

    def update_morphs(self, weights: np.ndarray | None) -> bool:
        """Rewrite this node's geometry if its weights changed; True when it uploaded."""
        morph = self.buffers.morph
        if morph is None or not self.dynamic_vbo:
            return False
        at_rest = weights is None or not np.any(weights)
        if at_rest and self.uploaded_weights is None:
            return False
        if not at_rest and self.uploaded_weights is not None and np.array_equal(
            self.uploaded_weights, weights
        ):
            return False
        if at_rest:
            pos, nrm = morph.base_positions, morph.base_normals
            self.uploaded_weights = None
        else:
            pos, nrm = morph.blend(weights)  # type: ignore[arg-type]
            self.uploaded_weights = np.array(weights, dtype=np.float32, copy=True)
        data = np.concatenate([pos.reshape(-1), nrm.reshape(-1)]).astype(np.float32)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.dynamic_vbo)
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, data.nbytes, data)
        return True


def _prepare(prim: Primitive) -> dict[str, np.ndarray | None]:
    """The primitive's arrays, unindexed with flat normals when it has no NORMAL."""
    pos = np.ascontiguousarray(prim.positions, dtype=np.float32)
    n = len(pos)
    uv = prim.texcoords if prim.texcoords is not None else np.zeros((n, 2), np.float32)
    joints, weights = prim.joints, prim.weights
    indices = prim.indices
    targets_pos = [t.positions for t in prim.targets]
    targets_nrm = [t.normals for t in prim.targets]
    flat = prim.normals is None and prim.mode == TRIANGLES and len(indices) >= 3
    if flat:
        idx = indices[: len(indices) - len(indices) % 3]
        pos, uv = pos[idx], uv[idx]
        joints = joints[idx] if joints is not None else None
        weights = weights[idx] if weights is not None else None
        targets_pos = [t[idx] if t is not None else None for t in targets_pos]
        targets_nrm = [None for _ in targets_nrm]
        indices = np.arange(len(idx), dtype=np.uint32)
        normals = flat_normals(pos)
    elif prim.normals is None:
        normals = np.tile(np.array([0.0, 0.0, 1.0], np.float32), (n, 1))
    else:
        normals = prim.normals
    return {
        "positions": np.ascontiguousarray(pos, np.float32),
        "normals": np.ascontiguousarray(normals, np.float32),
        "uv": np.ascontiguousarray(uv, np.float32),
        "joints": None if joints is None else np.ascontiguousarray(joints, np.uint32),
        "weights": None if weights is None else np.ascontiguousarray(weights, np.float32),
        "indices": np.ascontiguousarray(indices, np.uint32),
        "targets_pos": targets_pos,  # type: ignore[dict-item]
        "targets_nrm": targets_nrm,  # type: ignore[dict-item]
        "flat": np.array(flat),
    }


def _morph_data(arrays: dict, n: int) -> MorphData | None:
    targets_pos, targets_nrm = arrays["targets_pos"], arrays["targets_nrm"]
    if not targets_pos:
        return None
    zeros = np.zeros(n * 3, np.float32)
    pos = np.stack([zeros if t is None else np.asarray(t, np.float32).reshape(-1)
                    for t in targets_pos])
    nrm = None
    if any(t is not None for t in targets_nrm):
        nrm = np.stack([zeros if t is None else np.asarray(t, np.float32).reshape(-1)
                        for t in targets_nrm])
    return MorphData(arrays["positions"], arrays["normals"], pos, nrm, bool(arrays["flat"]))


def _buffer(target: int, data: np.ndarray, usage: int = GL.GL_STATIC_DRAW) -> int:
    handle = int(GL.glGenBuffers(1))
    GL.glBindBuffer(target, handle)
    GL.glBufferData(target, data.nbytes, data if data.nbytes else None, usage)
    return handle


@dataclass
class GpuModel:
    """Every GL object made for one model; `delete()` frees them all."""

    model: VrmModel
    primitives: dict[tuple[int, int], PrimitiveBuffers] = field(default_factory=dict)
    items: list[DrawItem] = field(default_factory=list)
    textures: TextureCache | None = None
    # skin -> (buffer, buffer texture) holding its joint matrices
    joint_buffers: dict[int, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def upload(cls, model: VrmModel, nodes: list[int]) -> GpuModel:
        """Upload the meshes of `nodes` (the drawn ones, in draw order)."""
        gpu = cls(model)
        gpu.textures = TextureCache(model)
        for node_index in nodes:
            node = model.nodes[node_index]
            if node.mesh is None:
                continue
            for p, prim in enumerate(model.meshes[node.mesh].primitives):
                if len(prim.indices) == 0:
                    continue
                key = (node.mesh, p)
                if key not in gpu.primitives:
                    gpu.primitives[key] = gpu._upload_primitive(prim)
                gpu.items.append(gpu._draw_item(node_index, node.mesh, p, node.skin))
        for skin in {i.skin for i in gpu.items if i.skin is not None}:
            buffer = int(GL.glGenBuffers(1))
            texture = int(GL.glGenTextures(1))
            GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, buffer)
            size = max(1, len(model.skins[skin].joints)) * 64
            GL.glBufferData(GL.GL_TEXTURE_BUFFER, size, None, GL.GL_DYNAMIC_DRAW)
            GL.glBindTexture(GL.GL_TEXTURE_BUFFER, texture)
            GL.glTexBuffer(GL.GL_TEXTURE_BUFFER, GL.GL_RGBA32F, buffer)
            GL.glBindTexture(GL.GL_TEXTURE_BUFFER, 0)
            GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, 0)
            gpu.joint_buffers[skin] = (buffer, texture)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        return gpu

    def _upload_primitive(self, prim: Primitive) -> PrimitiveBuffers:
        a = _prepare(prim)
        n = len(a["positions"])
        geometry = np.concatenate([a["positions"].reshape(-1), a["normals"].reshape(-1)])
        skin_attrs = a["joints"] is not None and a["weights"] is not None
        parts = [a["uv"].reshape(-1).view(np.uint8)]
        if skin_attrs:
            parts += [a["joints"].reshape(-1).view(np.uint8),
                      a["weights"].reshape(-1).view(np.uint8)]
        static = np.concatenate(parts)
        return PrimitiveBuffers(
            geometry_vbo=_buffer(GL.GL_ARRAY_BUFFER, geometry),
            static_vbo=_buffer(GL.GL_ARRAY_BUFFER, static),
            ebo=_buffer(GL.GL_ELEMENT_ARRAY_BUFFER, a["indices"]),
            index_count=len(a["indices"]),
            vertex_count=n,
            mode=prim.mode,
            material=prim.material,
            has_skin_attributes=skin_attrs,
            centre=(a["positions"].min(axis=0) + a["positions"].max(axis=0)) / 2
            if n else np.zeros(3),
            morph=_morph_data(a, n),
        )

    def _draw_item(self, node: int, mesh: int, p: int, skin: int | None) -> DrawItem:
        buffers = self.primitives[(mesh, p)]
        dynamic = 0
        geometry = buffers.geometry_vbo
        if buffers.morph is not None:
            m = buffers.morph
            rest = np.concatenate([m.base_positions.reshape(-1), m.base_normals.reshape(-1)])
            dynamic = geometry = _buffer(GL.GL_ARRAY_BUFFER, rest, GL.GL_DYNAMIC_DRAW)
        n = buffers.vertex_count
        vao = int(GL.glGenVertexArrays(1))
        GL.glBindVertexArray(vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, geometry)
        GL.glEnableVertexAttribArray(ATTR_POSITION)
        GL.glVertexAttribPointer(ATTR_POSITION, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, _offset(0))
        GL.glEnableVertexAttribArray(ATTR_NORMAL)
        GL.glVertexAttribPointer(ATTR_NORMAL, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, _offset(n * 12))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, buffers.static_vbo)
        GL.glEnableVertexAttribArray(ATTR_UV)
        GL.glVertexAttribPointer(ATTR_UV, 2, GL.GL_FLOAT, GL.GL_FALSE, 0, _offset(0))
        if buffers.has_skin_attributes:
            GL.glEnableVertexAttribArray(ATTR_JOINTS)
            GL.glVertexAttribIPointer(ATTR_JOINTS, 4, GL.GL_UNSIGNED_INT, 0, _offset(n * 8))
            GL.glEnableVertexAttribArray(ATTR_WEIGHTS)
            GL.glVertexAttribPointer(ATTR_WEIGHTS, 4, GL.GL_FLOAT, GL.GL_FALSE, 0,
                                     _offset(n * 8 + n * 16))
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, buffers.ebo)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, 0)
        skinned = skin if buffers.has_skin_attributes else None
        return DrawItem(node, mesh, p, buffers, vao, skinned, dynamic)

    def upload_joints(self, skin: int, matrices: np.ndarray) -> None:
        """Joint matrices (joints, 4, 4) in math order, stored column by column."""
        buffer, _ = self.joint_buffers[skin]
        data = np.ascontiguousarray(np.transpose(matrices, (0, 2, 1)), dtype=np.float32)
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, buffer)
        GL.glBufferSubData(GL.GL_TEXTURE_BUFFER, 0, data.nbytes, data)
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, 0)

    def delete(self) -> None:
        for item in self.items:
            GL.glDeleteVertexArrays(1, [item.vao])
            if item.dynamic_vbo:
                GL.glDeleteBuffers(1, [item.dynamic_vbo])
        for b in self.primitives.values():
            GL.glDeleteBuffers(3, [b.geometry_vbo, b.static_vbo, b.ebo])
        for buffer, texture in self.joint_buffers.values():
            GL.glDeleteBuffers(1, [buffer])
            GL.glDeleteTextures(1, [texture])
        if self.textures is not None:
            self.textures.delete()
        self.items.clear()
        self.primitives.clear()
        self.joint_buffers.clear()


class TextureCache:
    """glTF textures as GL textures, decoded on first use.

    Colour textures are stored sRGB so sampling returns linear values; data
    textures (normal maps, masks, shading shift) are stored as they are. A texture
    that cannot be decoded is logged and drawn white.
    """

    def __init__(self, model: VrmModel) -> None:
        self.model = model
        self._made: dict[tuple[int, bool], int] = {}
        self.white = self._upload(np.full((1, 1, 4), 255, np.uint8), srgb=False, sampler=None)
        self.failed: list[str] = []

    def get(self, index: int | None, srgb: bool) -> int:
        if index is None or not 0 <= index < len(self.model.textures):
            return self.white
        key = (index, srgb)
        if key not in self._made:
            self._made[key] = self._load(index, srgb)
        return self._made[key]

    def loaded(self) -> dict[tuple[int, bool], int]:
        """(texture index, sRGB) -> GL texture, for what has been decoded so far."""
        return dict(self._made)

    def _load(self, index: int, srgb: bool) -> int:
        tex = self.model.textures[index]
        if tex.source is None or not 0 <= tex.source < len(self.model.images):
            return self.white
        image = self.model.images[tex.source]
        pixels = decode_image(image.data)
        if pixels is None:
            self.failed.append(f"texture {index} ({image.mime_type or 'unknown type'}) not decoded")
            log.warning("avatar: %s", self.failed[-1])
            return self.white
        sampler = self.model.samplers[tex.sampler] if tex.sampler is not None else None
        return self._upload(pixels, srgb, sampler)

    def _upload(self, pixels: np.ndarray, srgb: bool, sampler: object) -> int:
        h, w = pixels.shape[:2]
        handle = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, handle)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
        internal = GL.GL_SRGB8_ALPHA8 if srgb else GL.GL_RGBA8
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, w, h, 0, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE,
                        np.ascontiguousarray(pixels))
        mag = getattr(sampler, "mag_filter", None) or GL.GL_LINEAR
        minf = getattr(sampler, "min_filter", None) or GL.GL_LINEAR_MIPMAP_LINEAR
        if minf in _MIPMAP_FILTERS:
            GL.glGenerateMipmap(GL.GL_TEXTURE_2D)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, mag)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, minf)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S,
                           getattr(sampler, "wrap_s", GL.GL_REPEAT))
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T,
                           getattr(sampler, "wrap_t", GL.GL_REPEAT))
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        return handle

    def delete(self) -> None:
        handles = [self.white, *self._made.values()]
        GL.glDeleteTextures(len(handles), handles)
        self._made.clear()


def decode_image(data: bytes) -> np.ndarray | None:
    """PNG/JPEG (whatever Qt's image plugins read) to RGBA8 rows, top row first,
    which is glTF's UV origin: no flip is needed."""
    if not data:
        return None
    from PySide6.QtGui import QImage

    image = QImage.fromData(data)
    if image.isNull():
        return None
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return raw.reshape(h, image.bytesPerLine())[:, : w * 4].reshape(h, w, 4).copy()
