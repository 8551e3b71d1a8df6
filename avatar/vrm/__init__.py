"""VRM avatars as renderer-neutral data: `load_vrm(path) -> VrmModel`.

Reads VRM 1.0 (`VRMC_vrm`), VRM 0.x (`VRM`, mapped onto the 1.0 names and
conventions) and plain glTF 2.0 (no humanoid, no expressions), from .vrm/.glb or
.gltf with external or embedded buffers. `ExpressionMixer` turns expression
weights (lip sync, blinking, emotions) into morph weights and material values
each frame. Everything malformed raises `VrmError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from avatar.vrm.errors import VrmError
from avatar.vrm.expressions import Expression, ExpressionMixer, MixResult
from avatar.vrm.gltf import GltfDocument, load_gltf
from avatar.vrm.model import VrmModel
from avatar.vrm.vrm0 import load_vrm0
from avatar.vrm.vrm1 import load_vrm1

__all__ = [
    "Expression",
    "ExpressionMixer",
    "GltfDocument",
    "MixResult",
    "VrmError",
    "VrmModel",
    "detect_version",
    "load_gltf",
    "load_vrm",
]


def detect_version(doc: GltfDocument) -> str:
    """"1.0" for VRMC_vrm, "0.x" for the old VRM extension, "gltf" for neither.
    A file carrying both (some converters do that) is read as 1.0."""
    if isinstance(doc.extensions.get("VRMC_vrm"), dict):
        return "1.0"
    if isinstance(doc.extensions.get("VRM"), dict):
        return "0.x"
    return "gltf"


def load_vrm(path: str | Path) -> VrmModel:
    """Load an avatar; raises `VrmError` (whose message names the file) if it is unusable."""
    doc = load_gltf(path)
    version = detect_version(doc)
    if version == "1.0":
        return load_vrm1(doc)
    if version == "0.x":
        return load_vrm0(doc)
    note = "plain glTF without a VRM extension: no humanoid, expressions or spring bones"
    if "VRMC_vrm_animation" in doc.extensions:
        note = "a VRM animation (.vrma), not an avatar: no meshes to draw, animations not read"
    return doc.to_model("gltf", notes=[note])
