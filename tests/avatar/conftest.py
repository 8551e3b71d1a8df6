"""Sample VRM/glTF models (see tests/assets/ATTRIBUTION.md), loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

VRM_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "vrm"
ROBOT = VRM_ASSETS / "vrm-addon-for-blender" / "debug_robot_vrm1.vrm"
SHAPEKEY_V0 = VRM_ASSETS / "vrm-addon-for-blender" / "modifier_shapekey_vrm0.vrm"
SIMPLE_MORPH_V0 = VRM_ASSETS / "vrm-addon-for-blender" / "simple_morph_vrm0.vrm"
CUBE = VRM_ASSETS / "three-vrm-core-cube" / "cube.gltf"
SPHERE_V0 = VRM_ASSETS / "three-vrm_sphere.vrm"
MTOON_UV = VRM_ASSETS / "VRMC_materials_mtoon_UV_Animation_Test.vrm"
BINARY_OVERRIDDEN = VRM_ASSETS / "VRMC_vrm_expressions_isBinary_Overridden.vrm"
BINARY_OVERRIDES = VRM_ASSETS / "VRMC_vrm_expressions_isBinary_Overrides.vrm"
SIMPLE_MORPH = VRM_ASSETS / "SimpleMorph.gltf"
VRMA = VRM_ASSETS / "three-vrm_test.vrma"

MODEL_FILES = sorted(
    p for p in VRM_ASSETS.rglob("*") if p.suffix in (".vrm", ".gltf", ".glb", ".vrma")
)


@pytest.fixture(scope="session")
def models():
    """path -> VrmModel for every sample file."""
    from avatar.vrm import load_vrm

    return {p: load_vrm(p) for p in MODEL_FILES}
