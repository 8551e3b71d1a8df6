"""Secrets come from the environment (or a .env file), never from YAML.

Each secret is a ``SecretStr`` so it prints as ``**********``; ``values()`` feeds the
log redactor so a secret that leaks into a message is masked anyway.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from dotenv import dotenv_values
from pydantic import SecretStr

# secret field -> environment variable that carries it
SECRET_ENV: dict[str, str] = {
    "openai_api_key": "VTBOT_OPENAI_API_KEY",
    "ollama_api_key": "VTBOT_OLLAMA_API_KEY",
    "twitch_client_secret": "VTBOT_TWITCH_CLIENT_SECRET",
    "obs_password": "VTBOT_OBS_PASSWORD",
    "kofi_verification_token": "VTBOT_KOFI_TOKEN",
    "streamelements_token": "VTBOT_STREAMELEMENTS_TOKEN",
    "streamlabs_token": "VTBOT_STREAMLABS_TOKEN",
    "trigger_token": "VTBOT_TRIGGER_TOKEN",
}

# YAML keys that look like secrets: rejected with a pointer to the env variable.
SECRET_KEY_PATTERN = re.compile(r"(^|_)(api_?key|password|passwd|secret|client_secret|token)$", re.I)


@dataclass(frozen=True)
class Secrets:
    openai_api_key: SecretStr | None = None
    ollama_api_key: SecretStr | None = None
    twitch_client_secret: SecretStr | None = None  # only for a Confidential Twitch app
    obs_password: SecretStr | None = None  # obs-websocket's server password
    kofi_verification_token: SecretStr | None = None  # Ko-fi → Settings → API → webhooks
    streamelements_token: SecretStr | None = None  # StreamElements JWT (or OAuth) token
    streamlabs_token: SecretStr | None = None  # Streamlabs socket API token
    trigger_token: SecretStr | None = None  # the rehearsal endpoint's token (else a generated one)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Secrets:
        """Read secrets from ``env`` (default: the process environment) over a .env file."""
        merged: dict[str, str] = {}
        dotenv_path = dotenv if dotenv is not None else Path.cwd() / ".env"
        if dotenv_path.is_file():
            merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        merged.update(os.environ if env is None else env)
        kwargs = {
            field: SecretStr(merged[var])
            for field, var in SECRET_ENV.items()
            if merged.get(var)
        }
        return cls(**kwargs)

    def values(self) -> list[str]:
        """Plain secret values, for the log redactor only."""
        out = []
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None and v.get_secret_value():
                out.append(v.get_secret_value())
        return out

    def masked(self) -> dict[str, str]:
        return {
            f"{f.name} (${SECRET_ENV[f.name]})": ("set, ********" if getattr(self, f.name) else "not set")
            for f in fields(self)
        }
