"""Spring bone physics: hair that hangs, lags, settles and never passes through the body.

The sample files carry no springs, so chains are added to the real robot's JSON
(its left arm becomes a "hair" chain: easy to reason about, straight along +X)
and to a VRM 0.x sample's secondaryAnimation; Mochi, the default avatar, has two
real hair tails with a head sphere and a chest capsule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from avatar.default import default_avatar_path
from avatar.render.pose import Poser
from avatar.render.spring_physics import STEP_S
from avatar.vrm import load_vrm
from tests.avatar.conftest import ROBOT, SHAPEKEY_V0
from tests.avatar.glb import edited_copy

SHOULDER, ELBOW, WRIST = 28, 26, 24  # the robot's upper arm, lower arm, hand (L)


def yaw(degrees: float) -> tuple[float, float, float, float]:
    half = math.radians(degrees) / 2
    return (0.0, math.sin(half), 0.0, math.cos(half))


def robot_arm(tmp_path, *, stiffness=0.0, gravity=1.0, drag=0.4, colliders=(), center=None):
    def add(doc):
        doc["extensionsUsed"].append("VRMC_springBone")
        spring = {"name": "arm", "colliderGroups": [0] if colliders else [],
                  "joints": [{"node": n, "stiffness": stiffness, "gravityPower": gravity,
                              "gravityDir": [0, -1, 0], "dragForce": drag, "hitRadius": 0.02}
                             for n in (SHOULDER, ELBOW, WRIST)]}
        if center is not None:
            spring["center"] = center
        doc["extensions"]["VRMC_springBone"] = {
            "specVersion": "1.0", "colliders": list(colliders),
            "colliderGroups": [{"colliders": list(range(len(colliders)))}] if colliders else [],
            "springs": [spring]}
    return load_vrm(edited_copy(ROBOT, tmp_path / "springy.vrm", add))


def run(poser: Poser, seconds: float, fps: float = 60.0, **kw) -> np.ndarray:
    pose = None
    for _ in range(round(seconds * fps)):
        pose = poser.pose({}, dt=1.0 / fps, **kw)
    assert pose is not None
    return pose.world


def pos(world: np.ndarray, node: int) -> np.ndarray:
    return world[node][:3, 3]


def test_still_picture_is_the_rest_pose(tmp_path):
    poser = Poser(robot_arm(tmp_path))
    pose = poser.pose({})  # dt=None: snapshots and thumbnails stay repeatable
    assert np.allclose(pose.world, poser.rest_world)
    assert {SHOULDER, ELBOW, WRIST} <= pose.changed


def test_a_limp_chain_falls_and_hangs_straight_down_keeping_its_length(tmp_path):
    poser = Poser(robot_arm(tmp_path, stiffness=0.0, gravity=2.0, drag=0.6))
    world = run(poser, 4.0)
    shoulder, elbow, wrist = pos(world, SHOULDER), pos(world, ELBOW), pos(world, WRIST)
    assert np.allclose(shoulder, pos(poser.rest_world, SHOULDER))  # the root joint's head stays put
    assert np.linalg.norm(elbow - shoulder) == pytest.approx(0.25, abs=1e-6)
    assert np.linalg.norm(wrist - elbow) == pytest.approx(0.25, abs=1e-6)
    down = np.array([0.0, -1.0, 0.0])
    assert (elbow - shoulder) / 0.25 @ down > 0.995
    assert (wrist - elbow) / 0.25 @ down > 0.995
    # the hand (not simulated, below the last joint) follows its bone
    assert np.allclose(pos(world, 23), pos(world, WRIST))


def test_a_stiff_chain_holds_its_shape_against_weak_gravity(tmp_path):
    poser = Poser(robot_arm(tmp_path, stiffness=4.0, gravity=0.2))
    world = run(poser, 3.0)
    droop = pos(poser.rest_world, WRIST)[1] - pos(world, WRIST)[1]
    assert 0.0 < droop < 0.1


def test_the_chain_lags_behind_a_turn_then_settles(tmp_path):
    model = robot_arm(tmp_path, stiffness=3.0, gravity=0.0, drag=0.3)
    poser = Poser(model)
    run(poser, 0.5)
    turned = {"chest": yaw(40)}
    world = run(poser, 1 / 60, bone_rotations=turned)
    rigid = Poser(model).pose({}, bone_rotations=turned).world  # where the arm would be if stiff
    lag = np.linalg.norm(pos(world, WRIST) - pos(rigid, WRIST))
    assert lag > 0.05  # the hand trails behind the turning body
    world = run(poser, 4.0, bone_rotations=turned)
    assert np.linalg.norm(pos(world, WRIST) - pos(rigid, WRIST)) < 0.005  # and comes back


def test_the_same_motion_at_30_and_60_fps(tmp_path):
    model = robot_arm(tmp_path, stiffness=1.0, gravity=1.0)
    a, b = Poser(model), Poser(model)
    for _ in range(60):
        wa = a.pose({}, dt=1 / 30, bone_rotations={"chest": yaw(25)})
    for _ in range(120):
        wb = b.pose({}, dt=1 / 60, bone_rotations={"chest": yaw(25)})
    assert np.allclose(wa.world, wb.world, atol=1e-9)


def test_a_long_stall_does_not_fling_the_hair(tmp_path):
    poser = Poser(robot_arm(tmp_path, stiffness=1.0, gravity=1.0))
    run(poser, 1.0)
    world = poser.pose({}, dt=0.3, bone_rotations={"chest": yaw(60)}).world  # a 300 ms hitch
    assert np.linalg.norm(pos(world, ELBOW) - pos(world, SHOULDER)) == pytest.approx(0.25, abs=1e-6)
    assert poser.springs._pending < STEP_S  # at most a few steps were taken, the rest dropped
    world = poser.pose({}, dt=5.0).world  # back after minutes hidden: starts from rest
    assert np.allclose(pos(world, WRIST), pos(poser.rest_world, WRIST))


def test_a_sphere_collider_stops_the_falling_chain(tmp_path):
    chest = 55  # the robot's chest node sits at (0, 1.125, 0)
    ball = np.array([0.2, 1.3, 0.0])
    collider = {"node": chest, "shape": {"sphere": {"offset": list(ball - [0, 1.125, 0]), "radius": 0.1}}}
    free = run(Poser(robot_arm(tmp_path, stiffness=0.0, gravity=2.0, drag=0.6)), 3.0)
    blocked_poser = Poser(robot_arm(tmp_path, stiffness=0.0, gravity=2.0, drag=0.6, colliders=[collider]))
    for _ in range(180):
        world = blocked_poser.pose({}, dt=1 / 60).world
        for node in (ELBOW, WRIST):  # never inside the ball (radius plus the joint's hit radius)
            assert np.linalg.norm(pos(world, node) - ball) >= 0.12 - 1e-6
    assert pos(world, ELBOW)[1] > pos(free, ELBOW)[1] + 0.05  # the arm rests on the ball


def test_a_capsule_collider_stops_the_chain(tmp_path):
    chest = 55
    capsule = {"node": chest, "shape": {"capsule": {"offset": [0.2, 0.2, -0.2], "radius": 0.06,
                                                    "tail": [0.2, 0.2, 0.2]}}}
    poser = Poser(robot_arm(tmp_path, stiffness=0.0, gravity=2.0, drag=0.6, colliders=[capsule]))
    for _ in range(180):
        world = poser.pose({}, dt=1 / 60).world
        elbow = pos(world, ELBOW)
        axis_point = np.array([0.2, 1.325, np.clip(elbow[2], -0.2, 0.2)])
        assert np.linalg.norm(elbow - axis_point) >= 0.08 - 1e-4


def test_center_space_carries_the_chain_with_its_center(tmp_path):
    hips = 73
    turned = {"hips": yaw(50)}
    lags = []
    for center in (None, hips):
        model = robot_arm(tmp_path, stiffness=2.0, gravity=0.0, drag=0.3, center=center)
        poser = Poser(model)
        run(poser, 0.5)
        world = run(poser, 2 / 60, bone_rotations=turned)
        rigid = Poser(model).pose({}, bone_rotations=turned).world
        lags.append(np.linalg.norm(pos(world, WRIST) - pos(rigid, WRIST)))
    no_center, with_center = lags
    assert no_center > 0.05
    assert with_center < no_center / 10  # the whole body turning does not whip the chain


def test_vrm0_chain_swings_its_last_joint_too(tmp_path):
    def add(doc):
        doc["extensions"]["VRM"]["secondaryAnimation"] = {
            "boneGroups": [{"bones": [target], "stiffiness": 0.0, "gravityPower": 2.0,
                            "gravityDir": {"x": 0, "y": -1, "z": 0}, "dragForce": 0.6,
                            "hitRadius": 0.02, "center": -1, "colliderGroups": []}],
            "colliderGroups": []}

    base = load_vrm(SHAPEKEY_V0)
    target = base.humanoid["leftUpperArm"]
    model = load_vrm(edited_copy(SHAPEKEY_V0, tmp_path / "v0.vrm", add))
    poser = Poser(model)
    (spring,) = [s for s in model.spring_bones.springs if s.joints[0].node == target]
    last = spring.joints[-1].node
    simulated = {int(n) for lv in poser.springs.levels for n in lv.nodes}
    assert last in simulated  # 0.x: the last joint swings towards a virtual tail
    world = run(poser, 3.0)
    start = pos(world, target)
    arm = pos(world, spring.joints[1].node) - start
    assert arm[1] < -0.9 * np.linalg.norm(arm)  # hanging down in stage space, despite the -Z facing


def test_mochi_hair_sways_with_the_head_and_rests_outside_her_head():
    model = load_vrm(default_avatar_path())
    poser = Poser(model)
    tips = [s.joints[-1].node for s in model.spring_bones.springs]
    assert len(tips) == 2
    still = run(poser, 3.0)
    moving = run(poser, 0.2, bone_rotations={"head": yaw(25), "neck": yaw(10)})
    assert max(np.linalg.norm(pos(moving, t) - pos(still, t)) for t in tips) > 0.02
    head = model.humanoid["head"]
    centre = pos(run(poser, 3.0), head) + [0, 0.13, 0]
    world = run(poser, 0.1)
    for spring in model.spring_bones.springs:
        for j in spring.joints[1:]:
            assert np.linalg.norm(pos(world, j.node) - centre) >= 0.16 + 0.03 - 1e-3
