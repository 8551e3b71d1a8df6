"""Rehearsal: a local, authenticated HTTP endpoint that fires any alert on demand.

`vtbot trigger cheer --bits 500` posts here, so a streamer can watch every alert
(effects, lines, OBS scenes) before going live. The endpoint binds to 127.0.0.1,
wants the token in `Authorization: Bearer ...`, takes small JSON bodies only, and
rate-limits; the events it makes are ordinary `StreamEvent`s with source "trigger".
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.listen import serve
from bot.tokens import tokens_match

from ..model import EVENT_TYPES, StreamEvent

log = logging.getLogger(__name__)

Publish = Callable[[StreamEvent], Awaitable[str]]
MAX_BODY = 16 * 1024
RATE_PER_S = 10.0
FIELDS = ("user", "bits", "amount", "currency", "tier", "months", "count", "viewers", "reward", "cost",
          "level", "message", "anonymous")
ALIASES = {"sub": "sub", "subscribe": "sub", "resub": "resub", "gift": "gift", "raid": "raid",
           "redeem": "redeem", "follow": "follow", "cheer": "cheer", "donation": "donation", "tip": "donation",
           "hype": "hype_train_begin", "hype_end": "hype_train_end"}


def build_event(body: dict[str, Any]) -> StreamEvent:
    """A trigger's JSON as an event; ValueError says what is wrong."""
    kind = ALIASES.get(str(body.get("type", "")), str(body.get("type", "")))
    if kind not in EVENT_TYPES:
        raise ValueError(f"type: one of {', '.join(EVENT_TYPES)}")
    unknown = set(body) - {"type", "id", *FIELDS}
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}; known: {', '.join(FIELDS)}")
    data = {k: v for k, v in body.items() if k in FIELDS}
    data.setdefault("user", "Rehearsal")
    try:
        return StreamEvent(type=kind, id=str(body.get("id") or uuid.uuid4().hex), source="trigger", **data)
    except ValidationError as e:
        first = e.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


class TriggerServer:
    def __init__(self, token: str, publish: Publish, *, host: str = "127.0.0.1", port: int = 7832):
        self.token = token
        self.publish = publish
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._allowance = RATE_PER_S
        self._last = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/trigger"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/trigger", self._handle)
        self._runner, self.port = await serve(app, self.host, self.port)
        log.info("events: rehearsal triggers on %s", self.url)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _rate_ok(self) -> bool:
        now = time.monotonic()
        self._allowance = min(RATE_PER_S, self._allowance + (now - self._last) * RATE_PER_S)
        self._last = now
        if self._allowance < 1:
            return False
        self._allowance -= 1
        return True

    async def _handle(self, request: web.Request) -> web.Response:
        if not self._rate_ok():
            return _answer(429, "slow down")
        auth = request.headers.get("Authorization", "")
        given = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not tokens_match(given, self.token):
            log.warning("events: a trigger without the right token from %s was refused", request.remote)
            return _answer(401, "the trigger token is missing or wrong")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _answer(413, f"at most {MAX_BODY} bytes")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
            return _answer(400, "a JSON object, please")
        if not isinstance(body, dict):
            return _answer(400, "a JSON object, please")
        try:
            event = build_event(body)
        except ValueError as e:
            return _answer(400, str(e))
        result = await self.publish(event)
        return web.json_response({"ok": True, "result": result, "id": event.id})


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)
