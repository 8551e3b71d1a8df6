"""Where and how the THA3 networks run: device, float type, exactness, compilation.

Chosen once at load. On a CUDA GPU the default is float16 (what the ``*_half`` variants
were published for); on the CPU it is float32, since CPU float16 convolutions are slow
or missing. ``compile`` (torch.compile) is meant for GPUs: on a 2-core CPU it took
minutes to compile and its frames were slower than the plain ones.

By default the networks run in channels-last layout (on the CPU it makes oneDNN's
depthwise and 1x1 convolutions two to three times faster; on a GPU it is the layout
tensor cores want) and the editor's skip connections are summed rather than
concatenated. ``exact`` keeps the reference implementation's layout and operation order
instead, so a float32 CPU frame equals the reference's bit for bit; the default differs
from it in the last bits of each operation (about 1e-4 after the five networks).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from avatar.tha3.errors import Tha3Error

log = logging.getLogger(__name__)

Device = str  # "auto", "cpu", "cuda" or a torch device string such as "cuda:1"
Precision = Literal["auto", "float", "half"]


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    dtype: torch.dtype
    exact: bool = False
    compile: bool = False


def choose_runtime(device: Device = "auto", precision: Precision = "auto", exact: bool = False,
                   compile: bool = False) -> Runtime:
    """Resolve ``auto`` choices against what this machine has."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise Tha3Error(f"THA3 device {device!r} asked for, but this torch "
                        f"({torch.__version__}) sees no CUDA GPU; use device 'auto' or 'cpu', "
                        "or install torch's CUDA build (pytorch.org)")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        # caught here, not at the first frame, where torch's message names no setting
        count = torch.cuda.device_count()
        raise Tha3Error(f"THA3 device {device!r} asked for, but this machine has {count} CUDA "
                        f"GPU{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})")
    if precision == "auto":
        precision = "half" if dev.type == "cuda" else "float"
    if precision == "half" and dev.type != "cuda":
        log.warning("THA3: float16 is for CUDA GPUs; running float32 on %s", dev)
        precision = "float"
    if precision not in ("float", "half"):
        raise Tha3Error(f"unknown THA3 precision {precision!r}: choose auto, float or half")
    dtype = torch.float16 if precision == "half" else torch.float32
    return Runtime(dev, dtype, exact, compile)


def place(network: nn.Module, runtime: Runtime) -> nn.Module:
    """``network`` moved to the runtime's device, float type and layout, for inference."""
    network = network.to(device=runtime.device, dtype=runtime.dtype)
    if not runtime.exact:
        network = network.to(memory_format=torch.channels_last)
    for module in network.modules():
        if hasattr(module, "exact"):
            module.exact = runtime.exact
    return network.eval().requires_grad_(False)


def reuse_freed_memory() -> bool:
    """Let this process keep and reuse freed memory instead of returning it (glibc only).

    A CPU frame allocates dozens of 16-64 MB feature maps. glibc serves blocks that
    large with fresh ``mmap`` pages and unmaps them on free, so every frame pays the
    kernel to fault in and zero a few hundred megabytes again: about a third of the
    frame time here. Raising the mmap and trim thresholds keeps them in the heap. This
    is process-wide (the process keeps its peak memory), so it is the caller's choice,
    e.g. a process or thread that does nothing but render the avatar; returns whether
    it took effect.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    ok = mallopt(m_mmap_threshold, 1 << 30) == 1 and mallopt(m_trim_threshold, 2**31 - 1) == 1
    if ok:
        log.info("THA3: freed memory is now kept for reuse (glibc malloc thresholds raised)")
    return ok
