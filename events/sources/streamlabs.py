"""Streamlabs donations over the Streamlabs Socket API.

That API is a Socket.IO 2.x server (Engine.IO protocol 3). python-socketio 5 only
speaks Engine.IO 4 and cannot talk to it (the project's protocol notes, section E.5),
so this module speaks the few Engine.IO 3 frames it needs over aiohttp's WebSocket:

    0{"sid":..,"pingInterval":..,"pingTimeout":..}   open (server)
    40                                               namespace "/" connected (server)
    42["event",{...}]                                an event (server)
    44"Invalid token"                                refused (server)
    41 / 1                                           disconnect / close
    2 / 3                                            ping (client, every pingInterval) / pong

A socket.io 3/4 server that allows Engine.IO 3 clients accepts the same frames, so
this keeps working should Streamlabs upgrade that way. Only ``donation`` events are
published: follows, subs and bits on Twitch come from EventSub, not from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp
from pydantic import SecretStr
from yarl import URL

from bot.config.models import StreamlabsConfig
from bot.logs import add_secret
from events.model import StreamEvent

from .common import OnState, Publish, parse_amount, text
from .reconnect import REJECTED_DELAY_S, Backoff, ReconnectingClient, Rejected, Retry, Sleep

log = logging.getLogger(__name__)

MAX_FRAME = 1 << 20
DONATION_FOR = (None, "", "streamlabs")  # `for` is absent or "streamlabs" on donations


def socket_url(base: str, token: str) -> str:
    """``https://host`` → ``wss://host/socket.io/?token=..&EIO=3&transport=websocket``."""
    url = URL(base)
    scheme = {"https": "wss", "http": "ws"}.get(url.scheme, url.scheme)
    path = url.path if url.path not in ("", "/") else "/socket.io/"
    return str(url.with_scheme(scheme).with_path(path).with_query(
        {**url.query, "token": token, "EIO": "3", "transport": "websocket"}))


def parse_socketio(frame: str) -> tuple[str, str]:
    """Splits an Engine.IO ``4…`` message into the Socket.IO packet type and its JSON
    payload, skipping a namespace other than "/" (returned as type "") and an ack id."""
    body = frame[1:]
    if not body:
        return "", ""
    kind, rest = body[0], body[1:]
    if rest.startswith("/"):
        nsp, _, rest = rest.partition(",")
        if nsp != "/":
            return "", ""
    i = 0
    while i < len(rest) and rest[i].isdigit():
        i += 1
    return kind, rest[i:]


def parse_donations(payload: dict[str, Any]) -> list[StreamEvent]:
    """An ``event`` payload → one donation event per entry of ``message`` (a list);
    [] for any other type. Malformed entries are skipped with a warning."""
    if payload.get("type") != "donation" or payload.get("for") not in DONATION_FOR:
        return []
    entries = payload.get("message")
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list):
        raise ValueError("donation event without a message list")
    events = []
    for entry in entries:
        try:
            events.append(_donation(entry))
        except ValueError as e:
            log.warning("streamlabs: skipping a malformed donation: %s", str(e).splitlines()[0])
    return events


def _donation(entry: Any) -> StreamEvent:
    if not isinstance(entry, dict):
        raise ValueError("donation entry is not an object")
    raw_id = entry.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (int, str)) or raw_id == "":
        raw_id = entry.get("_id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (int, str)) or raw_id == "":
        raise ValueError("donation without an id")
    name = text(entry.get("name") or entry.get("from"), 100)
    return StreamEvent(
        type="donation",
        id=str(raw_id)[:200],
        source="streamlabs",
        user=name,
        anonymous=not name,
        amount=parse_amount(entry.get("amount")),
        currency=text(entry.get("currency"), 10).upper(),
        message=text(entry.get("message"), 2000),
    )


class StreamlabsSource(ReconnectingClient):
    """Keeps a Streamlabs socket open and publishes each donation it announces."""

    token_hint = "check $VTBOT_STREAMLABS_TOKEN (the Socket API token, not an OAuth token)"

    def __init__(self, cfg: StreamlabsConfig, token: SecretStr, publish: Publish, *,
                 on_state: OnState | None = None, backoff: Backoff | None = None,
                 rejected_delay: float = REJECTED_DELAY_S, handshake_timeout: float = 15.0,
                 sleep: Sleep = asyncio.sleep):
        super().__init__("streamlabs", secrets=(token.get_secret_value(),), on_state=on_state,
                         backoff=backoff, rejected_delay=rejected_delay, sleep=sleep)
        self.cfg = cfg
        self._token = token
        self._publish = publish
        self._handshake_timeout = handshake_timeout
        self._last_heard = 0.0

    async def start(self) -> None:
        secret = self._token.get_secret_value()
        if not secret:
            raise ValueError("streamlabs: no socket token ($VTBOT_STREAMLABS_TOKEN)")
        add_secret(secret)
        await super().start()

    async def _connect_once(self, session: aiohttp.ClientSession) -> None:
        url = socket_url(self.cfg.url, self._token.get_secret_value())
        async with asyncio.timeout(self._handshake_timeout):
            ws = await session.ws_connect(url, max_msg_size=MAX_FRAME)
        async with ws:
            interval, timeout = await self._handshake(ws)
            self._connected()
            log.info("streamlabs: connected")
            quiet = asyncio.Event()
            pinger = asyncio.create_task(self._ping(ws, interval, timeout, quiet))
            try:
                await self._serve(ws)
            except Retry:
                if quiet.is_set():
                    raise Retry("no answer to pings") from None
                raise
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> tuple[float, float]:
        """Waits for the open packet and the namespace connect; returns ping timings (s)."""
        interval = timeout = None
        async with asyncio.timeout(self._handshake_timeout):
            while True:
                frame = await self._next_text(ws)
                if frame.startswith("0") and interval is None:
                    try:
                        info = json.loads(frame[1:])
                        interval = float(info["pingInterval"]) / 1000
                        timeout = float(info["pingTimeout"]) / 1000
                    except (ValueError, KeyError, TypeError):
                        raise Retry("unreadable open packet") from None
                elif frame.startswith("4"):
                    kind, payload = parse_socketio(frame)
                    if kind == "4":
                        raise Rejected(_error_text(payload))
                    if kind == "0" and interval is not None and timeout is not None:
                        return interval, timeout
                elif frame.startswith("1"):
                    raise Retry("server closed the session")

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Reads frames until the connection ends, which always raises Retry or Rejected."""
        while True:
            frame = await self._next_text(ws)
            self._last_heard = asyncio.get_running_loop().time()
            if frame.startswith("4"):
                kind, payload = parse_socketio(frame)
                if kind == "2":
                    await self._on_event(payload)
                elif kind == "4":
                    raise Rejected(_error_text(payload))
                elif kind == "1":
                    raise Retry("server disconnected the namespace")
            elif frame.startswith("1"):
                raise Retry("server closed the session")

    async def _next_text(self, ws: aiohttp.ClientWebSocketResponse) -> str:
        while True:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                return str(msg.data)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.CLOSED):
                raise Retry(f"server closed the connection (code {ws.close_code})")
            if msg.type == aiohttp.WSMsgType.ERROR:
                raise Retry(f"connection error: {ws.exception()}")

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse, interval: float, timeout: float,
                    quiet: asyncio.Event) -> None:
        """Engine.IO 3: the client pings. A server silent for longer than pingInterval +
        pingTimeout is gone: flag it and close, which ends the read loop."""
        loop = asyncio.get_running_loop()
        self._last_heard = loop.time()
        while True:
            await asyncio.sleep(interval)
            if loop.time() - self._last_heard > interval + timeout:
                quiet.set()
                await ws.close()
                return
            try:
                await ws.send_str("2")
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                return  # the socket is going away; the read loop reports why

    async def _on_event(self, payload: str) -> None:
        try:
            packet = json.loads(payload)
        except ValueError:
            log.warning("streamlabs: ignoring an event that is not JSON")
            return
        if not isinstance(packet, list) or len(packet) < 2 or packet[0] != "event":
            return
        body = packet[1]
        if not isinstance(body, dict):
            return
        try:
            events = parse_donations(body)
        except ValueError as e:
            log.warning("streamlabs: malformed %s event: %s", body.get("type"), e)
            return
        tests = _test_ids(body)
        if not events:
            log.debug("streamlabs: ignoring a %r event for %r", body.get("type"), body.get("for"))
        for event in events:
            log.info("streamlabs: donation from %s %.2f %s (id %s)%s", event.who, event.amount,
                     event.currency, event.id, " [test alert]" if event.id in tests else "")
            try:
                await self._publish(event)
            except Exception:  # noqa: BLE001 - one failed publish must not drop the socket
                log.exception("streamlabs: publishing donation %s failed", event.id)


def _error_text(payload: str) -> str:
    """A Socket.IO error packet's payload: a JSON string or an object with ``message``."""
    try:
        value = json.loads(payload) if payload else ""
    except ValueError:
        return payload[:200] or "refused"
    if isinstance(value, dict):
        value = value.get("message", "")
    return str(value)[:200] or "refused"


def _test_ids(body: dict[str, Any]) -> set[str]:
    """Ids of the entries Streamlabs marks ``isTest`` (its dashboard's test alerts)."""
    entries = body.get("message")
    if not isinstance(entries, list):
        return set()
    return {str(e.get("id", e.get("_id"))) for e in entries
            if isinstance(e, dict) and e.get("isTest")}
