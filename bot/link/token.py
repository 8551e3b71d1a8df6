"""Shared secrets for vtbot's local endpoints, kept in 0600 files under ~/.config/vtbot.

The link's token: overlays on this PC read it from its file; an overlay on a second
PC is given it (``vtbot overlay --connect URL --token ...``). The trigger endpoint's
token works the same way for ``vtbot trigger``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV = "VTBOT_LINK_TOKEN"


def default_token_path(name: str = "link-token") -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vtbot" / name


def load_or_create(path: Path | None = None, env: dict[str, str] | None = None, *,
                   env_var: str = ENV, name: str = "link-token") -> str:
    """``$env_var``, else the token file, created (0600) on first use."""
    env = os.environ if env is None else env
    if env.get(env_var):
        return env[env_var]
    path = Path(path or default_token_path(name)).expanduser()
    try:
        token = path.read_text("utf-8").strip()
        if len(token) >= 16:
            return token
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)
    return token
