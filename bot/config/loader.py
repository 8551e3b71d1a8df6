"""Load shipped defaults, merge the user's file over them, validate once.

The merge remembers which file set each key, so a validation error names the file
(and line) the streamer has to edit, not the merged blob.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .models import VtbotConfig
from .secrets import SECRET_ENV, SECRET_KEY_PATTERN, Secrets
from .yamlsource import ConfigError, KeyPath, YamlDoc, read_yaml

USER_CONFIG_ENV = "VTBOT_CONFIG"
USER_CONFIG_DEFAULT = Path("vtbot.yaml")


def shipped_config_path(name: str) -> Path:
    """Path of a YAML file shipped in the ``configs`` package."""
    return Path(str(resources.files("configs").joinpath(name)))


@dataclass
class LoadedConfig:
    config: VtbotConfig
    secrets: Secrets
    files: list[Path]


def _merge(base: dict[str, Any], over: dict[str, Any], doc: YamlDoc,
           origin: dict[KeyPath, YamlDoc], prefix: KeyPath = ()) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        key = prefix + (str(k),)
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, doc, origin, key)
        else:
            out[k] = v
        origin[key] = doc
    return out


def _secret_keys(data: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    found: list[KeyPath] = []
    if isinstance(data, dict):
        for k, v in data.items():
            key = prefix + (str(k),)
            if SECRET_KEY_PATTERN.search(str(k)):
                found.append(key)
            found.extend(_secret_keys(v, key))
    return found


def _dotted(key: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in key) or "(top level)"


def _origin_of(key: tuple[Any, ...], origin: dict[KeyPath, YamlDoc], fallback: YamlDoc) -> YamlDoc:
    for n in range(len(key), 0, -1):
        doc = origin.get(tuple(key[:n]))
        if doc is not None:
            return doc
    return fallback


def _describe(err: dict[str, Any]) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; `vtbot config check` prints every valid key)"
    if err["type"] == "missing":
        return "required key is missing"
    inp = err.get("input")
    if inp is not None and not isinstance(inp, (dict, list)):
        return f"{msg} (got {inp!r})"
    return msg


def user_config_path(explicit: Path | None) -> Path | None:
    """The user's file: ``--config``, else ``$VTBOT_CONFIG``, else ./vtbot.yaml if present."""
    if explicit is not None:
        return explicit
    env = os.environ.get(USER_CONFIG_ENV)
    if env:
        return Path(env)
    return USER_CONFIG_DEFAULT if USER_CONFIG_DEFAULT.is_file() else None


def load_config(user_file: Path | None = None, *, env: dict[str, str] | None = None,
                dotenv: Path | None = None, overrides: dict[str, Any] | None = None) -> LoadedConfig:
    """Defaults + the user's file (+ programmatic overrides) → a validated config.

    Raises ConfigError listing every problem as ``file:line: key.path: reason``.
    """
    docs = [read_yaml(shipped_config_path("defaults.yaml"))]
    if user_file is not None:
        docs.append(read_yaml(Path(user_file)))
    if overrides:
        docs.append(YamlDoc(Path("<command line>"), overrides))

    problems: list[str] = []
    for doc in docs:
        for key in _secret_keys(doc.data):
            problems.append(
                f"{doc.where(key)}: {_dotted(key)}: secrets are not read from YAML; set an "
                f"environment variable or .env entry instead ({', '.join(SECRET_ENV.values())})"
            )
    if problems:
        raise ConfigError(problems)

    merged: dict[str, Any] = {}
    origin: dict[KeyPath, YamlDoc] = {}
    for doc in docs:
        merged = _merge(merged, doc.data, doc, origin)

    try:
        config = VtbotConfig.model_validate(merged)
    except ValidationError as e:
        for err in e.errors():
            loc = tuple(err["loc"])
            doc = _origin_of(loc, origin, docs[-1])
            problems.append(f"{doc.where(loc)}: {_dotted(loc)}: {_describe(err)}")
        raise ConfigError(problems) from None
    return LoadedConfig(config, Secrets.load(env=env, dotenv=dotenv), [d.path for d in docs])
