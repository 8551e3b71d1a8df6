"""Configuration: shipped YAML defaults, the user's file, secrets from the environment."""

from .loader import LoadedConfig, load_config, shipped_config_path, user_config_path
from .models import VtbotConfig
from .secrets import Secrets
from .yamlsource import ConfigError

__all__ = [
    "ConfigError",
    "LoadedConfig",
    "Secrets",
    "VtbotConfig",
    "load_config",
    "shipped_config_path",
    "user_config_path",
]
