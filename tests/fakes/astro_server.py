"""A local StreamElements Astro gateway for tests: plain JSON over a WebSocket.

Frames follow the project's protocol notes (twitch-obs-protocols.md, E.1): a
``welcome`` at once, ``subscribe`` answered by a ``response`` echoing the nonce (or an
``err_unauthorized`` error), ``message`` frames on subscribed topics, and ``reconnect``
with a token that restores a connection's subscriptions. Where StreamElements'
behaviour is not documented, the choice made here is marked "fake's choice".
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from tests.fakes.twitch_server import wait_until

T = TypeVar("T")

CHANNEL = "5ad23dcc18fff500d78c5348"
KNOWN_TOPICS = {"channel.activities", "channel.tips", "channel.tips.moderation",
                "channel.chat.message", "channel.session.update"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """Something shaped like Astro's ULID ids (26 Crockford base32 characters)."""
    return "".join(secrets.choice(_CROCKFORD) for _ in range(26))


def ts() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(eq=False)
class AstroClient:
    ws: web.WebSocketResponse
    topics: set[str] = field(default_factory=set)
    restored_from: str | None = None


class FakeAstro:
    """Drive it with ``tip``, ``drop`` and ``ask_reconnect``; assert on ``subscribes``."""

    def __init__(self, tokens: dict[str, str] | None = None, host: str = "127.0.0.1"):
        self.tokens = tokens if tokens is not None else {"good-jwt": "jwt"}  # token → token_type
        self.host = host
        self.port = 0
        self.clients: list[AstroClient] = []
        self.connections = 0
        self.subscribes: list[dict[str, Any]] = []  # every subscribe request's data
        self.refused: list[str] = []  # error codes sent
        self.reconnect_tokens: dict[str, set[str]] = {}  # token → topics it restores
        self.http_refusals: list[tuple[int, dict[str, str]]] = []  # next upgrades to refuse
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, port or self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
        return await wait_until(predicate, timeout, what=what, changed=lambda: self._changed,
                                describe=self.describe)

    def describe(self) -> str:
        return (f"connections={self.connections}, open={len(self.clients)}, "
                f"subscribes={[s.get('topic') for s in self.subscribes]}, refused={self.refused}")

    def subscribed(self, topic: str) -> int:
        """How many open connections are subscribed to ``topic``."""
        return sum(topic in c.topics for c in self.clients)

    # -- hooks ---------------------------------------------------------------------------

    async def send(self, topic: str, data: dict[str, Any]) -> int:
        """A ``message`` frame to every connection subscribed to ``topic``; how many got it."""
        frame = {"id": ulid(), "ts": ts(), "type": "message", "topic": topic, "room": CHANNEL,
                 "data": data}
        sent = 0
        for c in list(self.clients):
            if topic in c.topics and not c.ws.closed:
                await c.ws.send_json(frame)
                sent += 1
        return sent

    async def tip(self, tip_id: str, username: str = "Styler", amount: float = 4.2,
                  currency: str = "USD", message: str = "", *, approved: str = "allowed",
                  topic: str = "channel.tips") -> int:
        """A tip shaped like the documented ``channel.tips`` example."""
        return await self.send(topic, {
            "donation": {"user": {"username": username, "geo": "ZZ",
                                  "email": "styler@streamelements.com", "channel": CHANNEL},
                         "message": message, "amount": amount, "currency": currency,
                         "paymentMethod": "scheme"},
            "_id": tip_id, "channel": CHANNEL, "provider": "paypal", "approved": approved,
            "status": "success", "createdAt": "2025-02-19T15:07:09.302Z",
            "updatedAt": "2025-02-19T15:07:17.099Z", "transactionId": "2YH79902JR1691017",
        })

    async def drop(self, code: int = 1011) -> None:
        """Closes every connection without a ``reconnect`` frame (a crash, a network cut)."""
        for c in list(self.clients):
            await c.ws.close(code=code)
        self._touch()

    async def ask_reconnect(self) -> None:
        """Sends ``reconnect`` with a token restoring each connection's topics, then closes
        (fake's choice: the docs do not say how soon the server closes)."""
        for c in list(self.clients):
            token = "eyJ" + secrets.token_urlsafe(16)
            self.reconnect_tokens[token] = set(c.topics)
            await c.ws.send_json({"id": ulid(), "ts": ts(), "type": "reconnect",
                                  "data": {"message": "The server is shutting down.",
                                           "reconnect_token": token}})
        await asyncio.sleep(0)
        await self.drop(code=1001)

    # -- server --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.http_refusals:
            status, headers = self.http_refusals.pop(0)
            return web.Response(status=status, headers=headers)
        restored: set[str] = set()
        rt = request.query.get("reconnect_token")
        if rt is not None:
            if rt not in self.reconnect_tokens:
                return web.Response(status=400, text="invalid reconnect token")  # fake's choice
            restored = self.reconnect_tokens.pop(rt)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = AstroClient(ws, set(restored), rt)
        self.clients.append(client)
        self.connections += 1
        self._touch()
        try:
            await ws.send_json({"id": ulid(), "ts": ts(), "type": "welcome",
                                "data": {"message": "You are in a maze of dank memes, all alike.",
                                         "client_id": ulid()}})
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_frame(client, msg.data)
        finally:
            self.clients.remove(client)
            self._touch()
        return ws

    async def _on_frame(self, client: AstroClient, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        nonce = frame.get("nonce") if isinstance(frame, dict) else None
        if not isinstance(frame, dict) or frame.get("type") not in ("subscribe", "unsubscribe"):
            await self._respond(client, nonce, "invalid_message_type", "unknown message type")
            return
        data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
        topic, token = data.get("topic"), data.get("token")
        if frame["type"] == "unsubscribe":
            client.topics.discard(topic)
            await self._respond(client, nonce, None, "successfully unsubscribed from topic", topic)
            return
        self.subscribes.append(dict(data))
        self._touch()
        if topic not in KNOWN_TOPICS:
            await self._respond(client, nonce, "err_bad_request", "unknown topic")
        elif self.tokens.get(token) != data.get("token_type"):
            await self._respond(client, nonce, "err_unauthorized", "invalid token")
        elif data.get("room") not in (None, CHANNEL):
            await self._respond(client, nonce, "err_unauthorized", "no access to room")
        else:
            client.topics.add(topic)
            await self._respond(client, nonce, None, "successfully subscribed to topic", topic)
        self._touch()

    async def _respond(self, client: AstroClient, nonce: Any, error: str | None, message: str,
                       topic: str | None = None) -> None:
        frame: dict[str, Any] = {"id": ulid(), "ts": ts(), "type": "response"}
        if nonce is not None:
            frame["nonce"] = nonce
        data: dict[str, Any] = {"message": message}
        if error:
            frame["error"] = error
            self.refused.append(error)
        else:
            data.update({"topic": topic, "room": CHANNEL})
        frame["data"] = data
        await client.ws.send_json(frame)


def fake_jwt(channel: str = CHANNEL) -> str:
    """An unsigned JWT-shaped token carrying a ``channel`` claim, like StreamElements'."""
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    sig = "".join(secrets.choice(string.ascii_letters) for _ in range(20))
    header = part({"alg": "HS256", "typ": "JWT"})
    return f"{header}.{part({'channel': channel, 'role': 'owner'})}.{sig}"
