"""Spring bones. No sample file has any, so they are added to real models' JSON."""

from __future__ import annotations

import pytest

from avatar.vrm import load_vrm
from avatar.vrm.model import Collider, ColliderGroup, SpringJoint
from avatar.vrm.springs import V0_TAIL_LENGTH
from tests.avatar.conftest import ROBOT, SHAPEKEY_V0
from tests.avatar.glb import edited_copy


def test_vrmc_spring_bone_on_the_robot(tmp_path):
    def add_springs(doc):
        doc["extensionsUsed"].append("VRMC_springBone")
        doc["extensions"]["VRMC_springBone"] = {
            "specVersion": "1.0",
            "colliders": [
                {"node": 5, "shape": {"sphere": {"offset": [0, 0.1, 0], "radius": 0.12}}},
                {"node": 999, "shape": {"sphere": {"radius": 1}}},  # broken: skipped
                {"node": 55, "shape": {"capsule": {"offset": [0, 0, 0], "radius": 0.05,
                                                   "tail": [0, 0.2, 0]}}},
            ],
            "colliderGroups": [{"name": "head", "colliders": [0]},
                               {"name": "body", "colliders": [1, 2]}],
            "springs": [{
                "name": "left arm", "center": 73, "colliderGroups": [0, 1],
                "joints": [
                    {"node": 30, "hitRadius": 0.02, "stiffness": 0.8, "gravityPower": 0.1,
                     "gravityDir": [0, -1, 0], "dragForce": 0.3},
                    {"node": 28, "stiffness": 2.0},
                    {"node": 26},
                ],
            }],
        }

    model = load_vrm(edited_copy(ROBOT, tmp_path / "springy.vrm", add_springs))
    sb = model.spring_bones
    assert sb.colliders == (
        Collider(5, "sphere", (0.0, 0.1, 0.0), 0.12),
        Collider(55, "capsule", (0.0, 0.0, 0.0), 0.05, (0.0, 0.2, 0.0)),
    )
    assert sb.collider_groups == (ColliderGroup("head", (0,)), ColliderGroup("body", (1,)))
    (spring,) = sb.springs
    assert (spring.name, spring.center, spring.collider_groups) == ("left arm", 73, (0, 1))
    assert [j.node for j in spring.joints] == [30, 28, 26]  # shoulder.L -> upper -> lower arm
    assert spring.joints[0] == SpringJoint(30, 0.02, 0.8, 0.1, (0.0, -1.0, 0.0), 0.3)
    assert spring.joints[1] == SpringJoint(28, stiffness=2.0)  # the rest are schema defaults
    assert spring.joints[2] == SpringJoint(26, 0.0, 1.0, 0.0, (0.0, -1.0, 0.0), 0.5)
    assert spring.tail_length == 0.0
    # Each joint is an ancestor of the next, as the spec requires.
    for head, tail in zip(spring.joints, spring.joints[1:]):
        assert model.nodes[tail.node].parent == head.node
    assert any("collider 1" in n for n in model.notes)


def test_vrm0_secondary_animation_becomes_chains(tmp_path):
    def add_secondary(doc):
        doc["extensions"]["VRM"]["secondaryAnimation"] = {
            "boneGroups": [
                {"comment": "body", "stiffiness": 0.7, "gravityPower": 0.2,
                 "gravityDir": {"x": 0, "y": -1, "z": 0.5}, "dragForce": 0.25,
                 "center": -1, "hitRadius": 0.03, "bones": [1], "colliderGroups": [0]},
                {"comment": "again", "stiffiness": 1, "bones": [3], "colliderGroups": []},
            ],
            "colliderGroups": [
                {"node": 5, "colliders": [{"offset": {"x": 0.1, "y": 0.2, "z": 0.3},
                                           "radius": 0.08},
                                          {"offset": {"x": 0, "y": 0, "z": 0}, "radius": 0.02}]},
            ],
        }

    model = load_vrm(edited_copy(SHAPEKEY_V0, tmp_path / "secondary.vrm", add_secondary))
    sb = model.spring_bones
    # hips(1) has children spine(2), upper_leg.L(12), upper_leg.R(15); chest(3) has neck(4)
    # and the arms (6, 9): the first child continues the chain, the others start new ones.
    chains = [[j.node for j in s.joints] for s in sb.springs]
    assert chains == [[1, 2, 3, 4, 5], [12, 13, 14], [15, 16, 17], [6, 7, 8], [9, 10, 11]]
    names = [model.nodes[c[0]].name for c in chains]
    assert names == ["hips", "upper_leg.L", "upper_leg.R", "upper_arm.L", "upper_arm.R"]
    first = sb.springs[0]
    assert first.name == "body" and first.center is None and first.collider_groups == (0,)
    assert first.tail_length == V0_TAIL_LENGTH == 0.07
    joint = first.joints[0]
    assert (joint.stiffness, joint.gravity_power, joint.drag_force, joint.hit_radius) == (
        0.7, 0.2, 0.25, 0.03)
    assert joint.gravity_dir == (0.0, -1.0, -0.5)  # Unity Z flipped into glTF space
    # The second group's root (chest) is already swaying in the first: no joint twice.
    assert len(sb.springs) == 5
    assert sb.colliders == (Collider(5, "sphere", (0.1, 0.2, -0.3), 0.08),
                            Collider(5, "sphere", (0.0, 0.0, 0.0), 0.02))
    assert sb.collider_groups == (ColliderGroup(None, (0, 1)),)
    all_nodes = [n for c in chains for n in c]
    assert len(all_nodes) == len(set(all_nodes))


@pytest.mark.parametrize("path", [ROBOT, SHAPEKEY_V0], ids=["vrm1", "vrm0"])
def test_samples_without_springs_have_none(models, path):
    assert models[path].spring_bones.springs == ()
