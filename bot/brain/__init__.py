"""The brain: one streaming LLM interface, three backends, persona and memory."""

from .backend import BrainUnavailable, ChatMessage, GenerationParams, LLMBackend
from .brain import Brain
from .factory import make_backend

__all__ = ["Brain", "BrainUnavailable", "ChatMessage", "GenerationParams", "LLMBackend", "make_backend"]
