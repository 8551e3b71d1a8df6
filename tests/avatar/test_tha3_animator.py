"""The THA3 animator without torch: the 45-value layout, the clamped pose, and how vtbot's
mouth weights, blinks, emotions, gaze, sway and breathing become THA3 pose values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avatar.life import IdleLife, LifeFrame, mouth_energy, quat_from_euler
from avatar.lipsync.visemes import VISEMES, VRM_SHAPES, vrm_weights
from avatar.tha3.animator import (MOUTH_PARAMETERS, Tha3Animator, Tha3AnimatorSettings,
                                  euler_from_quat)
from avatar.tha3.emotions import (SHIPPED_DIR, EmotionTemplateError, load_emotions,
                                  load_template)
from avatar.tha3.pose import (PARAMETER_NAMES, PARAMETERS, POSE_SIZE, Tha3Pose, in_category,
                              resolve)

ROOT = Path(__file__).resolve().parents[2]

# Read from the reference, tha3 0.1.9 (tha3/poser/modes/pose_parameters.py): its groups in
# order, two-sided ones expanded to _left, _right; its poser slices 0-11 (eyebrows),
# 12-38 (face) and 39-44 (rotation); the iris and head/neck/body rotations range -1..1.
REFERENCE_NAMES = [
    "eyebrow_troubled_left", "eyebrow_troubled_right",
    "eyebrow_angry_left", "eyebrow_angry_right",
    "eyebrow_lowered_left", "eyebrow_lowered_right",
    "eyebrow_raised_left", "eyebrow_raised_right",
    "eyebrow_happy_left", "eyebrow_happy_right",
    "eyebrow_serious_left", "eyebrow_serious_right",
    "eye_wink_left", "eye_wink_right",
    "eye_happy_wink_left", "eye_happy_wink_right",
    "eye_surprised_left", "eye_surprised_right",
    "eye_relaxed_left", "eye_relaxed_right",
    "eye_unimpressed_left", "eye_unimpressed_right",
    "eye_raised_lower_eyelid_left", "eye_raised_lower_eyelid_right",
    "iris_small_left", "iris_small_right",
    "mouth_aaa", "mouth_iii", "mouth_uuu", "mouth_eee", "mouth_ooo", "mouth_delta",
    "mouth_lowered_corner_left", "mouth_lowered_corner_right",
    "mouth_raised_corner_left", "mouth_raised_corner_right",
    "mouth_smirk",
    "iris_rotation_x", "iris_rotation_y",
    "head_x", "head_y", "neck_z",
    "body_y", "body_z",
    "breathing",
]
SIGNED = {"iris_rotation_x", "iris_rotation_y", "head_x", "head_y", "neck_z", "body_y", "body_z"}
SILENT = {shape: 0.0 for shape in VRM_SHAPES}
EMOTIONS = ("happy", "angry", "sad", "relaxed", "surprised")


def still(expressions: dict[str, float] | None = None, look_at=(0.0, 0.0), bones=None) -> LifeFrame:
    """A life frame with no motion unless asked."""
    return LifeFrame({"blink": 0.0, **(expressions or {})}, bones or {}, look_at)


@pytest.fixture(scope="module")
def animator() -> Tha3Animator:
    return Tha3Animator()


def write(folder: Path, name: str, content: object) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


# -- layout and pose ---------------------------------------------------------------------


def test_layout_is_the_references():
    assert POSE_SIZE == 45 and len(PARAMETERS) == 45
    assert list(PARAMETER_NAMES) == REFERENCE_NAMES
    for i, p in enumerate(PARAMETERS):
        assert p.index == i
        assert p.range == ((-1.0, 1.0) if p.name in SIGNED else (0.0, 1.0))
    assert [p.index for p in PARAMETERS if p.category == "eyebrow"] == list(range(0, 12))
    assert list(in_category("face_rotation", "body_rotation", "breathing")) == list(range(39, 45))
    assert list(in_category("eye", "iris_morph", "iris_rotation", "mouth")) == list(range(12, 39))
    assert [p.name for p in resolve("eye_wink")] == ["eye_wink_left", "eye_wink_right"]
    assert [p.name for p in resolve("mouth_aaa")] == ["mouth_aaa"]


def test_pose_is_clamped_to_its_ranges():
    pose = Tha3Pose()
    assert pose.values.dtype == np.float32 and pose.values.shape == (45,)
    assert not pose.values.any()  # rest: a closed mouth, the image as drawn
    pose["mouth_aaa"] = 3.0
    pose["head_y"] = -7.0
    pose["eye_wink"] = 0.5  # a group sets both sides
    pose.add("breathing", -2.0)
    assert pose["mouth_aaa"] == 1.0 and pose["head_y"] == -1.0 and pose["breathing"] == 0.0
    assert pose["eye_wink_left"] == pose["eye_wink_right"] == 0.5
    wild = Tha3Pose(np.linspace(-5, 5, 45))
    assert np.all(wild.values >= [p.low for p in PARAMETERS])
    assert np.all(wild.values <= [p.high for p in PARAMETERS])
    assert np.asarray(wild).shape == (45,)
    assert Tha3Pose.from_dict({"eyebrow_happy": 1.0}).as_dict(nonzero=True) == {
        "eyebrow_happy_left": 1.0, "eyebrow_happy_right": 1.0}
    with pytest.raises(ValueError, match="45"):
        Tha3Pose(np.zeros(44))
    with pytest.raises(ValueError, match="finite"):
        Tha3Pose(np.full(45, np.nan))
    with pytest.raises(KeyError):
        pose["mouth_aa"] = 1.0


# -- mouth -------------------------------------------------------------------------------


def mouth_values(pose: Tha3Pose) -> dict[str, float]:
    return {shape: pose[MOUTH_PARAMETERS[shape]] for shape in VRM_SHAPES}


def test_aa_opens_the_mouth_and_silence_closes_it(animator):
    open_ = animator.pose(still(), dict(SILENT, aa=1.0))
    assert open_["mouth_aaa"] == 1.0
    assert sum(mouth_values(open_).values()) == 1.0
    closed = animator.pose(still(), SILENT)
    assert not any(mouth_values(closed).values())
    assert animator.pose(still(), {}) == closed  # no weights at all: closed too


@pytest.mark.parametrize("viseme", VISEMES)
def test_every_viseme_drives_its_vrm_shapes(animator, viseme):
    weights = vrm_weights(viseme)
    got = mouth_values(animator.pose(still(), weights))
    assert got == pytest.approx(weights, abs=1e-6)


def test_the_mouth_never_exceeds_a_full_opening(animator):
    pose = animator.pose(still(), {shape: 1.0 for shape in VRM_SHAPES})
    assert sum(mouth_values(pose).values()) == pytest.approx(1.0, abs=1e-6)
    pose = animator.pose(still({"surprised": 1.0}), dict(SILENT, aa=1.0))
    assert sum(mouth_values(pose).values()) <= 1.0 + 1e-6


def test_speech_takes_the_mouth_from_the_emotion(animator):
    surprised = animator.templates["surprised"]
    assert surprised.value("mouth_ooo") > 0  # the shipped surprise opens its mouth
    quiet = animator.pose(still({"surprised": 1.0}), SILENT)
    assert quiet["mouth_ooo"] == pytest.approx(surprised.value("mouth_ooo"))
    talking = animator.pose(still({"surprised": 1.0}), dict(SILENT, ee=0.85, aa=0.1))
    assert talking["mouth_ooo"] == 0.0
    assert talking["mouth_eee"] == pytest.approx(0.85)
    assert talking["mouth_aaa"] == pytest.approx(0.1)
    happy = animator.pose(still({"happy": 1.0}), dict(SILENT, aa=1.0))
    assert happy["mouth_raised_corner"] == 1.0  # a smile while talking stays


# -- eyes --------------------------------------------------------------------------------


def closure(pose: Tha3Pose, side: str) -> float:
    return sum(pose[f"{g}_{side}"] for g in ("eye_wink", "eye_happy_wink", "eye_relaxed"))


def test_a_blink_closes_both_eyes(animator):
    pose = animator.pose(still({"blink": 1.0}), SILENT)
    assert pose["eye_wink_left"] == 1.0 and pose["eye_wink_right"] == 1.0
    half = animator.pose(still({"blink": 0.5}), SILENT)
    assert half["eye_wink_left"] == half["eye_wink_right"] == 0.5
    for emotion in EMOTIONS:
        shut = animator.pose(still({"blink": 1.0, emotion: 1.0}), SILENT)
        for side in ("left", "right"):
            assert closure(shut, side) == pytest.approx(1.0, abs=1e-6), emotion
            assert shut[f"eye_surprised_{side}"] == 0.0
    happy = animator.pose(still({"blink": 1.0, "happy": 1.0}), SILENT)
    assert happy["eye_happy_wink"] == 1.0  # happy eyes close into arcs, not a plain blink


# -- emotions ----------------------------------------------------------------------------


def test_shipped_templates_cover_vtbots_expressions(animator):
    from events.rules import EXPRESSIONS

    assert set(EXPRESSIONS) <= set(animator.templates)
    assert not animator.templates["neutral"].values.any()  # the image as drawn
    assert animator.pose(still(), SILENT) == Tha3Pose()


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_an_emotion_shows_its_template(animator, emotion):
    template = animator.templates[emotion]
    assert template.set_values()  # every shipped emotion changes the face
    pose = animator.pose(still({emotion: 1.0}), SILENT)
    np.testing.assert_allclose(pose.values, template.values, atol=1e-6)


def test_happy_raises_the_happy_brows_and_eyes(animator):
    pose = animator.pose(still({"happy": 1.0}), SILENT)
    assert pose["eyebrow_happy"] == 1.0 and pose["eye_happy_wink"] > 0.5
    assert pose["mouth_raised_corner"] == 1.0
    assert pose["eyebrow_angry"] == 0.0 and pose["mouth_lowered_corner"] == 0.0


def test_blending_is_proportional_to_weight(animator):
    happy = animator.templates["happy"].values
    angry = animator.templates["angry"].values
    for w in (0.25, 0.5, 0.8):
        pose = animator.pose(still({"happy": w}), SILENT)
        np.testing.assert_allclose(pose.values, w * happy, atol=1e-6)
    mixed = animator.pose(still({"happy": 0.3, "angry": 0.6}), SILENT)
    np.testing.assert_allclose(mixed.values, 0.3 * happy + 0.6 * angry, atol=1e-6)
    # more than 1 in all: shares of one face
    both = animator.pose(still({"happy": 1.0, "angry": 1.0}), SILENT)
    np.testing.assert_allclose(both.values, 0.5 * happy + 0.5 * angry, atol=1e-6)
    # an expression without a template (a VRM-only one) changes nothing
    assert animator.pose(still({"wave": 1.0}), SILENT) == Tha3Pose()


def test_neutral_is_the_resting_face_and_dilutes_emotions(tmp_path):
    write(tmp_path, "neutral.json", {"pose": {"mouth_raised_corner": 0.4}})
    animator = Tha3Animator(emotions_dir=tmp_path)
    assert animator.pose(still(), SILENT)["mouth_raised_corner"] == pytest.approx(0.4)
    happy = animator.templates["happy"].value("mouth_raised_corner")
    half = animator.pose(still({"happy": 0.5}), SILENT)
    assert half["mouth_raised_corner"] == pytest.approx(0.5 * happy + 0.5 * 0.4)
    damped = animator.pose(still({"happy": 1.0, "neutral": 1.0}), SILENT)
    assert damped["eyebrow_happy"] == pytest.approx(0.5)


def test_user_templates_override_shipped_ones_by_name(tmp_path):
    write(tmp_path, "happy.json", {"description": "mine", "pose": {
        "eyebrow_raised": 0.6, "eye_happy_wink": 1.0, "eye_happy_wink_right": 0.2}})
    write(tmp_path, "smug.json", {"pose": {"mouth_smirk": 1.0, "eye_unimpressed": 0.5}})
    (tmp_path / "README.txt").write_text("not a template")
    animator = Tha3Animator(emotions_dir=str(tmp_path))
    assert animator.templates["happy"].source == tmp_path / "happy.json"
    assert animator.templates["sad"].source == SHIPPED_DIR / "sad.json"  # the rest stay
    pose = animator.pose(still({"happy": 1.0}), SILENT)
    assert pose["eyebrow_raised"] == pytest.approx(0.6) and pose["eyebrow_happy"] == 0.0
    # a side named on its own wins over its group
    assert pose["eye_happy_wink_left"] == 1.0 and pose["eye_happy_wink_right"] == pytest.approx(0.2)
    smug = animator.pose(still({"smug": 1.0}), SILENT)
    assert smug["mouth_smirk"] == 1.0
    assert load_emotions()["happy"].source == SHIPPED_DIR / "happy.json"  # nothing leaked


BAD = [
    ("happy.json", '{"pose": {"eyebrow_happy": 1.0,}}', "(json)", "not valid JSON"),
    ("happy.json", "[1, 2]", "(json)", "one JSON object"),
    ("happy.json", {"pose": {}, "poses": {}}, "poses", "unknown key"),
    ("happy.json", {"description": "no pose"}, "pose", "missing"),
    ("happy.json", {"pose": [1.0]}, "pose", "must be an object"),
    ("happy.json", {"description": 3, "pose": {}}, "description", "must be a string"),
    ("happy.json", {"pose": {"eyebrow_hapy": 1.0}}, "pose.eyebrow_hapy",
     "did you mean 'eyebrow_happy'"),
    ("happy.json", {"pose": {"mouth_aaa": 1.5}}, "pose.mouth_aaa",
     "out of range: mouth_aaa takes 0 to 1"),
    ("happy.json", {"pose": {"head_x": -2}}, "pose.head_x", "out of range: head_x takes -1 to 1"),
    ("happy.json", {"pose": {"eye_wink_left": "1"}}, "pose.eye_wink_left", "must be a number"),
    ("happy.json", {"pose": {"eye_wink_left": True}}, "pose.eye_wink_left", "must be a number"),
    ("happy.json", {"pose": {"breathing": 0.5}}, "pose.breathing", "not allowed"),
    ("Happy.json", {"pose": {}}, "(file name)", "not an expression name"),
    ("blink.json", {"pose": {}}, "(file name)", "reserved"),
    ("aa.json", {"pose": {}}, "(file name)", "reserved"),
]


@pytest.mark.parametrize("name,content,key,reason", BAD, ids=[f"{k}:{r}" for _, _, k, r in BAD])
def test_bad_templates_name_file_key_and_reason(tmp_path, name, content, key, reason):
    path = write(tmp_path, name, content)
    with pytest.raises(EmotionTemplateError) as err:
        Tha3Animator(emotions_dir=tmp_path)
    assert err.value.file == path and err.value.key == key
    assert reason in err.value.reason
    assert str(err.value).startswith(f"{path}: {key}: ")
    with pytest.raises(EmotionTemplateError):
        load_template(path)


def test_a_missing_template_folder_is_named(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(EmotionTemplateError, match="no such folder") as err:
        Tha3Animator(emotions_dir=missing)
    assert err.value.file == missing


def test_bad_json_says_where(tmp_path):
    write(tmp_path, "sad.json", '{\n  "pose": {\n    "eyebrow_troubled" 1.0\n  }\n}')
    with pytest.raises(EmotionTemplateError, match="line 3"):
        load_emotions(tmp_path)


# -- gaze, sway, breathing ---------------------------------------------------------------


def test_gaze_turns_the_irises_the_right_way(animator):
    # THA3 (seen on the reference's frames): iris_rotation_y > 0 looks to the character's
    # right, iris_rotation_x > 0 looks up; vtbot: yaw > 0 to the avatar's left, pitch > 0 down.
    left = animator.pose(still(look_at=(7.0, 0.0)), SILENT)
    assert left["iris_rotation_y"] == pytest.approx(-7.0 / 20.0) and left["iris_rotation_x"] == 0.0
    down = animator.pose(still(look_at=(0.0, 4.0)), SILENT)
    assert down["iris_rotation_x"] == pytest.approx(-4.0 / 15.0) and down["iris_rotation_y"] == 0.0
    far = animator.pose(still(look_at=(-80.0, -80.0)), SILENT)
    assert far["iris_rotation_y"] == 1.0 and far["iris_rotation_x"] == 1.0


def test_euler_angles_invert_lifes_quaternions():
    for angles in [(10.0, 0.0, 0.0), (0.0, -12.0, 0.0), (0.0, 0.0, 5.0), (3.0, -7.0, 2.5)]:
        assert euler_from_quat(quat_from_euler(*angles)) == pytest.approx(angles, abs=1e-9)


def test_head_and_body_sway_map_into_range(animator):
    s = Tha3AnimatorSettings()

    def posed(bone: str, pitch: float, yaw: float, roll: float) -> Tha3Pose:
        return animator.pose(still(bones={bone: quat_from_euler(pitch, yaw, roll)}), SILENT)

    # THA3 (seen on the reference's frames): head_x > 0 looks up, head_y and body_y > 0 turn
    # to the character's right, neck_z and body_z > 0 tilt counter-clockwise as seen.
    # vtbot: pitch > 0 nods down, yaw > 0 turns to the avatar's left, roll > 0 raises
    # its left side (counter-clockwise as seen).
    assert posed("head", 5.0, 0.0, 0.0)["head_x"] == pytest.approx(-5.0 / s.head_pitch_deg)
    assert posed("neck", 0.0, 4.0, 0.0)["head_y"] == pytest.approx(-4.0 / s.head_yaw_deg)
    assert posed("head", 0.0, 0.0, 3.0)["neck_z"] == pytest.approx(3.0 / s.neck_roll_deg)
    assert posed("spine", 0.0, 2.0, 0.0)["body_y"] == pytest.approx(-2.0 / s.body_yaw_deg)
    assert posed("spine", 0.0, 0.0, -1.0)["body_z"] == pytest.approx(-1.0 / s.body_roll_deg)
    # neck and head add up; a chest pitch (a breath) does not turn the body
    bones = {"neck": quat_from_euler(2.0, 2.0, 1.0), "head": quat_from_euler(3.0, 3.0, 1.5),
             "spine": quat_from_euler(0.0, 2.0, 1.0), "chest": quat_from_euler(-1.2, 0.0, 0.0)}
    pose = animator.pose(still(bones=bones), SILENT)
    assert pose["head_x"] == pytest.approx(-5.0 / s.head_pitch_deg, abs=0.02)
    assert pose["head_y"] == pytest.approx(-5.0 / s.head_yaw_deg, abs=0.02)
    assert pose["neck_z"] == pytest.approx(2.5 / s.neck_roll_deg, abs=0.02)
    assert pose["body_y"] == pytest.approx(-2.0 / s.body_yaw_deg, abs=0.02)
    assert pose["body_z"] == pytest.approx(1.0 / s.body_roll_deg, abs=0.02)
    rng = np.random.default_rng(3)
    for _ in range(200):  # any rotation at all, however large: never out of range
        q = rng.normal(size=4)
        wild = {b: tuple(q / np.linalg.norm(q)) for b in ("neck", "head", "spine", "chest")}
        gaze = (rng.normal() * 90, rng.normal() * 90)
        v = animator.pose(still({"sad": 1.0}, gaze, wild), SILENT).values
        assert np.all(v >= [p.low for p in PARAMETERS])
        assert np.all(v <= [p.high for p in PARAMETERS])


def test_breathing_follows_the_chest(animator):
    exhaled = animator.pose(still(bones={"chest": quat_from_euler(0.0, 0.0, 0.0)}), SILENT)
    inhaled = animator.pose(still(bones={"chest": quat_from_euler(-1.2, 0.0, 0.0)}), SILENT)
    assert exhaled["breathing"] == 0.0 and inhaled["breathing"] == pytest.approx(1.0)


# -- a real idle life --------------------------------------------------------------------


def speech(t: float) -> dict[str, float]:
    """A syllable every 0.2 s for the first 5 s, then silence."""
    if t >= 5.0:
        return dict(SILENT)
    k = int(t / 0.2)
    return vrm_weights(("aa", "PP", "E", "ih", "oh", "ou", "SS")[k % 7])


def test_ten_seconds_of_idle_life_stay_in_range_and_move(animator):
    life = IdleLife(seed=11)
    life.express("happy", 1.0, now=1.0, hold_s=2.0)
    life.express("surprised", 0.7, now=6.0, hold_s=1.5)
    fps = 30
    poses = []
    for i in range(10 * fps):
        t = i / fps
        mouth = speech(t)
        pose = animator.pose(life.frame(t, mouth_energy(mouth)), mouth)
        assert pose.values.dtype == np.float32 and pose.values.shape == (45,)
        assert np.all(np.isfinite(pose.values))
        poses.append(pose.values.copy())
    v = np.array(poses)
    low = np.array([p.low for p in PARAMETERS])
    high = np.array([p.high for p in PARAMETERS])
    assert np.all(v >= low) and np.all(v <= high)
    vowels = v[:, [PARAMETER_NAMES.index(MOUTH_PARAMETERS[s]) for s in VRM_SHAPES]]
    assert vowels.sum(axis=1).max() <= 1.0 + 1e-6
    assert vowels[: 5 * fps].max() > 0.8  # speaking opens the mouth

    def column(name: str) -> np.ndarray:
        return v[:, resolve(name)[0].index]  # a group: its left side

    shut = column("eye_wink_left") + column("eye_happy_wink_left") + column("eye_relaxed_left")
    assert np.sum(np.diff((shut > 0.95).astype(int)) == 1) >= 1  # at least one blink in 10 s
    assert (shut > 0.05).mean() < 0.5  # the eyes are mostly open (happy narrows them a while)
    breath = column("breathing")
    assert breath.max() - breath.min() > 0.8  # a breath every 4.2 s: in and out
    assert np.sum(np.diff(np.sign(breath - 0.5)) != 0) >= 3
    assert column("eyebrow_happy").max() == pytest.approx(1.0)  # the emotion came and went
    assert column("eyebrow_happy")[-1] == 0.0 and column("eyebrow_raised").max() > 0.5
    for name in ("head_x", "head_y", "neck_z", "body_y", "body_z", "iris_rotation_y"):
        assert np.ptp(column(name)) > 0.02, name  # alive, not frozen
        assert np.abs(column(name)).max() < 0.9, name  # and never near the stops while idling


def test_the_modules_import_without_torch():
    code = ("import sys; import avatar.tha3.pose, avatar.tha3.animator, avatar.tha3.emotions; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
