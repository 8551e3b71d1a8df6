#!/usr/bin/env python3
"""How setup.sh builds llama-cpp-python for this CPU, and where it keeps the wheel.

llama.cpp's default build is ``-march=native``: the wheel then carries every
instruction the build machine has, and pip's wheel cache hands that wheel to any
later install, on any CPU. On a CPU with AMX, the native build also compiles ggml's
AMX weight-repacking buffer type, which segfaults in ``decode`` on Q4_0/Q4_1 models
(llama.cpp #16315, #20824). So the build names its instruction sets explicitly:
those this CPU has, never AMX; and the wheel is kept in a folder keyed by that set,
so a machine reuses only a wheel built for exactly the instructions it has.

    python3 scripts/llama_build.py cmake-args   # the CMAKE_ARGS for this CPU
    python3 scripts/llama_build.py key          # the wheel folder's key

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable
from pathlib import Path

# ggml's x86 options, each with the /proc/cpuinfo flags it needs (all of them)
X86_OPTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("GGML_SSE42", ("sse4_2",)),
    ("GGML_AVX", ("avx",)),
    ("GGML_F16C", ("f16c",)),
    ("GGML_FMA", ("fma",)),
    ("GGML_BMI2", ("bmi2",)),
    ("GGML_AVX2", ("avx2",)),
    ("GGML_AVX_VNNI", ("avx_vnni",)),
    ("GGML_AVX512", ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")),
    ("GGML_AVX512_VBMI", ("avx512f", "avx512vbmi")),
    ("GGML_AVX512_VNNI", ("avx512f", "avx512_vnni")),
    ("GGML_AVX512_BF16", ("avx512f", "avx512_bf16")),
)
# never built: the AMX buffer type is the crashing repack path
NEVER = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The first processor's feature flags (``flags`` on x86, ``Features`` on Arm)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def x86_options(flags: Iterable[str]) -> list[str]:
    """The ggml options this x86 CPU supports, in a fixed order."""
    have = set(flags)
    return [opt for opt, need in X86_OPTIONS if all(f in have for f in need)]


def cmake_args(flags: Iterable[str], machine: str) -> list[str]:
    """CMake arguments: no -march=native, every instruction set named, AMX off."""
    args = ["-DGGML_NATIVE=OFF", "-DGGML_CPU_ALL_VARIANTS=OFF", "-DGGML_BACKEND_DL=OFF"]
    if machine in ("x86_64", "AMD64", "i686"):
        chosen = set(x86_options(flags))
        args += [f"-D{opt}={'ON' if opt in chosen else 'OFF'}" for opt, _ in X86_OPTIONS]
    args += [f"-D{opt}=OFF" for opt in NEVER]
    return args


def key(flags: Iterable[str], machine: str) -> str:
    """Names the wheel folder: machine, Python, and the exact build arguments."""
    flags = frozenset(flags)
    args = cmake_args(flags, machine)
    if machine not in ("x86_64", "AMD64", "i686"):
        # a non-x86 build keeps ggml's baseline; still keep wheels apart by CPU features
        args = args + sorted(flags)
    digest = hashlib.sha256(" ".join(args).encode()).hexdigest()[:12]
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    return f"{machine}-{py}-{digest}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("cmake-args", "key"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: llama_build.py cmake-args|key", file=sys.stderr)
        return 2
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    flags, machine = cpu_flags(info), platform.machine()
    print(" ".join(cmake_args(flags, machine)) if argv[1] == "cmake-args" else key(flags, machine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
