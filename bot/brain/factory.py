"""Builds the configured backend; remote clients are imported only when chosen."""

from __future__ import annotations

from bot.config import Secrets
from bot.config.models import LLMConfig

from .backend import LLMBackend


def make_backend(cfg: LLMConfig, secrets: Secrets) -> LLMBackend:
    if cfg.backend == "llamacpp":
        from .llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(cfg.llamacpp)
    if cfg.backend == "ollama":
        from .ollama_backend import OllamaBackend

        key = secrets.ollama_api_key.get_secret_value() if secrets.ollama_api_key else None
        return OllamaBackend(cfg.ollama, timeout_s=cfg.request_timeout_s, api_key=key)
    from .openai_backend import OpenAIBackend

    key = secrets.openai_api_key.get_secret_value() if secrets.openai_api_key else None
    return OpenAIBackend(cfg.openai, timeout_s=cfg.request_timeout_s, api_key=key)
