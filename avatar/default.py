"""Where the avatar comes from: the user's VRM, or Mochi, who ships with vtbot."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def default_avatar_path() -> Path:
    """The shipped default avatar (built by scripts/build_default_avatar.py)."""
    return Path(str(resources.files("avatar").joinpath("data").joinpath("mochi.vrm")))


def avatar_path(configured: Path | None) -> Path:
    """The configured VRM (``avatar.model``), checked, or the default."""
    if configured is None:
        return default_avatar_path()
    path = Path(configured).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"avatar.model: {path} does not exist (a .vrm file, VRM 0.x or 1.0)")
    return path
