"""Where vtbot keeps what it builds up while running (journal, lore index, viewer notes)."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """$XDG_STATE_HOME/vtbot, else ~/.local/state/vtbot."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "vtbot"
