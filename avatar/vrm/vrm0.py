"""VRM 0.x (the `VRM` extension), mapped onto the VRM 1.0 shapes of `VrmModel`.

What changes on the way: bone and expression names become 1.0 names, blend
shape binds move from meshes to the nodes that use them, MToon properties turn
into 1.0 MToon parameters, Unity-space vectors get their Z negated, and the
model keeps facing -Z (`forward_z = -1`): 0.x avatars look down -Z, 1.0 ones +Z.
"""

from __future__ import annotations

from avatar.vrm.expressions import expressions_from_vrm0
from avatar.vrm.gltf import GltfDocument
from avatar.vrm.humanoid import humanoid_from_vrm0
from avatar.vrm.model import FirstPerson, LookAt, Material, Meta, RangeMap, VrmModel
from avatar.vrm.mtoon import apply_vrm0_material
from avatar.vrm.springs import springs_from_vrm0

_FLAGS = {"auto": "auto", "both": "both", "thirdpersononly": "thirdPersonOnly",
          "firstpersononly": "firstPersonOnly"}
_USERS = {"onlyauthor": "onlyAuthor", "explicitlylicensedperson": "onlySeparatelyLicensedPerson",
          "everyone": "everyone"}
_RANGE_MAPS = {
    "horizontal_inner": "lookAtHorizontalInner",
    "horizontal_outer": "lookAtHorizontalOuter",
    "vertical_down": "lookAtVerticalDown",
    "vertical_up": "lookAtVerticalUp",
}


def load_vrm0(doc: GltfDocument) -> VrmModel:
    ext = doc.extensions["VRM"]
    notes: list[str] = []
    n_nodes = len(doc.nodes)
    materials = materials_from_vrm0(doc.materials, ext.get("materialProperties") or [], notes)
    fp = ext.get("firstPerson") or {}
    return doc.to_model(
        "0.x",
        spec_version=str(ext.get("specVersion", "0.0")),
        meta=meta_from_vrm0(ext.get("meta") or {}, doc),
        materials=materials,
        humanoid=humanoid_from_vrm0((ext.get("humanoid") or {}).get("humanBones"), n_nodes, notes),
        expressions=expressions_from_vrm0(
            ext.get("blendShapeMaster") or {}, doc.nodes, doc.meshes, materials, notes
        ),
        look_at=look_at_from_vrm0(fp),
        first_person=first_person_from_vrm0(fp, doc, notes),
        spring_bones=springs_from_vrm0(ext.get("secondaryAnimation") or {}, doc.nodes, notes),
        forward_z=-1.0,
        notes=notes,
    )


def materials_from_vrm0(
    materials: list[Material], props: list[dict], notes: list[str]
) -> list[Material]:
    """Pair each glTF material with its materialProperties entry (by index, as
    UniVRM writes them; by name when the lists do not line up)."""
    by_name = {p.get("name"): p for p in props if isinstance(p, dict)}
    out = []
    for i, mat in enumerate(materials):
        entry = props[i] if len(props) == len(materials) else by_name.get(mat.name)
        if not isinstance(entry, dict):
            out.append(mat)
            continue
        shader = entry.get("shader", "")
        if shader not in ("VRM/MToon", "VRM_USE_GLTFSHADER") and not shader.startswith("VRM/Unlit"):
            notes.append(f"material {i} uses shader {shader!r}; its glTF material is used")
        out.append(apply_vrm0_material(mat, entry))
    return out


def meta_from_vrm0(m: dict, doc: GltfDocument) -> Meta:
    """0.x meta. Its licence is a name (CC0, CC_BY, ..., Other) rather than 1.0's
    permission list, so the 1.0-only fields stay None."""
    texture = m.get("texture")
    thumbnail = None
    if isinstance(texture, int) and 0 <= texture < len(doc.textures):
        thumbnail = doc.textures[texture].source
    author = m.get("author")
    reference = m.get("reference")
    return Meta(
        name=str(m.get("title", "")),
        version=m.get("version"),
        authors=(str(author),) if author else (),
        contact_information=m.get("contactInformation"),
        references=(str(reference),) if reference else (),
        thumbnail_image=thumbnail,
        license_name=m.get("licenseName"),
        other_license_url=m.get("otherLicenseUrl") or None,
        avatar_permission=_USERS.get(str(m.get("allowedUserName", "")).lower()),
        allow_excessively_violent_usage=_allow(m.get("violentUssageName")),
        allow_excessively_sexual_usage=_allow(m.get("sexualUssageName")),
        commercial_usage={True: "corporation", False: "personalNonProfit", None: None}[
            _allow(m.get("commercialUssageName"))
        ],
        raw=m,
    )


def look_at_from_vrm0(fp: dict) -> LookAt:
    """0.x degree maps: xRange is the input limit, yRange the output; the curve
    shape is not kept (1.0 maps linearly)."""
    kind = "expression" if str(fp.get("lookAtTypeName", "Bone")).lower() == "blendshape" else "bone"
    maps = {}
    for field_name, key in _RANGE_MAPS.items():
        dm = fp.get(key) if isinstance(fp.get(key), dict) else {}
        maps[field_name] = RangeMap(float(dm.get("xRange", 90.0)),
                                    float(dm.get("yRange", 1.0 if kind == "expression" else 10.0)))
    return LookAt(
        type=kind, offset_from_head_bone=_unity_offset(fp), **maps  # type: ignore[arg-type]
    )


def first_person_from_vrm0(fp: dict, doc: GltfDocument, notes: list[str]) -> FirstPerson:
    annotations = {}
    for a in fp.get("meshAnnotations", []):
        flag = _FLAGS.get(str(a.get("firstPersonFlag", "")).lower())
        users = [n.index for n in doc.nodes if n.mesh is not None and n.mesh == a.get("mesh")]
        if flag is None or not users:
            notes.append(f"first-person annotation {a!r} ignored")
        for node in users:
            annotations[node] = flag
    bone = fp.get("firstPersonBone")
    return FirstPerson(
        annotations={k: v for k, v in annotations.items() if v},
        first_person_bone=bone if isinstance(bone, int) and 0 <= bone < len(doc.nodes) else None,
        first_person_bone_offset=_unity_offset(fp),
    )


def _unity_offset(fp: dict) -> tuple[float, float, float]:
    o = fp.get("firstPersonBoneOffset")
    if not isinstance(o, dict):
        return (0.0, 0.06, 0.0)
    return (float(o.get("x", 0.0)), float(o.get("y", 0.0)), -float(o.get("z", 0.0)))


def _allow(value: object) -> bool | None:
    text = str(value).lower() if value is not None else ""
    return {"allow": True, "disallow": False}.get(text)
