"""VRM 1.0 (the `VRMC_vrm` extension and its companions) on top of a glTF document."""

from __future__ import annotations

from avatar.vrm.expressions import expressions_from_vrm1
from avatar.vrm.gltf import GltfDocument
from avatar.vrm.humanoid import humanoid_from_vrm1
from avatar.vrm.model import FirstPerson, LookAt, Meta, RangeMap, SpringBones, VrmModel
from avatar.vrm.mtoon import apply_vrm1_mtoon
from avatar.vrm.springs import springs_from_vrm1

_FLAGS = ("auto", "both", "thirdPersonOnly", "firstPersonOnly")
_RANGE_MAPS = {
    "horizontal_inner": "rangeMapHorizontalInner",
    "horizontal_outer": "rangeMapHorizontalOuter",
    "vertical_down": "rangeMapVerticalDown",
    "vertical_up": "rangeMapVerticalUp",
}


def load_vrm1(doc: GltfDocument) -> VrmModel:
    ext = doc.extensions["VRMC_vrm"]
    notes: list[str] = []
    spec = str(ext.get("specVersion", ""))
    if not spec.startswith("1."):
        notes.append(f"VRMC_vrm specVersion is {spec!r}; read as 1.0")
    n_nodes = len(doc.nodes)
    spring_ext = doc.extensions.get("VRMC_springBone")
    if "VRMC_node_constraint" in doc.json.get("extensionsUsed", []):
        notes.append("VRMC_node_constraint is not read: constrained nodes keep their rest pose")
    springs = (
        springs_from_vrm1(spring_ext, n_nodes, notes)
        if isinstance(spring_ext, dict) else SpringBones()
    )
    return doc.to_model(
        "1.0",
        spec_version=spec or None,
        meta=meta_from_vrm1(ext.get("meta") or {}),
        materials=apply_vrm1_mtoon(doc.materials, doc.json.get("materials", [])),
        humanoid=humanoid_from_vrm1((ext.get("humanoid") or {}).get("humanBones"), n_nodes, notes),
        expressions=expressions_from_vrm1(
            ext.get("expressions") or {}, doc.nodes, doc.meshes, len(doc.materials), notes
        ),
        look_at=look_at_from_vrm1(ext.get("lookAt")) if "lookAt" in ext else None,
        first_person=first_person_from_vrm1(ext.get("firstPerson") or {}, n_nodes, notes),
        spring_bones=springs,
        forward_z=1.0,
        notes=notes,
    )


def meta_from_vrm1(m: dict) -> Meta:
    """VRMC_vrm.meta with the schema's defaults for permissions it leaves out."""
    return Meta(
        name=str(m.get("name", "")),
        version=m.get("version"),
        authors=tuple(str(a) for a in m.get("authors", [])),
        copyright_information=m.get("copyrightInformation"),
        contact_information=m.get("contactInformation"),
        references=tuple(str(r) for r in m.get("references", [])),
        third_party_licenses=m.get("thirdPartyLicenses"),
        thumbnail_image=m.get("thumbnailImage"),
        license_url=m.get("licenseUrl"),
        other_license_url=m.get("otherLicenseUrl"),
        avatar_permission=m.get("avatarPermission", "onlyAuthor"),
        allow_excessively_violent_usage=bool(m.get("allowExcessivelyViolentUsage", False)),
        allow_excessively_sexual_usage=bool(m.get("allowExcessivelySexualUsage", False)),
        commercial_usage=m.get("commercialUsage", "personalNonProfit"),
        allow_political_or_religious_usage=bool(m.get("allowPoliticalOrReligiousUsage", False)),
        allow_antisocial_or_hate_usage=bool(m.get("allowAntisocialOrHateUsage", False)),
        credit_notation=m.get("creditNotation", "required"),
        allow_redistribution=bool(m.get("allowRedistribution", False)),
        modification=m.get("modification", "prohibited"),
        raw=m,
    )


def look_at_from_vrm1(raw: object) -> LookAt:
    """VRMC_vrm.lookAt; the spec gives range maps no defaults, so missing ones
    fall back to 90 degrees in, 10 degrees (bone) or full weight (expression) out."""
    la = raw if isinstance(raw, dict) else {}
    kind = "expression" if la.get("type") == "expression" else "bone"
    fallback_scale = 1.0 if kind == "expression" else 10.0
    offset = la.get("offsetFromHeadBone")
    maps = {}
    for field_name, key in _RANGE_MAPS.items():
        rm = la.get(key) if isinstance(la.get(key), dict) else {}
        maps[field_name] = RangeMap(
            float(rm.get("inputMaxValue", 90.0)), float(rm.get("outputScale", fallback_scale))
        )
    return LookAt(
        type=kind,
        offset_from_head_bone=tuple(float(v) for v in offset)  # type: ignore[arg-type]
        if isinstance(offset, list) and len(offset) == 3 else (0.0, 0.06, 0.0),
        **maps,
    )


def first_person_from_vrm1(fp: dict, n_nodes: int, notes: list[str]) -> FirstPerson:
    annotations = {}
    for a in fp.get("meshAnnotations", []):
        node, flag = a.get("node"), a.get("type")
        if not (isinstance(node, int) and 0 <= node < n_nodes) or flag not in _FLAGS:
            notes.append(f"first-person annotation {a!r} ignored")
            continue
        annotations[node] = flag
    return FirstPerson(annotations=annotations)
