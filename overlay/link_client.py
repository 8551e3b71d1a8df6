"""The overlay's end of the link: connects to the bot, says hello with the token,
receives speech (JSON + binary audio frames, paired by sequence number) and events, and
sends commands (hotkeys) and playback reports back. Reconnects with backoff when the
bot restarts, so an overlay in OBS never needs a manual refresh.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np

from avatar.lipsync.timeline import VisemeTimeline
from bot.link import protocol as p

log = logging.getLogger(__name__)


class LinkRefused(Exception):
    """The bot closed the link for a reason retrying cannot fix (token, version)."""


@dataclass(slots=True)
class Segment:
    """One piece of speech as the overlay plays it."""

    utterance_id: str
    index: int
    caption: str
    pcm: np.ndarray
    sample_rate: int
    visemes: VisemeTimeline
    emotion: dict[str, Any] | None = None  # shown when this segment starts playing

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / self.sample_rate


Handler = Callable[[dict[str, Any]], Awaitable[None] | None]
SegmentHandler = Callable[[Segment], Awaitable[None] | None]


class LinkClient:
    def __init__(self, url: str, token: str, *, name: str = "overlay", client: str = "overlay",
                 on_segment: SegmentHandler | None = None, on_event: Handler | None = None,
                 max_frame: int = 8 * 1024 * 1024):
        self.url = url
        self.token = token
        self.name = name
        self.client = client
        self.on_segment = on_segment
        self.on_event = on_event
        self.max_frame = max_frame
        self.connected = asyncio.Event()
        self.welcome: dict[str, Any] | None = None
        self.results: dict[str, dict[str, Any]] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._result_events: dict[str, asyncio.Event] = {}

    async def run(self, *, retry: bool = True, first_delay: float = 0.5, max_delay: float = 10.0) -> None:
        """Stay connected until cancelled (or refused for good)."""
        delay = first_delay
        while True:
            try:
                await self._session()
                delay = first_delay
            except LinkRefused:
                raise
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
                log.info("link: cannot reach %s (%s)", self.url, type(e).__name__)
            if not retry:
                return
            await asyncio.sleep(delay)
            delay = min(max_delay, delay * 2)

    async def _session(self) -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(self.url, max_msg_size=self.max_frame, heartbeat=20.0) as ws:
                await ws.send_str(json.dumps({"type": "hello", "protocol": p.PROTOCOL_VERSION,
                                              "token": self.token, "client": self.client, "name": self.name}))
                self._ws = ws
                reason = ""
                try:
                    while True:
                        msg = await ws.receive()
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await self._on_text(msg.data)
                        elif msg.type == aiohttp.WSMsgType.BINARY:
                            await self._on_audio(msg.data)
                        else:  # close, closing, closed or error
                            reason = msg.extra if isinstance(msg.extra, str) else ""
                            break
                finally:
                    self._ws = None
                    self.connected.clear()
                self.close_code, self.close_reason = ws.close_code, reason
                if ws.close_code in (4401, 4426, 4400):
                    raise LinkRefused(f"the bot refused this overlay: {reason or ws.close_code}")

    async def _on_text(self, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            log.warning("link: ignoring a frame that is not JSON")
            return
        kind = data.get("type")
        if kind == "welcome":
            self.welcome = data
            self.connected.set()
        elif kind == "speech.segment":
            self._pending[int(data["seq"])] = data
            return  # delivered with its audio
        elif kind == "result":
            self.results[data.get("id", "")] = data
            ev = self._result_events.pop(data.get("id", ""), None)
            if ev is not None:
                ev.set()
        await _call(self.on_event, data)

    async def _on_audio(self, frame: bytes) -> None:
        try:
            seq, rate, pcm = p.unpack_audio(frame)
        except p.ProtocolError as e:
            log.warning("link: bad audio frame: %s", e)
            return
        meta = self._pending.pop(seq, None)
        if meta is None:
            log.warning("link: audio frame %d without its segment message", seq)
            return
        timeline = VisemeTimeline.from_dict(meta["visemes"])
        if timeline.n_samples != len(pcm) or rate != meta["sample_rate"]:
            log.warning("link: segment %d's timeline does not match its audio", seq)
            return
        emotion = meta.get("emotion")
        await _call(self.on_segment, Segment(meta["utterance_id"], int(meta["index"]), meta["caption"],
                                             pcm, rate, timeline, emotion if isinstance(emotion, dict) else None))

    # -- to the bot ------------------------------------------------------------------------

    async def command(self, name: str, args: str = "", *, wait: float | None = 5.0) -> dict[str, Any] | None:
        """Send a command (a hotkey); with ``wait``, return the bot's result."""
        if self._ws is None:
            raise ConnectionError("the link is not connected")
        cid = f"c{next(self._ids)}"
        ev = self._result_events[cid] = asyncio.Event()
        await self._ws.send_str(json.dumps({"type": "command", "name": name, "args": args, "id": cid}))
        if wait is None:
            return None
        await asyncio.wait_for(ev.wait(), wait)
        return self.results.pop(cid)

    async def playback(self, utterance_id: str, index: int, event: str) -> None:
        if self._ws is not None:
            await self._ws.send_str(json.dumps({"type": "playback", "utterance_id": utterance_id,
                                                "index": index, "event": event}))

    async def send_raw(self, data: str | bytes) -> None:
        """For tests of the bot's defences."""
        assert self._ws is not None
        if isinstance(data, bytes):
            await self._ws.send_bytes(data)
        else:
            await self._ws.send_str(data)


async def _call(fn: Callable[..., Any] | None, arg: Any) -> None:
    if fn is None:
        return
    out = fn(arg)
    if asyncio.iscoroutine(out):
        await out
