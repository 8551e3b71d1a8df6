"""glTF 2.0 documents (.glb, .vrm, .gltf) into the renderer-neutral model parts.

This layer knows glTF and its KHR extensions that matter for avatars
(texture transform, unlit, emissive strength) and nothing about VRM: the VRM
loaders read `GltfDocument.extensions` and the per-material extensions on top.
Images stay encoded; decoding PNG/JPEG is the renderer's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from avatar.vrm.accessors import AccessorReader
from avatar.vrm.container import data_uri_mime, read_container, read_uri
from avatar.vrm.errors import VrmError
from avatar.vrm.model import (
    REPEAT,
    TRIANGLES,
    Image,
    Material,
    Mesh,
    Meta,
    MorphTarget,
    Node,
    Primitive,
    Sampler,
    Scene,
    Skin,
    Texture,
    TextureRef,
    TextureTransform,
    VrmModel,
    VrmVersion,
)
from avatar.vrm.transforms import IDENTITY_QUAT, compose, decompose, world_matrices

#: Required extensions that change how geometry is stored; without them the
#: vertex data cannot be read, so such files are refused with a clear message.
UNSUPPORTED_REQUIRED = {"KHR_draco_mesh_compression", "EXT_meshopt_compression"}
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\xabKTX 20\xbb", "image/ktx2"),
)
_SUFFIX_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".webp": "image/webp", ".ktx2": "image/ktx2"}
_MAIN_ATTRIBUTES = {"POSITION", "NORMAL", "TEXCOORD_0", "JOINTS_0", "WEIGHTS_0"}


@dataclass(eq=False)
class GltfDocument:
    """Everything glTF in one file, with rest-pose world matrices computed."""

    path: Path
    json: dict
    accessors: AccessorReader
    images: list[Image]
    samplers: list[Sampler]
    textures: list[Texture]
    materials: list[Material]
    meshes: list[Mesh]
    nodes: list[Node]
    scenes: list[Scene]
    scene: int | None
    skins: list[Skin]
    notes: list[str] = field(default_factory=list)

    @property
    def extensions(self) -> dict:
        ext = self.json.get("extensions")
        return ext if isinstance(ext, dict) else {}

    def error(self, problem: str) -> VrmError:
        return VrmError(self.path, problem)

    def to_model(self, version: VrmVersion, **vrm_parts: object) -> VrmModel:
        """A `VrmModel` of this document's glTF parts plus the given VRM parts
        (which may replace `materials`, e.g. with MToon settings attached)."""
        parts: dict[str, object] = dict(
            path=self.path, version=version, nodes=self.nodes, scenes=self.scenes,
            scene=self.scene, meshes=self.meshes, materials=self.materials,
            textures=self.textures, images=self.images, samplers=self.samplers, skins=self.skins,
        )
        parts.update(vrm_parts)
        for i, material in enumerate(parts["materials"]):  # type: ignore[arg-type]
            check_material_textures(self.path, i, material, len(self.textures))
        parts["notes"] = [*self.notes, *vrm_parts.get("notes", [])]  # type: ignore[misc]
        parts.setdefault("spec_version", None)
        parts.setdefault("meta", Meta())
        return VrmModel(**parts)  # type: ignore[arg-type]


def load_gltf(path: str | Path) -> GltfDocument:
    """Read and check a glTF 2.0 file; raises `VrmError` for anything malformed."""
    container = read_container(path)
    doc = container.json
    reader = AccessorReader(container.path, doc, container.buffers)
    p = _Parser(container.path, doc, reader)
    required = set(doc.get("extensionsRequired", [])) & UNSUPPORTED_REQUIRED
    if required:
        names = ", ".join(sorted(required))
        raise VrmError(container.path, f"requires {names}, which is not supported")
    images = [p.image(i, img) for i, img in enumerate(doc.get("images", []))]
    samplers = [p.sampler(s) for s in doc.get("samplers", [])]
    textures = [p.texture(i, t) for i, t in enumerate(doc.get("textures", []))]
    materials = [p.material(m) for m in doc.get("materials", [])]
    meshes = [p.mesh(i, m) for i, m in enumerate(doc.get("meshes", []))]
    nodes = p.nodes(doc.get("nodes", []), len(meshes), len(doc.get("skins", [])))
    skins = [p.skin(i, s, len(nodes)) for i, s in enumerate(doc.get("skins", []))]
    scenes = [p.scene(i, s, len(nodes)) for i, s in enumerate(doc.get("scenes", []))]
    for i, material in enumerate(materials):
        check_material_textures(container.path, i, material, len(textures))
    _check_skinned_joints(container.path, nodes, meshes, skins)
    scene = doc.get("scene", 0 if scenes else None)
    if scene is not None and not (isinstance(scene, int) and 0 <= scene < len(scenes)):
        raise VrmError(container.path, f"the default scene {scene!r} does not exist")
    return GltfDocument(
        path=container.path, json=doc, accessors=reader, images=images, samplers=samplers,
        textures=textures, materials=materials, meshes=meshes, nodes=nodes, scenes=scenes,
        scene=scene, skins=skins, notes=p.notes,
    )


class _Parser:
    """Turns the JSON objects of one document into model dataclasses."""

    def __init__(self, path: Path, doc: dict, reader: AccessorReader) -> None:
        self.path = path
        self.doc = doc
        self.reader = reader
        self.notes: list[str] = []

    def error(self, problem: str) -> VrmError:
        return VrmError(self.path, problem)

    # -- images and textures -------------------------------------------------

    def image(self, index: int, img: dict) -> Image:
        name, uri, mime = img.get("name"), img.get("uri"), img.get("mimeType")
        if "bufferView" in img:
            data = self.reader.view_bytes(img["bufferView"], f"image {index}")
        elif isinstance(uri, str):
            try:
                data = read_uri(self.path, uri, f"image {index}")
            except VrmError as exc:  # a missing texture should not cost the whole avatar
                self.notes.append(f"image {index} not loaded: {exc.problem}")
                data = b""
            suffix = Path(uri.split("?")[0]).suffix.lower()
            mime = mime or data_uri_mime(uri) or _SUFFIX_MIME.get(suffix)
        else:
            raise self.error(f"image {index} has neither a bufferView nor a uri")
        return Image(name=name, mime_type=mime or _sniff_mime(data), data=data,
                     uri=uri if isinstance(uri, str) and not uri.startswith("data:") else None)

    def sampler(self, s: dict) -> Sampler:
        return Sampler(s.get("magFilter"), s.get("minFilter"),
                       s.get("wrapS", REPEAT), s.get("wrapT", REPEAT))

    def texture(self, index: int, t: dict) -> Texture:
        source = t.get("source")
        if source is None:  # KHR_texture_basisu, EXT_texture_webp, ... carry it instead
            for ext_name, ext in t.get("extensions", {}).items():
                if isinstance(ext, dict) and "source" in ext:
                    source = ext["source"]
                    self.notes.append(f"texture {index} uses {ext_name} (image {source})")
                    break
        n_images, n_samplers = len(self.doc.get("images", [])), len(self.doc.get("samplers", []))
        sampler = t.get("sampler")
        if source is not None and not (isinstance(source, int) and 0 <= source < n_images):
            raise self.error(f"texture {index} uses image {source!r}, which does not exist")
        if sampler is not None and not (isinstance(sampler, int) and 0 <= sampler < n_samplers):
            raise self.error(f"texture {index} uses sampler {sampler!r}, which does not exist")
        return Texture(source=source, sampler=sampler, name=t.get("name"))

    # -- materials -----------------------------------------------------------

    def material(self, m: dict) -> Material:
        pbr = m.get("pbrMetallicRoughness", {})
        ext = m.get("extensions", {})
        return Material(
            name=m.get("name"),
            base_color_factor=_floats(pbr.get("baseColorFactor"), (1.0, 1.0, 1.0, 1.0)),
            base_color_texture=texture_ref(pbr.get("baseColorTexture")),
            metallic_factor=float(pbr.get("metallicFactor", 1.0)),
            roughness_factor=float(pbr.get("roughnessFactor", 1.0)),
            metallic_roughness_texture=texture_ref(pbr.get("metallicRoughnessTexture")),
            normal_texture=texture_ref(m.get("normalTexture"), "scale"),
            occlusion_texture=texture_ref(m.get("occlusionTexture"), "strength"),
            emissive_factor=_floats(m.get("emissiveFactor"), (0.0, 0.0, 0.0)),
            emissive_texture=texture_ref(m.get("emissiveTexture")),
            emissive_strength=_emissive_strength(ext),
            alpha_mode=m.get("alphaMode", "OPAQUE"),
            alpha_cutoff=float(m.get("alphaCutoff", 0.5)),
            double_sided=bool(m.get("doubleSided", False)),
            unlit="KHR_materials_unlit" in ext,
        )

    # -- meshes --------------------------------------------------------------

    def mesh(self, index: int, m: dict) -> Mesh:
        extras = m.get("extras") if isinstance(m.get("extras"), dict) else {}
        prims_json = m.get("primitives", [])
        names = extras.get("targetNames")
        if names is None and prims_json:  # UniVRM 0.x writes them on the primitive
            first = prims_json[0].get("extras")
            names = first.get("targetNames") if isinstance(first, dict) else None
        names = list(names) if isinstance(names, list) else []
        primitives = tuple(self.primitive(index, j, p, names) for j, p in enumerate(prims_json))
        count = max((len(p.targets) for p in primitives), default=0)
        weights = np.zeros(count, dtype=np.float32)
        if "weights" in m:
            given = np.asarray(m["weights"], dtype=np.float32)[:count]
            weights[: len(given)] = given
        target_names = tuple(names[i] if i < len(names) else None for i in range(count))
        return Mesh(name=m.get("name"), primitives=primitives, weights=weights,
                    target_names=target_names)

    def primitive(self, mesh: int, index: int, p: dict, names: Sequence[str]) -> Primitive:
        where = f"mesh {mesh} primitive {index}"
        attrs = p.get("attributes", {})
        if "POSITION" not in attrs:
            raise self.error(f"{where} has no POSITION attribute")
        positions = self._attribute(attrs["POSITION"], np.float32, (3,), where, "POSITION")
        n = len(positions)

        def optional(name: str, dtype: type, width: int) -> np.ndarray | None:
            if name not in attrs:
                return None
            return self._attribute(attrs[name], dtype, (width,), where, name, n)

        if "indices" in p:
            indices = np.asarray(self.reader.read(p["indices"]), dtype=np.uint32).reshape(-1)
            if indices.size and int(indices.max()) >= n:
                raise self.error(f"{where}: index {int(indices.max())} is past its {n} vertices")
        else:
            indices = np.arange(n, dtype=np.uint32)
        extra = {
            name: self.reader.read(acc)
            for name, acc in attrs.items()
            if name not in _MAIN_ATTRIBUTES
        }
        for name, arr in extra.items():
            if len(arr) != n:
                raise self.error(f"{where}: {name} has {len(arr)} entries for {n} vertices")
        targets = tuple(
            MorphTarget(
                name=names[t] if t < len(names) else None,
                positions=self._target(target, "POSITION", where, t, n),
                normals=self._target(target, "NORMAL", where, t, n),
            )
            for t, target in enumerate(p.get("targets", []))
        )
        material = p.get("material")
        materials = self.doc.get("materials", [])
        if material is not None and not (
            isinstance(material, int) and 0 <= material < len(materials)
        ):
            raise self.error(f"{where} uses material {material!r}, which does not exist")
        return Primitive(
            positions=positions,
            indices=indices,
            normals=optional("NORMAL", np.float32, 3),
            texcoords=optional("TEXCOORD_0", np.float32, 2),
            joints=optional("JOINTS_0", np.uint32, 4),
            weights=optional("WEIGHTS_0", np.float32, 4),
            mode=int(p.get("mode", TRIANGLES)),
            material=material,
            targets=targets,
            attributes=extra,
        )

    def _attribute(
        self, accessor: int, dtype: type, shape: tuple[int, ...], where: str, name: str,
        count: int | None = None,
    ) -> np.ndarray:
        raw = self.reader.read(accessor)
        if raw.shape[1:] != shape:
            raise self.error(f"{where}: {name} has shape {raw.shape[1:]}, expected {shape}")
        if count is not None and len(raw) != count:
            raise self.error(f"{where}: {name} has {len(raw)} entries for {count} vertices")
        return np.ascontiguousarray(raw, dtype=dtype)

    def _target(self, target: dict, name: str, where: str, t: int, n: int) -> np.ndarray | None:
        if name not in target:
            return None
        return self._attribute(target[name], np.float32, (3,), f"{where} target {t}", name, n)

    # -- nodes, skins, scenes ------------------------------------------------

    def nodes(self, nodes_json: list[dict], n_meshes: int, n_skins: int) -> list[Node]:
        count = len(nodes_json)
        parents = [-1] * count
        for i, nd in enumerate(nodes_json):
            for child in nd.get("children", []):
                if not (isinstance(child, int) and 0 <= child < count):
                    raise self.error(f"node {i} has child {child!r}, which does not exist")
                if parents[child] != -1:
                    raise self.error(f"node {child} has two parents ({parents[child]} and {i})")
                parents[child] = i
        _check_acyclic(self.path, parents)
        local = np.empty((count, 4, 4))
        trs = []
        for i, nd in enumerate(nodes_json):
            if "matrix" in nd:
                m = np.asarray(nd["matrix"], dtype=np.float64)
                if m.shape != (16,):
                    raise self.error(f"node {i} has a matrix with {m.size} numbers, not 16")
                local[i] = m.reshape(4, 4).T  # stored column-major
                trs.append(decompose(local[i]))
            else:
                t = _floats(nd.get("translation"), (0.0, 0.0, 0.0))
                r = _floats(nd.get("rotation"), IDENTITY_QUAT)
                s = _floats(nd.get("scale"), (1.0, 1.0, 1.0))
                local[i] = compose(t, r, s)
                trs.append((t, r, s))
            for key, limit in (("mesh", n_meshes), ("skin", n_skins)):
                ref = nd.get(key)
                if ref is not None and not (isinstance(ref, int) and 0 <= ref < limit):
                    raise self.error(f"node {i} uses {key} {ref!r}, which does not exist")
        world = world_matrices(local, parents)
        return [
            Node(
                index=i, name=nd.get("name"), parent=parents[i] if parents[i] >= 0 else None,
                children=tuple(nd.get("children", [])), translation=trs[i][0],
                rotation=trs[i][1], scale=trs[i][2], rest_local=local[i], rest_world=world[i],
                mesh=nd.get("mesh"), skin=nd.get("skin"),
                weights=np.asarray(nd["weights"], dtype=np.float32) if "weights" in nd else None,
            )
            for i, nd in enumerate(nodes_json)
        ]

    def skin(self, index: int, s: dict, n_nodes: int) -> Skin:
        joints = tuple(s.get("joints", []))
        for j in joints:
            if not (isinstance(j, int) and 0 <= j < n_nodes):
                raise self.error(f"skin {index} has joint {j!r}, which is not a node")
        if "inverseBindMatrices" in s:
            ibm = np.asarray(self.reader.read(s["inverseBindMatrices"]), dtype=np.float32)
            if ibm.shape != (len(joints), 4, 4):
                raise self.error(
                    f"skin {index} has {len(ibm)} inverse bind matrices of shape "
                    f"{ibm.shape[1:]} for {len(joints)} joints"
                )
        else:
            ibm = np.tile(np.eye(4, dtype=np.float32), (len(joints), 1, 1))
        return Skin(name=s.get("name"), joints=joints, inverse_bind_matrices=ibm,
                    skeleton=s.get("skeleton"))

    def scene(self, index: int, s: dict, n_nodes: int) -> Scene:
        roots = tuple(s.get("nodes", []))
        for r in roots:
            if not (isinstance(r, int) and 0 <= r < n_nodes):
                raise self.error(f"scene {index} has root {r!r}, which is not a node")
        return Scene(name=s.get("name"), nodes=roots)


def check_material_textures(path: Path, index: int, material: Material, n_textures: int) -> None:
    """Every texture a material (or its MToon part) names must exist."""
    holders = [material] + ([material.mtoon] if material.mtoon else [])
    for holder in holders:
        for f in fields(holder):
            ref = getattr(holder, f.name)
            if isinstance(ref, TextureRef) and not 0 <= ref.index < n_textures:
                raise VrmError(path, f"material {index} {f.name} uses texture {ref.index}, "
                                     "which does not exist")


def texture_ref(info: dict | None, scale_key: str | None = None) -> TextureRef | None:
    """A glTF textureInfo (with KHR_texture_transform when present) or None."""
    if not isinstance(info, dict) or not isinstance(info.get("index"), int):
        return None
    transform = None
    tt = info.get("extensions", {}).get("KHR_texture_transform")
    if isinstance(tt, dict):
        transform = TextureTransform(
            offset=_floats(tt.get("offset"), (0.0, 0.0)),
            rotation=float(tt.get("rotation", 0.0)),
            scale=_floats(tt.get("scale"), (1.0, 1.0)),
            tex_coord=tt.get("texCoord"),
        )
    return TextureRef(
        index=info["index"],
        tex_coord=int(info.get("texCoord", 0)),
        scale=float(info.get(scale_key, 1.0)) if scale_key else 1.0,
        transform=transform,
    )


def _emissive_strength(ext: dict) -> float:
    """KHR_materials_emissive_strength, or the archived VRM extension it replaced."""
    khr = ext.get("KHR_materials_emissive_strength")
    if isinstance(khr, dict):
        return float(khr.get("emissiveStrength", 1.0))
    old = ext.get("VRMC_materials_hdr_emissiveMultiplier")
    if isinstance(old, dict):
        return float(old.get("emissiveMultiplier", 1.0))
    return 1.0


def _floats(values: Sequence[float] | None, default: tuple[float, ...]) -> tuple[float, ...]:
    """A fixed-length float tuple, or the default when the value is missing/malformed."""
    if not isinstance(values, (list, tuple)) or len(values) != len(default):
        return default
    return tuple(float(v) for v in values)


def _sniff_mime(data: bytes) -> str | None:
    for signature, mime in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _check_skinned_joints(
    path: Path, nodes: Sequence[Node], meshes: Sequence[Mesh], skins: Sequence[Skin]
) -> None:
    """JOINTS_0 values index the skin's joint list; out of range would read garbage."""
    for node in nodes:
        if node.mesh is None or node.skin is None:
            continue
        limit = len(skins[node.skin].joints)
        for j, prim in enumerate(meshes[node.mesh].primitives):
            if prim.joints is None or not prim.joints.size:
                continue
            # Joints with zero weight are not used, whatever index they carry.
            used = prim.joints if prim.weights is None else prim.joints[prim.weights > 0]
            if used.size and int(used.max()) >= limit:
                raise VrmError(
                    path, f"mesh {node.mesh} primitive {j} uses joint {int(used.max())} "
                    f"but skin {node.skin} (on node {node.index}) has {limit} joints",
                )


def _check_acyclic(path: Path, parents: list[int]) -> None:
    state = [0] * len(parents)  # 0 unseen, 1 on the current walk, 2 known to reach a root
    for start in range(len(parents)):
        walk = []
        node = start
        while node >= 0 and state[node] == 0:
            state[node] = 1
            walk.append(node)
            node = parents[node]
        if node >= 0 and state[node] == 1:
            raise VrmError(path, f"the node hierarchy has a cycle through node {node}")
        for n in walk:
            state[n] = 2
