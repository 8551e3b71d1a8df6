"""The bot's end of the link: a WebSocket server overlays connect to.

It is a speech sink (every segment goes to every overlay, audio as binary frames) and
a command source (an overlay's hotkeys arrive here and run like chat commands). Only
clients that present the token within a few seconds are served; malformed, oversized
or unexpected frames get an error and, repeated, a closed connection. A slow overlay
is disconnected rather than allowed to hold the bot back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.listen import serve
from bot.speech.segment import SpeechSegment, Utterance, UtteranceStats
from bot.tokens import tokens_match

from . import protocol as p

log = logging.getLogger(__name__)

# name, args, who → (ok, message)
CommandHandler = Callable[[str, str, str], Awaitable[tuple[bool, str]]]

CLOSE_BAD_HELLO, CLOSE_BAD_TOKEN, CLOSE_VERSION, CLOSE_TOO_SLOW, CLOSE_BAD_FRAMES = 4400, 4401, 4426, 4408, 4429
HELLO_TIMEOUT_S = 5.0
MAX_BAD_FRAMES = 5
SEND_QUEUE = 256  # frames waiting for one client
RECENT_UTTERANCES = 64  # utterances whose playback reports are tracked


@dataclass(eq=False)
class Client:
    ws: web.WebSocketResponse
    name: str
    kind: str
    session: str
    queue: asyncio.Queue[str | bytes] = field(default_factory=lambda: asyncio.Queue(SEND_QUEUE))
    writer: asyncio.Task[None] | None = None
    bad_frames: int = 0


class LinkServer:
    def __init__(self, token: str, *, host: str = "127.0.0.1", port: int = 7831, persona: str = "",
                 on_command: CommandHandler | None = None, server_name: str = "vtbot"):
        self.token = token
        self.host = host
        self.port = port
        self.persona = persona
        self.on_command = on_command
        self.server_name = server_name
        self.clients: set[Client] = set()
        self._runner: web.AppRunner | None = None
        self._seq = 0
        # per recent utterance: segments sent, segments reported heard (the oldest forgotten)
        self._heard: dict[str, set[int]] = {}
        self._segments: OrderedDict[str, int] = OrderedDict()
        self._heard_changed = asyncio.Event()
        self.refused = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._handle)
        self._runner, self.port = await serve(app, self.host, self.port)
        log.info("link: listening on ws://%s:%d/link", self.host, self.port)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/link"

    async def close(self) -> None:
        for client in list(self.clients):
            await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"bot stopped")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- one connection ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=p.MAX_CLIENT_FRAME, heartbeat=20.0)
        await ws.prepare(request)
        client = await self._hello(ws, request.remote or "?")
        if client is None:
            return ws
        self.clients.add(client)
        client.writer = asyncio.create_task(self._write(client), name=f"link-{client.name}")
        self._send(client, p.welcome(client.session, self.persona, self.server_name))
        log.info("link: %s %r connected from %s", client.kind, client.name, request.remote)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(client, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._bad(client, "clients do not send binary frames")
                elif msg.type == WSMsgType.ERROR:
                    break
                if client.bad_frames >= MAX_BAD_FRAMES:
                    await ws.close(code=CLOSE_BAD_FRAMES, message=b"too many malformed frames")
                    break
        finally:
            self.clients.discard(client)
            if client.writer is not None:
                client.writer.cancel()
            log.info("link: %s %r disconnected", client.kind, client.name)
        return ws

    async def _hello(self, ws: web.WebSocketResponse, remote: str) -> Client | None:
        try:
            msg = await ws.receive(timeout=HELLO_TIMEOUT_S)
        except asyncio.TimeoutError:
            return await self._refuse(ws, CLOSE_BAD_HELLO, "no hello within 5 s", remote)
        if msg.type != WSMsgType.TEXT:
            return await self._refuse(ws, CLOSE_BAD_HELLO, "the first frame must be a hello", remote)
        try:
            hello = p.parse_client(msg.data)
        except p.ProtocolError as e:
            return await self._refuse(ws, CLOSE_BAD_HELLO, str(e), remote)
        if not isinstance(hello, p.Hello):
            return await self._refuse(ws, CLOSE_BAD_HELLO, "the first message must be a hello", remote)
        if not tokens_match(hello.token, self.token):
            return await self._refuse(ws, CLOSE_BAD_TOKEN, "wrong token", remote)
        if hello.protocol != p.PROTOCOL_VERSION:
            return await self._refuse(ws, CLOSE_VERSION,
                                      f"protocol {hello.protocol} not supported (this bot speaks "
                                      f"{p.PROTOCOL_VERSION})", remote)
        return Client(ws, hello.name or hello.client, hello.client, uuid.uuid4().hex[:12])

    async def _refuse(self, ws: web.WebSocketResponse, code: int, why: str, remote: str) -> None:
        self.refused += 1
        log.warning("link: refused a client from %s: %s", remote, why)
        await ws.close(code=code, message=why.encode()[:120])
        return None

    async def _on_text(self, client: Client, text: str) -> None:
        try:
            msg = p.parse_client(text)
        except p.ProtocolError as e:
            await self._bad(client, str(e))
            return
        if isinstance(msg, p.Command):
            ok, message = False, "this bot takes no commands"
            if self.on_command is not None:
                try:
                    ok, message = await self.on_command(msg.name, msg.args, f"overlay:{client.name}")
                except Exception as e:  # noqa: BLE001 - a failing command never drops the link
                    log.exception("link: command %s failed", msg.name)
                    ok, message = False, f"{msg.name} failed: {type(e).__name__}"
            self._send(client, p.result(msg.id, msg.name, ok, message))
        elif isinstance(msg, p.Playback):
            # only for speech this bot sent: a client cannot grow the table with made-up ids
            if msg.event in ("finished", "skipped") and msg.utterance_id in self._segments:
                self._heard.setdefault(msg.utterance_id, set()).add(msg.index)
                self._heard_changed.set()
        else:
            await self._bad(client, "hello was already received")

    async def _bad(self, client: Client, why: str) -> None:
        client.bad_frames += 1
        log.info("link: bad frame from %r: %s", client.name, why)
        self._send(client, p.error(why))

    # -- sending -------------------------------------------------------------------------

    def _send(self, client: Client, frame: dict[str, Any] | bytes) -> None:
        data: str | bytes = frame if isinstance(frame, bytes) else json.dumps(frame, ensure_ascii=False)
        try:
            client.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.warning("link: %r is too slow; disconnecting it", client.name)
            self.clients.discard(client)
            asyncio.ensure_future(client.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow"))

    def broadcast(self, frame: dict[str, Any] | bytes) -> None:
        for client in list(self.clients):
            self._send(client, frame)

    async def _write(self, client: Client) -> None:
        try:
            while True:
                data = await client.queue.get()
                if isinstance(data, bytes):
                    await client.ws.send_bytes(data)
                else:
                    await client.ws.send_str(data)
        except (ConnectionError, RuntimeError):
            pass  # closed underneath us; the reader side cleans up

    # -- speech sink ---------------------------------------------------------------------

    async def start_utterance(self, utterance: Utterance) -> None:
        self._track(utterance.id, 0)
        self.broadcast(p.speech_start(utterance.id, utterance.viewer, utterance.prompt))

    async def segment(self, segment: SpeechSegment) -> None:
        self._seq = (self._seq + 1) % 2**32
        self._track(segment.utterance_id, segment.index + 1)
        self.broadcast(p.speech_segment(segment.utterance_id, segment.index, self._seq, segment.caption,
                                        segment.sample_rate, len(segment.pcm), segment.timeline.to_dict(),
                                        segment.emotion))
        self.broadcast(p.pack_audio(self._seq, segment.sample_rate, segment.pcm))

    def _track(self, utterance_id: str, sent: int) -> None:
        self._segments[utterance_id] = sent
        while len(self._segments) > RECENT_UTTERANCES:
            old, _ = self._segments.popitem(last=False)
            self._heard.pop(old, None)

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        self.broadcast(p.speech_end(utterance.id, stats.text, stats.cut))

    async def wait_client(self, timeout: float) -> bool:
        """Until at least one overlay is connected (the demo waits for its window)."""
        deadline = time.monotonic() + timeout
        while not self.clients and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return bool(self.clients)

    async def wait_heard(self, utterance_id: str, timeout: float) -> bool:
        """Until an overlay reports the utterance's last segment played (or skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            n = self._segments.get(utterance_id, 0)
            if n == 0 or (n - 1) in self._heard.get(utterance_id, ()):
                return True
            left = deadline - time.monotonic()
            if left <= 0 or not self.clients:
                return False
            self._heard_changed.clear()
            try:
                await asyncio.wait_for(self._heard_changed.wait(), left)
            except asyncio.TimeoutError:
                return False


class LinkSink:
    """LinkServer as a :class:`~bot.speech.sink.SpeechSink`."""

    def __init__(self, server: LinkServer):
        self.server = server

    async def start(self, utterance: Utterance) -> None:
        await self.server.start_utterance(utterance)

    async def segment(self, segment: SpeechSegment) -> None:
        await self.server.segment(segment)

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        await self.server.finish(utterance, stats)

    async def close(self) -> None:
        pass
