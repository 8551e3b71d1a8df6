"""Messages of the bot↔overlay link, version 1 (documented in overlay/PROTOCOL.md).

Text frames carry one JSON object with a ``type``; binary frames carry audio: a
12-byte header (magic ``VTA1``, uint32 sequence number, uint32 sample rate, all
little-endian) followed by mono int16 PCM. The ``speech.segment`` message announces
the sequence number of the binary frame that follows it.

Both ends validate everything they receive: a peer on the network is untrusted.
"""

from __future__ import annotations

import json
import struct
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROTOCOL_VERSION = 1
AUDIO_MAGIC = b"VTA1"
AUDIO_HEADER = struct.Struct("<4sII")
MAX_CLIENT_FRAME = 64 * 1024  # what a client may send in one frame
MAX_AUDIO_SECONDS = 60
VFX_KINDS = ("fireworks", "confetti", "hearts", "sparkles", "rain")  # what overlays can draw
MAX_VFX_INTENSITY = 5.0
COMMANDS = ("skip", "mute", "unmute", "vfx", "scene", "reload", "expression", "captions", "clear")


class ProtocolError(ValueError):
    """A frame that does not follow the protocol; the message says how."""


class Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- client → bot --------------------------------------------------------------------------

class Hello(Msg):
    type: Literal["hello"]
    protocol: int
    token: str = Field(max_length=256)
    client: str = Field("overlay", max_length=40)
    name: str = Field("", max_length=80)


class Command(Msg):
    type: Literal["command"]
    name: Literal["skip", "mute", "unmute", "vfx", "scene", "reload", "expression", "captions", "clear"]
    args: str = Field("", max_length=200)
    id: str = Field("", max_length=40)  # echoed in the result


class Playback(Msg):
    """The overlay says when it started and finished playing a segment: the bot waits
    for what viewers actually heard before it answers the next prompt."""

    type: Literal["playback"]
    utterance_id: str = Field(max_length=40)
    index: int = Field(ge=0)
    event: Literal["started", "finished", "skipped"]


CLIENT_MESSAGES: dict[str, type[Msg]] = {"hello": Hello, "command": Command, "playback": Playback}


# -- bot → client --------------------------------------------------------------------------

def welcome(session: str, persona: str, server: str) -> dict[str, Any]:
    return {"type": "welcome", "protocol": PROTOCOL_VERSION, "session": session, "persona": persona,
            "server": server}


def speech_start(utterance_id: str, viewer: str | None, prompt: str) -> dict[str, Any]:
    return {"type": "speech.start", "utterance_id": utterance_id, "viewer": viewer, "prompt": prompt}


def speech_segment(utterance_id: str, index: int, seq: int, caption: str, sample_rate: int,
                   n_samples: int, visemes: dict[str, Any], emotion: dict[str, Any] | None = None) -> dict[str, Any]:
    msg = {"type": "speech.segment", "utterance_id": utterance_id, "index": index, "seq": seq,
           "caption": caption, "sample_rate": sample_rate, "n_samples": n_samples, "visemes": visemes}
    if emotion is not None:
        msg["emotion"] = emotion
    return msg


def speech_end(utterance_id: str, text: str, cut: str | None = None) -> dict[str, Any]:
    return {"type": "speech.end", "utterance_id": utterance_id, "text": text, "cut": cut}


def vfx(name: str, intensity: float = 1.0, colors: list[str] | None = None) -> dict[str, Any]:
    """An effect: `intensity` 0.1-5 scales how big it is (an alert may scale it with
    the amount); `colors` (#rrggbb) replace the effect's own palette."""
    if name not in VFX_KINDS:
        raise ValueError(f"unknown effect {name!r}; known: {', '.join(VFX_KINDS)}")
    params: dict[str, Any] = {"intensity": round(min(MAX_VFX_INTENSITY, max(0.1, float(intensity))), 3)}
    if colors:
        params["colors"] = list(colors)
    return {"type": "vfx", "name": name, "params": params}


def parse_vfx_args(args: str) -> tuple[str, float]:
    """"confetti 2" → ("confetti", 2.0): a chat command's or hotkey's arguments.
    ValueError says what is wrong, in words a streamer can act on."""
    words = args.split()
    name = words[0].lower() if words else "fireworks"
    if name not in VFX_KINDS:
        raise ValueError(f"unknown effect {name!r}; try {', '.join(VFX_KINDS)}")
    intensity = 1.0
    if len(words) > 1:
        try:
            intensity = float(words[1])
        except ValueError:
            raise ValueError(f"intensity must be a number from 0.1 to {MAX_VFX_INTENSITY:g}") from None
        if not 0.1 <= intensity <= MAX_VFX_INTENSITY:
            raise ValueError(f"intensity must be from 0.1 to {MAX_VFX_INTENSITY:g}")
    return name, intensity


def expression(name: str, weight: float = 1.0, hold_s: float = 3.0) -> dict[str, Any]:
    return {"type": "expression", "name": name, "weight": weight, "hold_s": hold_s}


def overlay_action(name: str, args: str = "") -> dict[str, Any]:
    """reload, captions: things every overlay does itself."""
    return {"type": "overlay", "name": name, "args": args}


def state(**fields: Any) -> dict[str, Any]:
    return {"type": "state", **fields}


def result(command_id: str, name: str, ok: bool, message: str) -> dict[str, Any]:
    return {"type": "result", "id": command_id, "name": name, "ok": ok, "message": message}


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message}


# -- parsing -------------------------------------------------------------------------------

def parse_client(text: str) -> Msg:
    """One client text frame → its message, or ProtocolError saying what is wrong."""
    if len(text) > MAX_CLIENT_FRAME:
        raise ProtocolError(f"frame of {len(text)} characters exceeds {MAX_CLIENT_FRAME}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProtocolError(f"not JSON: {e.msg} at {e.pos}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("a message must be a JSON object with a \"type\"")
    model = CLIENT_MESSAGES.get(data["type"])
    if model is None:
        raise ProtocolError(f"unknown message type {data['type'][:40]!r}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise ProtocolError(f"{data['type']}: {where}: {first['msg']}") from None


def pack_audio(seq: int, sample_rate: int, pcm: np.ndarray) -> bytes:
    return AUDIO_HEADER.pack(AUDIO_MAGIC, seq, sample_rate) + np.ascontiguousarray(pcm, dtype="<i2").tobytes()


def unpack_audio(frame: bytes) -> tuple[int, int, np.ndarray]:
    """(seq, sample_rate, int16 PCM) from a binary frame, validated."""
    if len(frame) < AUDIO_HEADER.size:
        raise ProtocolError("audio frame shorter than its header")
    magic, seq, rate = AUDIO_HEADER.unpack_from(frame)
    if magic != AUDIO_MAGIC:
        raise ProtocolError("audio frame without the VTA1 magic")
    body = len(frame) - AUDIO_HEADER.size
    if body % 2:
        raise ProtocolError("audio frame with an odd number of bytes")
    if not 8000 <= rate <= 96000:
        raise ProtocolError(f"audio sample rate {rate} out of range")
    if body // 2 > rate * MAX_AUDIO_SECONDS:
        raise ProtocolError("audio frame longer than a segment can be")
    return seq, rate, np.frombuffer(frame, dtype="<i2", offset=AUDIO_HEADER.size).astype(np.int16)
