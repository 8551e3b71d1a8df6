"""Writing VRM 1.0 (binary glTF) from numpy arrays: what builds the default avatar.

A :class:`VrmBuilder` collects buffers, accessors, meshes with morph targets,
materials with MToon parameters, a node tree with a skin, and the VRM extensions
(meta, humanoid, expressions, look-at, spring bones), then writes one .vrm file that
any VRM 1.0 reader (and vtbot's own loader) accepts.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FLOAT, UINT8, UINT16, UINT32 = 5126, 5121, 5123, 5125
_TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 16: "MAT4"}
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


@dataclass
class MorphSpec:
    name: str
    positions: np.ndarray  # (n, 3) deltas
    normals: np.ndarray | None = None


@dataclass
class VrmBuilder:
    """Appends glTF objects and returns their indices; :meth:`write` makes the file."""

    gltf: dict[str, Any] = field(default_factory=lambda: {
        "asset": {"version": "2.0", "generator": "vtbot avatar builder"},
        "buffers": [], "bufferViews": [], "accessors": [], "meshes": [], "materials": [],
        "nodes": [], "scenes": [{"nodes": []}], "scene": 0, "skins": [], "images": [],
        "textures": [], "samplers": [],
        "extensionsUsed": ["VRMC_vrm", "VRMC_materials_mtoon", "VRMC_springBone"],
        "extensions": {}})
    _bin: bytearray = field(default_factory=bytearray)

    # -- data ------------------------------------------------------------------------------

    def _view(self, data: bytes, target: int | None = None) -> int:
        while len(self._bin) % 4:
            self._bin.append(0)
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self._bin), "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self._bin.extend(data)
        self.gltf["bufferViews"].append(view)
        return len(self.gltf["bufferViews"]) - 1

    def accessor(self, array: np.ndarray, *, target: int | None = ARRAY_BUFFER, minmax: bool = False) -> int:
        a = np.ascontiguousarray(array)
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        component = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UINT8,
                     np.dtype(np.uint16): UINT16, np.dtype(np.uint32): UINT32}[a.dtype]
        width = 1 if a.ndim == 1 else int(np.prod(a.shape[1:]))
        acc: dict[str, Any] = {"bufferView": self._view(a.tobytes(), target), "componentType": component,
                               "count": int(a.shape[0]), "type": _TYPES[width]}
        if minmax:
            flat = a.reshape(len(a), width)
            acc["min"] = [float(v) for v in flat.min(axis=0)]
            acc["max"] = [float(v) for v in flat.max(axis=0)]
        self.gltf["accessors"].append(acc)
        return len(self.gltf["accessors"]) - 1

    def image_png(self, png: bytes, name: str) -> int:
        """A PNG texture; returns the texture index."""
        self.gltf["images"].append({"bufferView": self._view(png), "mimeType": "image/png", "name": name})
        if not self.gltf["samplers"]:
            self.gltf["samplers"].append({"magFilter": 9729, "minFilter": 9987, "wrapS": 10497, "wrapT": 10497})
        self.gltf["textures"].append({"source": len(self.gltf["images"]) - 1, "sampler": 0})
        return len(self.gltf["textures"]) - 1

    # -- scene -----------------------------------------------------------------------------

    def material(self, name: str, colour: tuple[float, float, float, float], *,
                 shade: tuple[float, float, float] | None = None, texture: int | None = None,
                 alpha_mode: str = "OPAQUE", double_sided: bool = False, emissive=(0.0, 0.0, 0.0),
                 shading_shift: float = -0.05, shading_toony: float = 0.95, rim=(0.0, 0.0, 0.0),
                 outline_width: float = 0.0, outline_colour=(0.0, 0.0, 0.0)) -> int:
        pbr: dict[str, Any] = {"baseColorFactor": list(colour), "metallicFactor": 0.0, "roughnessFactor": 1.0}
        if texture is not None:
            pbr["baseColorTexture"] = {"index": texture}
        shade = shade or tuple(c * 0.72 for c in colour[:3])
        mtoon: dict[str, Any] = {
            "specVersion": "1.0", "transparentWithZWrite": False, "renderQueueOffsetNumber": 0,
            "shadeColorFactor": list(shade), "shadingShiftFactor": shading_shift,
            "shadingToonyFactor": shading_toony, "giEqualizationFactor": 0.9,
            "parametricRimColorFactor": list(rim), "parametricRimFresnelPowerFactor": 4.0,
            "parametricRimLiftFactor": 0.1, "rimLightingMixFactor": 1.0,
            "outlineWidthMode": "worldCoordinates" if outline_width > 0 else "none",
            "outlineWidthFactor": outline_width, "outlineColorFactor": list(outline_colour),
            "outlineLightingMixFactor": 1.0,
        }
        if texture is not None:
            mtoon["shadeMultiplyTexture"] = {"index": texture}
        self.gltf["materials"].append({
            "name": name, "pbrMetallicRoughness": pbr, "alphaMode": alpha_mode,
            "doubleSided": double_sided, "emissiveFactor": list(emissive),
            "extensions": {"VRMC_materials_mtoon": mtoon}})
        return len(self.gltf["materials"]) - 1

    def mesh(self, name: str, positions: np.ndarray, normals: np.ndarray, indices: np.ndarray,
             material: int, *, uvs: np.ndarray | None = None, joints: np.ndarray | None = None,
             weights: np.ndarray | None = None, morphs: list[MorphSpec] | None = None) -> int:
        attrs = {"POSITION": self.accessor(positions.astype(np.float32), minmax=True),
                 "NORMAL": self.accessor(normals.astype(np.float32))}
        if uvs is not None:
            attrs["TEXCOORD_0"] = self.accessor(uvs.astype(np.float32))
        if joints is not None and weights is not None:
            attrs["JOINTS_0"] = self.accessor(joints.astype(np.uint16))
            attrs["WEIGHTS_0"] = self.accessor(weights.astype(np.float32))
        prim: dict[str, Any] = {"attributes": attrs, "material": material, "mode": 4,
                                "indices": self.accessor(indices.astype(np.uint32).reshape(-1),
                                                         target=ELEMENT_ARRAY_BUFFER)}
        mesh: dict[str, Any] = {"name": name, "primitives": [prim]}
        if morphs:
            targets = []
            for m in morphs:
                t = {"POSITION": self.accessor(m.positions.astype(np.float32), minmax=True)}
                if m.normals is not None:
                    t["NORMAL"] = self.accessor(m.normals.astype(np.float32))
                targets.append(t)
            prim["targets"] = targets
            mesh["weights"] = [0.0] * len(morphs)
            mesh["extras"] = {"targetNames": [m.name for m in morphs]}
        self.gltf["meshes"].append(mesh)
        return len(self.gltf["meshes"]) - 1

    def node(self, name: str, *, translation=(0.0, 0.0, 0.0), parent: int | None = None,
             mesh: int | None = None, skin: int | None = None) -> int:
        node: dict[str, Any] = {"name": name, "translation": [float(v) for v in translation]}
        if mesh is not None:
            node["mesh"] = mesh
        if skin is not None:
            node["skin"] = skin
        self.gltf["nodes"].append(node)
        index = len(self.gltf["nodes"]) - 1
        if parent is None:
            self.gltf["scenes"][0]["nodes"].append(index)
        else:
            self.gltf["nodes"][parent].setdefault("children", []).append(index)
        return index

    def skin(self, joints: list[int], inverse_binds: np.ndarray, skeleton: int | None = None) -> int:
        """``inverse_binds``: (n, 4, 4) row-major matrices (written column-major, as glTF wants)."""
        mats = np.ascontiguousarray(np.transpose(inverse_binds, (0, 2, 1))).reshape(len(joints), 16)
        skin: dict[str, Any] = {"joints": joints, "inverseBindMatrices": self.accessor(mats, target=None)}
        if skeleton is not None:
            skin["skeleton"] = skeleton
        self.gltf["skins"].append(skin)
        return len(self.gltf["skins"]) - 1

    # -- VRM -------------------------------------------------------------------------------

    def vrm(self, *, meta: dict[str, Any], humanoid: dict[str, int], expressions: dict[str, dict[str, Any]],
            look_at: dict[str, Any] | None = None, first_person: list[dict[str, Any]] | None = None) -> None:
        """``expressions``: name → {"binds": [(node, morph index, weight)], "isBinary", "override*"}."""
        preset, custom = {}, {}
        presets = {"happy", "angry", "sad", "relaxed", "surprised", "aa", "ih", "ou", "ee", "oh", "blink",
                   "blinkLeft", "blinkRight", "lookUp", "lookDown", "lookLeft", "lookRight", "neutral"}
        for name, spec in expressions.items():
            entry = {"morphTargetBinds": [{"node": n, "index": i, "weight": w} for n, i, w in spec.get("binds", [])],
                     "isBinary": bool(spec.get("isBinary", False)),
                     "overrideBlink": spec.get("overrideBlink", "none"),
                     "overrideLookAt": spec.get("overrideLookAt", "none"),
                     "overrideMouth": spec.get("overrideMouth", "none")}
            (preset if name in presets else custom)[name] = entry
        ext: dict[str, Any] = {
            "specVersion": "1.0", "meta": meta,
            "humanoid": {"humanBones": {bone: {"node": n} for bone, n in humanoid.items()}},
            "expressions": {"preset": preset, "custom": custom}}
        if look_at is not None:
            ext["lookAt"] = look_at
        if first_person is not None:
            ext["firstPerson"] = {"meshAnnotations": first_person}
        self.gltf["extensions"]["VRMC_vrm"] = ext

    def springs(self, colliders: list[dict[str, Any]], groups: list[dict[str, Any]],
                springs: list[dict[str, Any]]) -> None:
        self.gltf["extensions"]["VRMC_springBone"] = {
            "specVersion": "1.0", "colliders": colliders, "colliderGroups": groups, "springs": springs}

    # -- file ------------------------------------------------------------------------------

    def glb(self) -> bytes:
        gltf = {k: v for k, v in self.gltf.items() if v != []}
        while len(self._bin) % 4:
            self._bin.append(0)
        gltf["buffers"] = [{"byteLength": len(self._bin)}]
        body = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
        body += b" " * (-len(body) % 4)
        total = 12 + 8 + len(body) + 8 + len(self._bin)
        return (struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(body), b"JSON") + body
                + struct.pack("<I4s", len(self._bin), b"BIN\0") + bytes(self._bin))

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.glb())
        return path
