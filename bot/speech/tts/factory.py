"""Builds the configured TTS engine; heavy engines are imported only when chosen."""

from __future__ import annotations

from bot.config.models import TTSConfig

from .base import TTSEngine


def make_tts(cfg: TTSConfig) -> TTSEngine:
    if cfg.engine == "piper":
        from .piper_tts import PiperEngine

        return PiperEngine(cfg.piper)
    from .xtts import XttsEngine

    return XttsEngine(cfg.xtts)
