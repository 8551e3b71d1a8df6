"""glTF reading: containers, buffers, accessors, rest-pose matrices, and broken files."""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import pytest

from avatar.vrm import VrmError, load_gltf, load_vrm
from avatar.vrm.transforms import compose, decompose, quat_to_matrix
from tests.avatar.conftest import (
    CUBE,
    MODEL_FILES,
    ROBOT,
    SIMPLE_MORPH,
    SPHERE_V0,
    VRM_ASSETS,
)
from tests.avatar.glb import edited_copy, make_glb, split_glb

EXPECTED_VERSIONS = {
    "SimpleMorph.gltf": "gltf",
    "three-vrm_test.vrma": "gltf",
    "three-vrm_sphere.vrm": "0.x",
    "modifier_shapekey_vrm0.vrm": "0.x",
    "simple_morph_vrm0.vrm": "0.x",
    "cube.gltf": "1.0",
    "debug_robot_vrm1.vrm": "1.0",
    "VRMC_materials_mtoon_UV_Animation_Test.vrm": "1.0",
    "VRMC_vrm_expressions_isBinary_Overridden.vrm": "1.0",
    "VRMC_vrm_expressions_isBinary_Overrides.vrm": "1.0",
}


def test_every_sample_file_is_covered():
    assert sorted(p.name for p in MODEL_FILES) == sorted(EXPECTED_VERSIONS)


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_every_sample_loads_with_upload_ready_arrays(models, path):
    model = models[path]
    assert model.version == EXPECTED_VERSIONS[path.name]
    for mesh in model.meshes:
        for prim in mesh.primitives:
            n = prim.vertex_count
            assert prim.positions.dtype == np.float32 and prim.positions.shape == (n, 3)
            assert prim.indices.dtype == np.uint32 and prim.indices.max() < n
            for arr, width in ((prim.normals, 3), (prim.texcoords, 2), (prim.weights, 4)):
                assert arr is None or (arr.dtype == np.float32 and arr.shape == (n, width))
            assert prim.joints is None or prim.joints.dtype == np.uint32
            for target in prim.targets:
                assert target.positions is None or target.positions.shape == (n, 3)
    # A child's rest world matrix is its parent's world matrix times its own local one.
    for node in model.nodes:
        expected = node.rest_local if node.parent is None else (
            model.nodes[node.parent].rest_world @ node.rest_local
        )
        np.testing.assert_allclose(node.rest_world, expected, atol=1e-12)
        np.testing.assert_allclose(node.rest_local, compose(node.translation, node.rotation,
                                                            node.scale), atol=1e-6)
    assert model.rest_world_matrices().shape == (len(model.nodes), 4, 4)


def test_simple_morph_gltf_with_data_uri_buffers():
    model = load_vrm(SIMPLE_MORPH)
    assert model.version == "gltf" and "plain glTF" in model.notes[0]
    assert model.humanoid == {} and model.expressions == {}
    (mesh,) = model.meshes
    (prim,) = mesh.primitives
    np.testing.assert_array_equal(prim.positions, [[0, 0, 0], [1, 0, 0], [0.5, 0.5, 0]])
    np.testing.assert_array_equal(prim.indices, [0, 1, 2])
    assert mesh.morph_count == 2 and mesh.target_names == (None, None)
    np.testing.assert_array_equal(mesh.weights, [0.5, 0.5])
    np.testing.assert_array_equal(prim.targets[0].positions, [[0, 0, 0], [0, 0, 0], [-1, 1, 0]])
    np.testing.assert_array_equal(prim.targets[1].positions, [[0, 0, 0], [0, 0, 0], [1, 1, 0]])
    assert prim.targets[0].normals is None


def test_cube_gltf_with_external_bin_files_and_image_uri():
    model = load_vrm(CUBE)
    assert [m.name for m in model.meshes] == ["Cube", "Cube (Eyes)", "Cube (Mouth)"]
    for mesh in model.meshes:
        (prim,) = mesh.primitives
        assert (prim.vertex_count, len(prim.indices), mesh.morph_count) == (24, 36, 2)
    # The morph targets live in cube_mesh_morph_x.bin / _y.bin.
    mouth_open = model.meshes[2].primitives[0].targets[1].positions
    assert set(np.round(mouth_open[:, 1], 4)) == {-0.0625, 0.0625}
    (image,) = model.images
    assert image.uri == "thumbnail.png" and image.mime_type == "image/png"
    assert image.data == (CUBE.parent / "thumbnail.png").read_bytes()
    # Mesh 1 (the eye) is instanced on two nodes.
    assert model.nodes_with_mesh(1) == [18, 20]


def test_robot_rest_pose_is_the_product_of_its_chain():
    model = load_vrm(ROBOT)
    chain = ["root", "hips", "spine", "chest", "neck", "head"]
    product = np.eye(4)
    for name in chain:
        product = product @ model.node_named(name).rest_local
    head = model.bone("head")
    np.testing.assert_allclose(head.rest_world, product, atol=1e-12)
    np.testing.assert_allclose(head.rest_world[:3, 3], [0, 0.75 + 0.25 + 0.125 + 0.3125 + 0.125, 0],
                               atol=1e-6)
    # shoulder.L is rotated by the quaternion (-0.5, -0.5, -0.5, 0.5): +Y points along +X.
    shoulder = model.bone("leftShoulder")
    assert shoulder.rotation == (-0.5, -0.5, -0.5, 0.5)
    np.testing.assert_allclose(shoulder.rest_local[:3, :3] @ [0, 1, 0], [1, 0, 0], atol=1e-6)
    # Node 76 ("secondary") is in no scene: it is its own root.
    assert model.nodes[76].parent is None and model.root_nodes == (75,)


def test_sphere_skin_and_inverse_bind_matrices():
    model = load_vrm(SPHERE_V0)
    (skin,) = model.skins
    assert len(skin.joints) == 22 and skin.skeleton == 2
    assert skin.inverse_bind_matrices.shape == (22, 4, 4)
    assert skin.inverse_bind_matrices.dtype == np.float32
    mesh_node = model.node_named("Sphere")
    # Bind pose: inverse bind matrix * joint world = the mesh node's world at bind time.
    for joint, ibm in zip(skin.joints, skin.inverse_bind_matrices, strict=True):
        np.testing.assert_allclose(model.nodes[joint].rest_world @ ibm, mesh_node.rest_world,
                                   atol=1e-5)
    (prim,) = model.meshes[0].primitives
    assert (prim.vertex_count, len(prim.indices)) == (1984, 2880)
    assert int(prim.joints.max()) < 22
    np.testing.assert_allclose(prim.weights.sum(axis=1), 1.0, atol=1e-5)


def _gltf_with(tmp_path, accessors, views, data: bytes, extra=None):
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(data), "uri": "data:application/octet-stream;base64,"
                     + base64.b64encode(data).decode()}],
        "bufferViews": views,
        "accessors": accessors,
        **(extra or {}),
    }
    path = tmp_path / "test.gltf"
    path.write_text(json.dumps(doc))
    return path


def test_accessors_normalized_strided_sparse_and_matrices(tmp_path):
    # view 0: 3 interleaved vertices of (u8 x4 normalized, i16 x2 normalized), stride 12
    interleaved = b"".join(
        struct.pack("<4B2h4x", *bytes_, *shorts)
        for bytes_, shorts in (((255, 0, 128, 51), (32767, -32768)),
                               ((0, 255, 0, 0), (0, -16384)),
                               ((10, 20, 30, 40), (1, 2)))
    )
    sparse_idx = struct.pack("<2H", 1, 3)
    sparse_val = struct.pack("<2f", 7.0, 9.0)
    mat3_u8 = bytes([1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0])  # columns padded to 4 bytes
    base = struct.pack("<4f", 1, 2, 3, 4)
    data = interleaved + sparse_idx + sparse_val + mat3_u8 + base
    o1 = len(interleaved)
    views = [
        {"buffer": 0, "byteOffset": 0, "byteLength": len(interleaved), "byteStride": 12},
        {"buffer": 0, "byteOffset": o1, "byteLength": 4},
        {"buffer": 0, "byteOffset": o1 + 4, "byteLength": 8},
        {"buffer": 0, "byteOffset": o1 + 12, "byteLength": 12},
        {"buffer": 0, "byteOffset": o1 + 24, "byteLength": 16},
    ]
    sparse = {"count": 2, "indices": {"bufferView": 1, "componentType": 5123},
              "values": {"bufferView": 2}}
    accessors = [
        {"bufferView": 0, "componentType": 5121, "normalized": True, "count": 3, "type": "VEC4"},
        {"bufferView": 0, "byteOffset": 4, "componentType": 5122, "normalized": True, "count": 3,
         "type": "VEC2"},
        {"componentType": 5126, "count": 5, "type": "SCALAR", "sparse": sparse},
        {"bufferView": 4, "componentType": 5126, "count": 4, "type": "SCALAR", "sparse": sparse},
        {"bufferView": 3, "componentType": 5121, "count": 1, "type": "MAT3"},
        {"bufferView": 0, "componentType": 5121, "count": 3, "type": "VEC4"},
    ]
    doc = load_gltf(_gltf_with(tmp_path, accessors, views, data))
    read = doc.accessors.read
    np.testing.assert_allclose(read(0)[0], [1.0, 0.0, 128 / 255, 0.2], rtol=1e-6)
    assert read(0).dtype == np.float32
    np.testing.assert_allclose(read(1)[:, 0], [1.0, 0.0, 1 / 32767], rtol=1e-6)
    np.testing.assert_allclose(read(1)[:, 1], [-1.0, -16384 / 32767, 2 / 32767], rtol=1e-6)
    np.testing.assert_array_equal(read(2), [0, 7, 0, 9, 0])  # no bufferView: zeros + sparse
    np.testing.assert_array_equal(read(3), [1, 7, 3, 9])
    np.testing.assert_array_equal(read(4)[0], [[1, 4, 7], [2, 5, 8], [3, 6, 9]])  # m[row, col]
    np.testing.assert_array_equal(read(5)[2], [10, 20, 30, 40])
    assert read(5).dtype == np.uint8 and not read(5).flags.writeable


def test_missing_indices_are_generated_and_matrix_nodes_decompose(tmp_path):
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    t, r, s = (1.0, 2.0, 3.0), (0.0, 0.0, np.sin(np.pi / 8), np.cos(np.pi / 8)), (2.0, 2.0, 2.0)
    matrix = compose(t, r, s)
    extra = {
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "mode": 5}]}],
        "nodes": [{"mesh": 0, "matrix": matrix.T.reshape(-1).tolist(), "children": [1]},
                  {"translation": [0, 1, 0]}],
        "scenes": [{"nodes": [0]}],
    }
    path = _gltf_with(tmp_path, [{"bufferView": 0, "componentType": 5126, "count": 3,
                                  "type": "VEC3"}],
                      [{"buffer": 0, "byteLength": 36}], positions, extra)
    model = load_vrm(path)
    prim = model.meshes[0].primitives[0]
    np.testing.assert_array_equal(prim.indices, [0, 1, 2])
    assert prim.mode == 5 and prim.material is None
    node = model.nodes[0]
    np.testing.assert_allclose(node.translation, t)
    np.testing.assert_allclose(node.rotation, r, atol=1e-12)
    np.testing.assert_allclose(node.scale, s)
    # Child at (0, 1, 0) local: scaled by 2, turned 45 degrees about Z, moved by t.
    expected = np.array(t) + 2 * quat_to_matrix(r) @ [0, 1, 0]
    np.testing.assert_allclose(model.nodes[1].rest_world[:3, 3], expected, atol=1e-12)
    assert decompose(matrix)[2] == pytest.approx(s)


def test_materials_textures_and_extensions(tmp_path):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 8).decode()
    extra = {
        "images": [{"uri": f"data:image/png;base64,{png}", "name": "skin"}],
        "samplers": [{"magFilter": 9729, "wrapS": 33071}],
        "textures": [{"source": 0, "sampler": 0}],
        "materials": [{
            "name": "glow",
            "pbrMetallicRoughness": {
                "baseColorFactor": [1, 0.5, 0.25, 0.8],
                "baseColorTexture": {"index": 0, "texCoord": 0, "extensions": {
                    "KHR_texture_transform": {"offset": [0.5, 0], "rotation": 1.5,
                                              "scale": [2, 2], "texCoord": 1}}},
                "metallicFactor": 0.0,
            },
            "normalTexture": {"index": 0, "scale": 0.5},
            "emissiveFactor": [1, 1, 0],
            "alphaMode": "BLEND", "doubleSided": True,
            "extensions": {"KHR_materials_emissive_strength": {"emissiveStrength": 4.0},
                           "KHR_materials_unlit": {}},
        }],
    }
    doc = load_gltf(_gltf_with(tmp_path, [], [], b"\0\0\0\0", extra))
    (image,) = doc.images
    assert (image.name, image.mime_type, image.uri) == ("skin", "image/png", None)
    assert doc.samplers[0].wrap_s == 33071 and doc.samplers[0].wrap_t == 10497
    (mat,) = doc.materials
    assert mat.base_color_factor == (1.0, 0.5, 0.25, 0.8) and mat.metallic_factor == 0.0
    assert mat.roughness_factor == 1.0 and mat.alpha_mode == "BLEND" and mat.double_sided
    assert mat.unlit and mat.emissive_strength == 4.0 and mat.emissive_factor == (1.0, 1.0, 0.0)
    assert mat.normal_texture.scale == 0.5
    tt = mat.base_color_texture.transform
    assert (tt.offset, tt.rotation, tt.scale, tt.tex_coord) == ((0.5, 0.0), 1.5, (2.0, 2.0), 1)


# -- broken files -------------------------------------------------------------


def _sphere_bytes() -> bytes:
    return SPHERE_V0.read_bytes()


def test_truncated_file(tmp_path):
    path = tmp_path / "half.vrm"
    path.write_bytes(_sphere_bytes()[:60000])
    with pytest.raises(VrmError, match=r"^half\.vrm: truncated: the header says 134352 bytes"):
        load_vrm(path)


def test_truncated_inside_the_header(tmp_path):
    path = tmp_path / "stub.vrm"
    path.write_bytes(_sphere_bytes()[:7])
    with pytest.raises(VrmError, match="stub.vrm: truncated: 7 bytes is shorter than the 12-byte"):
        load_vrm(path)


def test_bad_magic_number(tmp_path):
    path = tmp_path / "magic.vrm"
    path.write_bytes(b"glTX" + _sphere_bytes()[4:])
    with pytest.raises(VrmError, match=r"magic.vrm: not a glTF file: bad magic number b'glTX'"):
        load_vrm(path)


def test_json_chunk_that_is_not_json(tmp_path):
    data = bytearray(_sphere_bytes())
    data[20:26] = b"{oops:"
    path = tmp_path / "json.vrm"
    path.write_bytes(bytes(data))
    with pytest.raises(VrmError, match=r"json.vrm: the JSON chunk is not valid JSON: .* at char 1"):
        load_vrm(path)


def test_wrong_glb_version_and_first_chunk(tmp_path):
    data = bytearray(_sphere_bytes())
    struct.pack_into("<I", data, 4, 1)
    (tmp_path / "v1.vrm").write_bytes(bytes(data))
    with pytest.raises(VrmError, match="v1.vrm: binary glTF version 1; only version 2"):
        load_vrm(tmp_path / "v1.vrm")
    data = bytearray(_sphere_bytes())
    struct.pack_into("<I", data, 16, 0x004E4942)  # JSON chunk labelled BIN
    (tmp_path / "order.vrm").write_bytes(bytes(data))
    with pytest.raises(VrmError, match="order.vrm: the first chunk must be JSON, found 'BIN'"):
        load_vrm(tmp_path / "order.vrm")


def test_accessor_pointing_past_the_buffer(tmp_path):
    def grow(doc):
        doc["accessors"][0]["count"] = 100_000  # POSITION of the sphere

    path = edited_copy(SPHERE_V0, tmp_path / "past.vrm", grow)
    with pytest.raises(VrmError, match=r"past.vrm: accessor 0 points past its data: it needs "
                                       r"bytes 0\.\.1200000 of bufferView 0, which has only "
                                       r"23808 bytes"):
        load_vrm(path)


def test_buffer_view_pointing_past_the_buffer(tmp_path):
    def shift(doc):
        doc["bufferViews"][0]["byteOffset"] = 124000

    path = edited_copy(SPHERE_V0, tmp_path / "view.vrm", shift)
    with pytest.raises(VrmError, match="view.vrm: bufferView 0 points past buffer 0"):
        load_vrm(path)


def test_bin_chunk_shorter_than_the_buffer(tmp_path):
    doc, binary = split_glb(_sphere_bytes())
    (tmp_path / "short.vrm").write_bytes(make_glb(doc, binary[:1000]))
    with pytest.raises(VrmError, match="short.vrm: buffer 0 is truncated: byteLength 124032"):
        load_vrm(tmp_path / "short.vrm")


def test_missing_external_buffer_and_empty_file(tmp_path):
    doc = json.loads(CUBE.read_text())
    (tmp_path / "cube.gltf").write_text(json.dumps(doc))
    with pytest.raises(VrmError, match=r"cube.gltf: buffer 0: cannot read 'cube_mesh.bin'"):
        load_vrm(tmp_path / "cube.gltf")
    (tmp_path / "empty.vrm").write_bytes(b"")
    with pytest.raises(VrmError, match="empty.vrm: the file is empty"):
        load_vrm(tmp_path / "empty.vrm")


def test_bad_references_are_named(tmp_path):
    def cycle(doc):
        doc["nodes"][7]["children"] = [2]  # head -> hips: a loop

    path = edited_copy(SPHERE_V0, tmp_path / "cycle.vrm", cycle)
    with pytest.raises(VrmError, match="cycle.vrm: node 2 has two parents"):
        load_vrm(path)

    def bad_index(doc):
        doc["meshes"][0]["primitives"][0]["indices"] = 99

    path = edited_copy(SPHERE_V0, tmp_path / "index.vrm", bad_index)
    with pytest.raises(VrmError, match=r"index.vrm: accessor 99 does not exist \(7 accessors\)"):
        load_vrm(path)


def test_skin_with_too_few_joints(tmp_path):
    def shrink(doc):
        doc["skins"][0]["joints"] = doc["skins"][0]["joints"][:5]
        del doc["skins"][0]["inverseBindMatrices"]

    path = edited_copy(SPHERE_V0, tmp_path / "joints.vrm", shrink)
    with pytest.raises(VrmError, match=r"joints.vrm: mesh 0 primitive 0 uses joint 18 but "
                                       r"skin 0 \(on node 29\) has 5 joints"):
        load_vrm(path)


def test_assets_dir_has_attribution():
    text = (VRM_ASSETS.parent / "ATTRIBUTION.md").read_text()
    for name in EXPECTED_VERSIONS:
        assert name in text
