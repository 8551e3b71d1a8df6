"""A local Streamlabs Socket API for tests: Socket.IO 2 / Engine.IO 3 over a WebSocket.

Streamlabs runs a Socket.IO 2.x server. python-socketio 5's server only accepts
Engine.IO 4 clients, so it cannot stand in for it (protocol notes, E.5); this fake
speaks the Engine.IO 3 WebSocket frames of the notes' table (E.3), encoded with
python-engineio's and python-socketio's own packet classes so that the framing is not
the code under test checking itself.

Behaviour: open packet, then ``40`` for a good token or ``44"Invalid token"`` for a bad
one; the client pings (``2``) and gets ``3``; a client silent for longer than
pingInterval + pingTimeout is closed, as Engine.IO 3 servers do.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import WSMsgType, web
from engineio import packet as eio
from socketio import packet as sio

from tests.fakes.twitch_server import wait_until

T = TypeVar("T")


def frame(packet_type: int, data: Any = None) -> str:
    """A Socket.IO packet inside an Engine.IO message: ``4`` + ``2["event",{...}]``."""
    encoded = sio.Packet(packet_type, data=data).encode()
    return str(eio.Packet(eio.MESSAGE, encoded).encode())


@dataclass(eq=False)
class SocketClient:
    ws: web.WebSocketResponse
    sid: str
    connected: bool = False


class FakeStreamlabs:
    """Drive it with ``emit``, ``drop``, ``stop``/``start``; assert on ``connections`` etc."""

    def __init__(self, tokens: set[str] | None = None, host: str = "127.0.0.1", *,
                 ping_interval_ms: int = 25000, ping_timeout_ms: int = 60000):
        self.tokens = tokens if tokens is not None else {"good-socket-token"}
        self.host = host
        self.port = 0
        self.ping_interval_ms = ping_interval_ms
        self.ping_timeout_ms = ping_timeout_ms
        self.answer_pings = True
        self.clients: list[SocketClient] = []
        self.connections = 0
        self.refused = 0
        self.pings = 0
        self.queries: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        """What a user would configure: the site, not the socket path."""
        return f"http://{self.host}:{self.port}"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/socket.io/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, port or self.port).start()
        self.port = self._runner.addresses[0][1]
        self._touch()

    async def stop(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._touch()

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
        return await wait_until(predicate, timeout, what=what, changed=lambda: self._changed,
                                describe=self.describe)

    def describe(self) -> str:
        return (f"connections={self.connections}, connected={self.connected}, "
                f"refused={self.refused}, pings={self.pings}")

    @property
    def connected(self) -> int:
        return sum(c.connected and not c.ws.closed for c in self.clients)

    # -- hooks ---------------------------------------------------------------------------

    async def emit(self, payload: dict[str, Any]) -> int:
        """``42["event", payload]`` to every connected client; how many got it."""
        sent = 0
        for c in list(self.clients):
            if c.connected and not c.ws.closed:
                await c.ws.send_str(frame(sio.EVENT, ["event", payload]))
                sent += 1
        return sent

    async def drop(self) -> None:
        for c in list(self.clients):
            await c.ws.close()
        self._touch()

    # -- server --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        q = dict(request.query)
        self.queries.append(q)
        if q.get("EIO") != "3":
            # what an Engine.IO 3 server answers a client of another protocol version
            return web.json_response({"code": 5, "message": "Unsupported protocol version"},
                                     status=400)
        if q.get("transport") != "websocket":
            return web.json_response({"code": 0, "message": "Transport unknown"}, status=400)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = SocketClient(ws, secrets.token_hex(10))
        self.clients.append(client)
        self.connections += 1
        try:
            await ws.send_str(str(eio.Packet(eio.OPEN, {
                "sid": client.sid, "upgrades": [], "pingInterval": self.ping_interval_ms,
                "pingTimeout": self.ping_timeout_ms}).encode()))
            if q.get("token") in self.tokens:
                client.connected = True
                await ws.send_str(frame(sio.CONNECT))
            else:
                self.refused += 1
                await ws.send_str(frame(sio.CONNECT_ERROR, "Invalid token"))
            self._touch()
            await self._read(client)
        finally:
            self.clients.remove(client)
            self._touch()
        return ws

    async def _read(self, client: SocketClient) -> None:
        silence = (self.ping_interval_ms + self.ping_timeout_ms) / 1000
        while True:
            try:
                msg = await client.ws.receive(timeout=silence)
            except asyncio.TimeoutError:
                await client.ws.close()  # ping timeout
                return
            if msg.type != WSMsgType.TEXT:
                return
            packet = eio.Packet(encoded_packet=msg.data)
            if packet.packet_type == eio.PING:
                self.pings += 1
                self._touch()
                if self.answer_pings:
                    await client.ws.send_str(str(eio.Packet(eio.PONG).encode()))
            elif packet.packet_type == eio.CLOSE:
                await client.ws.close()
                return
