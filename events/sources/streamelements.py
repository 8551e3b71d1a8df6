"""StreamElements tips over the Astro WebSocket gateway (plain JSON over a WebSocket).

After the server's ``welcome`` we subscribe to ``channel.tips`` (required) and to
``channel.tips.moderation`` (optional: it tells us when a held tip is approved). Only a
tip whose ``approved`` is ``allowed`` becomes a donation, so the streamer's tip
moderation is respected; the tip's ``_id`` is the event id, so a tip seen on both
topics is one alert once the bus dedupes.

The server pings at the WebSocket level; aiohttp answers those and, with ``heartbeat``,
pings back so a dead link is noticed. A ``reconnect`` frame carries a token that
restores our subscriptions on the next connection; any other drop reconnects with
backoff and subscribes again. A refused token waits a long time before the next try.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from typing import Any

import aiohttp
from pydantic import SecretStr
from yarl import URL

from bot.config.models import StreamElementsConfig
from bot.logs import add_secret
from events.model import StreamEvent

from .common import OnState, Publish, parse_amount, text, timestamp
from .reconnect import REJECTED_DELAY_S, Backoff, ReconnectingClient, Rejected, Retry, Sleep

log = logging.getLogger(__name__)

TIPS = "channel.tips"
MODERATION = "channel.tips.moderation"
TOPICS = (TIPS, MODERATION)
# subscribe errors that retrying soon cannot fix: the token or the request is wrong
REFUSALS = ("err_unauthorized", "err_bad_request")
RECONNECT_PAUSE_S = 0.25  # the server asked us to move: go almost at once
MAX_FRAME = 1 << 20


def jwt_channel(token: str) -> str | None:
    """The channel id inside a StreamElements JWT (its ``channel`` claim), for ``room``.

    Read without verifying the signature: it only addresses our own request; the
    server checks the token itself.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    channel = claims.get("channel") if isinstance(claims, dict) else None
    return channel if isinstance(channel, str) and channel else None


def parse_tip(data: dict[str, Any]) -> StreamEvent | None:
    """A ``channel.tips``/``channel.tips.moderation`` payload → a donation, or None while
    the tip is not (yet) allowed or did not succeed. ValueError when malformed."""
    tip_id = data.get("_id")
    if not isinstance(tip_id, str) or not tip_id or len(tip_id) > 200:
        raise ValueError("tip without a usable _id")
    if data.get("status", "success") != "success" or data.get("approved", "allowed") != "allowed":
        return None
    donation = data.get("donation")
    if not isinstance(donation, dict):
        raise ValueError("tip without a donation object")
    user = donation.get("user") if isinstance(donation.get("user"), dict) else {}
    name = text(user.get("displayName") or user.get("username"), 100)
    return StreamEvent(
        type="donation",
        id=tip_id,
        source="streamelements",
        user=name,
        anonymous=not name,
        amount=parse_amount(donation.get("amount")),
        currency=text(donation.get("currency"), 10).upper(),
        message=text(donation.get("message"), 2000),
        at=timestamp(data.get("createdAt")),
    )


class StreamElementsSource(ReconnectingClient):
    """Keeps an Astro subscription to the channel's tips and publishes each allowed tip."""

    token_hint = "check $VTBOT_STREAMELEMENTS_TOKEN and streamelements.token_type"

    def __init__(self, cfg: StreamElementsConfig, token: SecretStr, publish: Publish, *,
                 on_state: OnState | None = None, backoff: Backoff | None = None,
                 rejected_delay: float = REJECTED_DELAY_S, handshake_timeout: float = 15.0,
                 heartbeat: float = 30.0, sleep: Sleep = asyncio.sleep):
        super().__init__("streamelements", secrets=(token.get_secret_value(),), on_state=on_state,
                         backoff=backoff, rejected_delay=rejected_delay, sleep=sleep)
        self.cfg = cfg
        self._token = token
        self._publish = publish
        self._handshake_timeout = handshake_timeout
        self._heartbeat = heartbeat
        self._reconnect_token: str | None = None
        secret = token.get_secret_value()
        self._room = jwt_channel(secret) if cfg.token_type == "jwt" else None

    async def start(self) -> None:
        secret = self._token.get_secret_value()
        if not secret:
            raise ValueError("streamelements: no token ($VTBOT_STREAMELEMENTS_TOKEN)")
        add_secret(secret)
        await super().start()

    def _url(self) -> str:
        url = URL(self.cfg.url)
        if self._reconnect_token:
            url = url.update_query(reconnect_token=self._reconnect_token)
        return str(url)

    def _subscribe_frame(self, topic: str, nonce: str) -> dict[str, Any]:
        data: dict[str, Any] = {"topic": topic, "token": self._token.get_secret_value(),
                                "token_type": self.cfg.token_type}
        if self._room:
            data["room"] = self._room
        return {"type": "subscribe", "nonce": nonce, "data": data}

    async def _connect_once(self, session: aiohttp.ClientSession) -> None:
        restoring = self._reconnect_token is not None
        try:
            async with asyncio.timeout(self._handshake_timeout):
                ws = await session.ws_connect(self._url(), heartbeat=self._heartbeat,
                                              max_msg_size=MAX_FRAME)
        except aiohttp.WSServerHandshakeError as e:
            if restoring and 400 <= e.status < 500 and e.status != 429:
                self._reconnect_token = None  # expired or unknown: start afresh
                raise Retry(f"reconnect token refused (HTTP {e.status})",
                            RECONNECT_PAUSE_S) from None
            raise
        async with ws:
            await self._serve(ws, restoring)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse, restoring: bool) -> None:
        """Reads frames until the connection ends, which always raises Retry or Rejected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._handshake_timeout
        pending: dict[str, str] = {}  # nonce → topic
        ready = False
        while True:
            wait = None if ready else max(0.0, deadline - loop.time())
            try:
                msg = await ws.receive(timeout=wait)
            except asyncio.TimeoutError:
                raise Retry("no welcome or subscription answer in time") from None
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.CLOSED):
                raise Retry(f"server closed the connection (code {ws.close_code})")
            if msg.type == aiohttp.WSMsgType.ERROR:
                raise Retry(f"connection error: {ws.exception()}")
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                log.warning("streamelements: ignoring a frame that is not JSON")
                continue
            if not isinstance(frame, dict):
                continue
            kind = frame.get("type")
            data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
            if kind == "welcome":
                if restoring:
                    self._reconnect_token = None  # used: a later drop starts afresh
                    ready = True
                    self._connected()
                    log.info("streamelements: reconnected; subscriptions restored by the server")
                else:
                    for topic in TOPICS:
                        nonce = uuid.uuid4().hex
                        pending[nonce] = topic
                        await ws.send_json(self._subscribe_frame(topic, nonce))
            elif kind == "response":
                if self._on_response(frame, data, pending):
                    ready = True
                    self._connected()
                    log.info("streamelements: subscribed to %s", TIPS)
            elif kind == "message":
                await self._on_message(frame.get("topic"), data)
            elif kind == "reconnect":
                token = data.get("reconnect_token")
                if isinstance(token, str) and token:
                    add_secret(token)
                    self._secrets = (*self._secrets, token)
                    self._reconnect_token = token
                raise Retry("server asked to reconnect", RECONNECT_PAUSE_S)
            else:  # keepalive-like or new frame types: the connection is alive, nothing to do
                log.debug("streamelements: ignoring a %r frame", kind)

    def _on_response(self, frame: dict[str, Any], data: dict[str, Any],
                     pending: dict[str, str]) -> bool:
        """Handles a subscribe answer; True when the tips subscription is in place."""
        nonce = frame.get("nonce")
        topic = pending.pop(nonce, None) if isinstance(nonce, str) else None
        error = frame.get("error")
        detail = f"{error}: {text(data.get('message'), 200)}" if error else ""
        if topic is None:
            if error:
                log.warning("streamelements: server error %s", self._redact(detail))
            return False
        if not error:
            return topic == TIPS
        if topic != TIPS:
            log.warning("streamelements: no %s subscription (%s); tips held for moderation "
                        "will not be announced when approved", topic, self._redact(detail))
            return False
        if error in REFUSALS:
            raise Rejected(detail)
        raise Retry(f"subscribe failed ({detail})")

    async def _on_message(self, topic: Any, data: dict[str, Any]) -> None:
        if topic not in TOPICS:
            log.debug("streamelements: ignoring a message on %r", topic)
            return
        try:
            event = parse_tip(data)
        except ValueError as e:
            log.warning("streamelements: malformed tip on %s: %s", topic, str(e).splitlines()[0])
            return
        if event is None:
            log.info("streamelements: tip %s is %s/%s; not announced", data.get("_id"),
                     data.get("status"), data.get("approved"))
            return
        log.info("streamelements: tip from %s %.2f %s (id %s, %s)", event.who, event.amount,
                 event.currency, event.id, topic)
        try:
            await self._publish(event)
        except Exception:  # noqa: BLE001 - one failed publish must not drop the connection
            log.exception("streamelements: publishing tip %s failed", event.id)
