"""Ko-fi webhook: Ko-fi POSTs each payment here; we check it and publish a donation.

Ko-fi sends ``application/x-www-form-urlencoded`` with one field, ``data``, holding a
JSON string whose ``verification_token`` is the token from Ko-fi's API settings (plain
text, no HMAC), so that token is the only proof a request came from Ko-fi: it is
compared in constant time and never logged.

Status codes, and why:
- 200: published (or an authentic payload of a kind we do not announce): Ko-fi stops.
- 400 malformed, 401 wrong token, 404/405 wrong path/method, 413 body over 64 KiB,
  415 not a form, 429 too many requests from one address: nothing is published.
- 500: the publish callback failed or timed out. The event must not be lost, and Ko-fi
  retries a non-200 delivery with the same ``message_id``, which the bus dedupes, so a
  retry can only help.

Behind a tunnel or reverse proxy every request shares the proxy's address, so the
per-address rate limit then acts as one global limit; its defaults leave plenty of
room for real Ko-fi traffic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.config.models import KofiConfig
from bot.listen import serve
from bot.logs import add_secret
from bot.tokens import tokens_match
from events.model import StreamEvent

from .common import (CONNECTED, CONNECTING, OnState, Publish, StateReporter, disconnected,
                     parse_amount, text, timestamp)

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"
KOFI_TYPES = ("Donation", "Subscription", "Commission", "Shop Order")


class KofiPayloadError(ValueError):
    """An authentic-looking payload we cannot turn into an event (answered 400)."""


class TokenBucket:
    """Per-address token buckets: ``burst`` requests at once, refilled at ``rate``/s."""

    MAX_ADDRESSES = 4096

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.MAX_ADDRESSES:
            self._forget_full(now)
        return allowed

    def _forget_full(self, now: float) -> None:
        """Buckets that have refilled hold no information: drop them to bound memory;
        under a spread-out flood, also the least recently seen half."""
        full = [k for k, (t, last) in self._buckets.items()
                if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) > self.MAX_ADDRESSES:
            by_age = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for k in by_age[: len(by_age) // 2]:
                del self._buckets[k]


def parse_donation(payload: dict[str, Any]) -> StreamEvent:
    """Turns a verified Ko-fi payload into a donation event.

    A payment that is not public keeps both the name and the message private, as Ko-fi
    asks of anyone who shows payments; a payload without ``is_public`` counts as private.
    """
    message_id = payload.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip() or len(message_id) > 200:
        raise KofiPayloadError("message_id is missing or invalid")
    public = payload.get("is_public") is True
    name = text(payload.get("from_name"), 100)
    return StreamEvent(
        type="donation",
        id=message_id.strip(),
        source="kofi",
        user=name if public else "",
        anonymous=not public or not name,
        amount=parse_amount(payload.get("amount")),
        currency=text(payload.get("currency"), 10).upper(),
        message=text(payload.get("message"), 2000) if public else "",
        at=timestamp(payload.get("timestamp")),
    )


class KofiWebhook:
    """An aiohttp server that receives Ko-fi webhooks and publishes donations."""

    def __init__(self, cfg: KofiConfig, token: SecretStr, publish: Publish, *,
                 on_state: OnState | None = None, rate: float = 1.0, burst: int = 20,
                 publish_timeout: float = 10.0):
        self.cfg = cfg
        self._token = token
        self._publish = publish
        self._limiter = TokenBucket(rate, burst)
        self._publish_timeout = publish_timeout
        self._status = StateReporter("kofi", on_state)
        self._runner: web.AppRunner | None = None
        self._port = cfg.port

    @property
    def state(self) -> str:
        return self._status.state

    @property
    def url(self) -> str:
        """Where the webhook listens (the bound port once started, even for port 0)."""
        host = f"[{self.cfg.host}]" if ":" in self.cfg.host else self.cfg.host
        return f"http://{host}:{self._port}{self.cfg.path}"

    async def start(self) -> None:
        secret = self._token.get_secret_value()
        if not secret:
            raise ValueError("kofi: an empty verification token would accept nothing")
        add_secret(secret)
        self._status.set(CONNECTING)
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._rate_limit])
        app.router.add_post(self.cfg.path, self._handle)
        try:
            self._runner, self._port = await serve(app, self.cfg.host, self.cfg.port)
        except OSError as e:
            self._status.set(disconnected(f"cannot listen on {self.cfg.host}:{self.cfg.port}: {e}"))
            raise
        self._status.set(CONNECTED)
        log.info("kofi: webhook listening on %s", self.url)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._status.set(disconnected("closed"))

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Any) -> web.StreamResponse:
        remote = request.remote or "?"
        if not self._limiter.allow(remote):
            log.warning("kofi: too many requests from %s, answering 429", remote)
            return web.Response(status=429, text="too many requests", headers={"Retry-After": "1"})
        return await handler(request)

    async def _handle(self, request: web.Request) -> web.Response:
        remote = request.remote or "?"
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="body too large")
        if request.content_type != FORM:
            return web.Response(status=415, text=f"expected {FORM}")
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="body too large")
        except ValueError:
            return web.Response(status=400, text="unreadable form")
        raw = form.get("data")
        if not isinstance(raw, str):
            log.warning("kofi: request from %s without a data field", remote)
            return web.Response(status=400, text="missing data field")
        try:
            payload = json.loads(raw)
        except ValueError:
            log.warning("kofi: request from %s with data that is not JSON", remote)
            return web.Response(status=400, text="data is not JSON")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="data is not a JSON object")
        if not self._token_ok(payload.get("verification_token")):
            log.warning("kofi: rejected a webhook from %s: wrong verification token", remote)
            return web.Response(status=401, text="bad verification token")
        return await self._accept(payload, remote)

    def _token_ok(self, given: Any) -> bool:
        if not isinstance(given, str):
            return False
        return tokens_match(given, self._token.get_secret_value())

    async def _accept(self, payload: dict[str, Any], remote: str) -> web.Response:
        kind = payload.get("type")
        if kind not in KOFI_TYPES:
            log.info("kofi: ignoring a payment of unknown type %r", kind)
            return web.Response(text="ignored")
        try:
            event = parse_donation(payload)
        except ValueError as e:  # KofiPayloadError, parse_amount's, pydantic's ValidationError
            log.warning("kofi: malformed %s payload from %s: %s", kind, remote,
                        str(e).splitlines()[0])
            return web.Response(status=400, text="malformed payload")
        tier = payload.get("tier_name")
        label = f"{kind} ({tier})" if isinstance(tier, str) and tier else kind
        log.info("kofi: %s from %s %.2f %s (id %s)", label, event.who, event.amount, event.currency,
                 event.id)
        try:
            await asyncio.wait_for(self._publish(event), self._publish_timeout)
        except Exception:  # noqa: BLE001 - answer 500 so Ko-fi retries; never crash the server
            log.exception("kofi: publishing %s %s failed; answering 500 so Ko-fi retries",
                          kind, event.id)
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")
