"""Turns the persona config into the system prompt and a viewer's line into a turn."""

from __future__ import annotations

from bot.config.models import PersonaConfig


def system_prompt(persona: PersonaConfig) -> str:
    lines = [
        f"You are {persona.name}, {persona.personality.strip()}",
        f"You are live on stream, talking out loud to your Twitch chat. Style: {persona.speaking_style.strip()}"
        if persona.speaking_style.strip() else "You are live on stream, talking out loud to your Twitch chat.",
        f"Answer in at most {persona.max_reply_sentences} short spoken sentences.",
        *persona.extra_rules,
    ]
    return "\n".join(line for line in lines if line)


def viewer_turn(viewer: str, text: str) -> str:
    """How a chat line reaches the model: who said it, then what they said."""
    return f"{viewer} says: {text.strip()}"
