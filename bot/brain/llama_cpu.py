"""What llama.cpp was built with, what this CPU has, and whether weight repacking is safe.

ggml's AMX buffer type (one of llama.cpp's "extra buffer types", used to repack
weights at load) segfaults in ``decode`` or writes garbage on Q4_0/Q4_1 models on
Sapphire-Rapids-class CPUs (llama.cpp #16315, #20824). setup.sh never compiles it,
but a llama-cpp-python built elsewhere may. When the build and the CPU both have
AMX, the model loads with extra buffer types off: the same model then answers
normally. Elsewhere they stay on, as llama.cpp's default, so speed is unchanged.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ExtraBuffers = Literal["auto", "on", "off"]

# the /proc/cpuinfo flags that mean the CPU can run AMX tiles
AMX_CPU_FLAGS = ("amx_tile", "amx_int8")


def parse_system_info(info: str) -> dict[str, str]:
    """``"CPU : SSE3 = 1 | AVX = 1 | ..."`` → ``{"SSE3": "1", "AVX": "1", ...}``."""
    out: dict[str, str] = {}
    for part in info.replace("\n", "|").split("|"):
        key, sep, value = part.rpartition("=")
        if not sep:
            continue
        name = key.split(":")[-1].strip()
        if name:
            out[name] = value.strip()
    return out


def build_has_amx(features: Mapping[str, str]) -> bool:
    return any(features.get(k, "0") not in ("0", "") for k in ("AMX_INT8", "AMX_TILE", "AMX_BF16"))


def read_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_amx(flags: frozenset[str]) -> bool:
    return any(f in flags for f in AMX_CPU_FLAGS)


@dataclass(frozen=True)
class LlamaCpuPlan:
    """The decision, with the facts it rests on (shown by ``vtbot doctor``)."""

    features: dict[str, str]
    cpu_amx: bool
    extra_buffers: bool
    reason: str

    def describe(self) -> str:
        on = [k for k, v in self.features.items() if v == "1"]
        state = "on" if self.extra_buffers else "off"
        return f"{' '.join(on) or 'no SIMD features'}; extra buffer types {state} ({self.reason})"


def plan(setting: ExtraBuffers, features: Mapping[str, str], cpu_flags: frozenset[str]) -> LlamaCpuPlan:
    cpu_amx = cpu_has_amx(cpu_flags)
    feats = dict(features)
    if setting == "on":
        return LlamaCpuPlan(feats, cpu_amx, True, "llm.llamacpp.extra_buffers: on")
    if setting == "off":
        return LlamaCpuPlan(feats, cpu_amx, False, "llm.llamacpp.extra_buffers: off")
    if build_has_amx(feats) and cpu_amx:
        return LlamaCpuPlan(feats, cpu_amx, False,
                            "this llama.cpp build and CPU have AMX, whose repacking crashes")
    return LlamaCpuPlan(feats, cpu_amx, True, "no AMX in this build" if not build_has_amx(feats)
                        else "the CPU has no AMX")


def current_plan(setting: ExtraBuffers) -> LlamaCpuPlan:
    """The plan for the installed llama-cpp-python on this machine."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    return plan(setting, parse_system_info(text), read_cpu_flags())


# llama_cpp.Llama takes no argument for extra buffer types; it reads the defaults from
# llama_model_default_params() while loading. Loads are serialised so that the swap
# below never leaks into another thread's load.
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def model_params(extra_buffers: bool) -> Iterator[None]:
    """Within this block, models load with ``use_extra_bufts`` set as given."""
    import llama_cpp.llama_cpp as lib

    with _LOAD_LOCK:
        if extra_buffers:
            yield
            return
        original = lib.llama_model_default_params

        def defaults() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        lib.llama_model_default_params = defaults
        try:
            yield
        finally:
            lib.llama_model_default_params = original
