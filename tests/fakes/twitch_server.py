"""A local Twitch for tests: OAuth, Helix and EventSub over WebSocket on 127.0.0.1.

It answers in Twitch's own shapes and status codes, so the real twitchio library (and
vtbot's code on top of it) runs against it unchanged once three base URLs are patched
(see ``FakeTwitch.patch_twitchio``). Tests drive it through hooks (``notify``,
``reconnect``, ``drop``, ``revoke``, ``approve_device`` ...) and assert on what it
recorded; ``wait_for`` replaces blind sleeps.

Wire facts follow the project's protocol notes (twitch-obs-protocols.md, sections A
and B) and the sample payloads in tests/assets/twitch/. Where Twitch's behaviour is not
documented, the choice made here is marked "fake's choice".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import os
import secrets
import string
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "twitch"

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# Close codes Twitch uses on EventSub sockets, with the subscription status they leave.
CLOSE_REASONS: dict[int, tuple[str, str]] = {
    4000: ("internal server error", "websocket_internal_error"),
    4001: ("client sent inbound traffic", "websocket_received_inbound_traffic"),
    4002: ("client failed ping-pong", "websocket_failed_ping_pong"),
    4003: ("connection unused", "websocket_connection_unused"),
    4004: ("reconnect grace time expired", "websocket_disconnected"),
    4005: ("network timeout", "websocket_network_timeout"),
    4006: ("network error", "websocket_network_error"),
    4007: ("invalid reconnect", "websocket_disconnected"),
}

REVOCATION_STATUSES = (
    "user_removed",
    "authorization_revoked",
    "notification_failures_exceeded",
    "version_removed",
    "moderator_removed",
    "chat_user_banned",
)


@dataclass(frozen=True)
class SubscriptionSpec:
    """What Twitch checks before it creates one subscription type/version."""

    required: tuple[str, ...]  # condition keys that must be non-empty
    auth_key: str | None = None  # condition key naming the user whose token must subscribe
    scopes: frozenset[str] = frozenset()  # the token needs one of these
    any_of: tuple[str, ...] = ()  # at least one of these condition keys must be non-empty


_CHAT_READ = SubscriptionSpec(("broadcaster_user_id", "user_id"), "user_id",
                              frozenset({"user:read:chat"}))
_SUBS_READ = SubscriptionSpec(("broadcaster_user_id",), "broadcaster_user_id",
                              frozenset({"channel:read:subscriptions"}))
_REDEMPTIONS = SubscriptionSpec(("broadcaster_user_id",), "broadcaster_user_id",
                                frozenset({"channel:read:redemptions",
                                           "channel:manage:redemptions"}))

CATALOG: dict[tuple[str, str], SubscriptionSpec] = {
    ("channel.chat.message", "1"): _CHAT_READ,
    ("channel.chat.notification", "1"): _CHAT_READ,
    ("channel.chat.clear", "1"): _CHAT_READ,
    ("channel.chat.message_delete", "1"): _CHAT_READ,
    ("channel.follow", "2"): SubscriptionSpec(("broadcaster_user_id", "moderator_user_id"),
                                              "moderator_user_id",
                                              frozenset({"moderator:read:followers"})),
    ("channel.cheer", "1"): SubscriptionSpec(("broadcaster_user_id",), "broadcaster_user_id",
                                             frozenset({"bits:read"})),
    ("channel.subscribe", "1"): _SUBS_READ,
    ("channel.subscription.gift", "1"): _SUBS_READ,
    ("channel.subscription.message", "1"): _SUBS_READ,
    ("channel.subscription.end", "1"): _SUBS_READ,
    ("channel.raid", "1"): SubscriptionSpec((), any_of=("to_broadcaster_user_id",
                                                        "from_broadcaster_user_id")),
    ("channel.channel_points_custom_reward_redemption.add", "1"): _REDEMPTIONS,
    ("channel.channel_points_custom_reward_redemption.update", "1"): _REDEMPTIONS,
    ("channel.hype_train.begin", "2"): SubscriptionSpec(("broadcaster_user_id",), "broadcaster_user_id",
                                                        frozenset({"channel:read:hype_train"})),
    ("channel.hype_train.end", "2"): SubscriptionSpec(("broadcaster_user_id",), "broadcaster_user_id",
                                                      frozenset({"channel:read:hype_train"})),
    ("stream.online", "1"): SubscriptionSpec(("broadcaster_user_id",)),
    ("stream.offline", "1"): SubscriptionSpec(("broadcaster_user_id",)),
}


# --------------------------------------------------------------------------- helpers


def rfc3339_ns(t_ns: int | None = None) -> str:
    """Twitch's timestamp form: RFC 3339, UTC, nanosecond precision."""
    t_ns = time.time_ns() if t_ns is None else t_ns
    secs, ns = divmod(t_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns:09d}Z"


def _session_id() -> str:
    # Real ids are opaque base64 (protobuf) strings such as "AgoQHR3s6Mb4T8GFB1l3DlPfiRIG..."
    return "AgoQ" + base64.urlsafe_b64encode(os.urandom(18)).decode().rstrip("=")


def _access_token() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(30))


def _refresh_token() -> str:
    # Real refresh tokens carry '/', '+' and '=': this keeps client URL-encoding honest.
    return base64.b64encode(os.urandom(30)).decode()


def _user_code() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(8))


def load_sample(name: str) -> dict[str, Any]:
    """A sample payload from tests/assets/twitch/ (twitch-rs/twitch_api tests)."""
    return json.loads((ASSETS / name).read_text(encoding="utf-8"))


def _oauth_error(status: int, message: str) -> web.Response:
    return web.json_response({"status": status, "message": message}, status=status)


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error"}


def _helix_error(status: int, message: str) -> web.Response:
    body = {"error": _REASONS.get(status, "Error"), "status": status, "message": message}
    return web.json_response(body, status=status)


def _message_of(response: web.Response) -> str | None:
    return json.loads(response.text or "{}").get("message")


def _clean_condition(condition: Mapping[str, Any]) -> dict[str, str]:
    """Condition with empty values dropped (twitchio sends unused raid keys as "")."""
    return {k: str(v) for k, v in condition.items() if v not in ("", None)}


def _condition_matches(condition: Mapping[str, str], event: Mapping[str, Any]) -> bool:
    """An event belongs to a subscription when every condition key it carries agrees."""
    for key, value in condition.items():
        if key in event and event[key] is not None and str(event[key]) != value:
            return False
    return True


async def wait_until(predicate: Callable[[], T], timeout: float = 5.0, *, what: str = "",
                     changed: Callable[[], asyncio.Event] | None = None,
                     describe: Callable[[], str] | None = None) -> T:
    """Wait until ``predicate()`` is truthy and return it; TimeoutError names ``what``.

    ``changed`` gives an event set on every state change, so the wait wakes at once; it
    also re-checks every 20 ms for state the fake does not own (a bot's inbox).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        remaining = deadline - loop.time()
        if remaining <= 0:
            detail = f"; state: {describe()}" if describe else ""
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for "
                               f"{what or getattr(predicate, '__name__', 'condition')}{detail}")
        event = changed() if changed else None
        try:
            if event is None:
                await asyncio.sleep(min(remaining, 0.02))
            else:
                await asyncio.wait_for(event.wait(), min(remaining, 0.02))
        except TimeoutError:
            pass


# --------------------------------------------------------------------------- state


@dataclass
class FakeUser:
    id: str
    login: str
    display_name: str
    type: str = ""
    broadcaster_type: str = ""
    description: str = ""
    email: str | None = None
    view_count: int = 0
    created_at: str = "2016-12-14T20:32:28Z"
    granted_scopes: set[str] = field(default_factory=set)  # what this user let the app do

    @property
    def person(self) -> tuple[str, str, str]:
        return (self.id, self.login, self.display_name)

    def helix(self, *, with_email: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "login": self.login,
            "display_name": self.display_name,
            "type": self.type,
            "broadcaster_type": self.broadcaster_type,
            "description": self.description,
            "profile_image_url": f"https://static-cdn.jtvnw.net/jtv_user_pictures/{self.login}"
                                 "-profile_image-300x300.png",
            "offline_image_url": "",
            "view_count": self.view_count,
            "created_at": self.created_at,
        }
        if with_email and self.email:
            data["email"] = self.email
        return data


@dataclass
class FakeToken:
    access: str
    client_id: str
    user_id: str | None  # None: an app access token
    scopes: tuple[str, ...]
    expires_at: float  # time.time()
    refresh: str | None = None
    revoked: bool = False

    def valid(self) -> bool:
        return not self.revoked and time.time() < self.expires_at

    def expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))


@dataclass
class RefreshGrant:
    refresh: str
    user_id: str
    scopes: tuple[str, ...]
    used: bool = False


@dataclass
class DeviceGrant:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float  # time.monotonic()
    interval: float
    state: str = "pending"  # pending, approved, denied, used
    user_id: str | None = None
    granted_scopes: tuple[str, ...] | None = None
    deny_message: str = "invalid device code"
    scripted: list[str] = field(default_factory=list)  # answers for the next polls
    polls: list[float] = field(default_factory=list)  # time.monotonic() of each poll


@dataclass
class FakeSubscription:
    id: str
    type: str
    version: str
    condition: dict[str, str]
    session_id: str
    user_id: str
    client_id: str
    created_at: str
    connected_at: str
    status: str = "enabled"
    cost: int = 0

    def transport(self) -> dict[str, Any]:
        return {"method": "websocket", "session_id": self.session_id}

    def helix(self) -> dict[str, Any]:
        """The shape of Create/Get EventSub Subscriptions."""
        transport = self.transport() | {"connected_at": self.connected_at}
        return {"id": self.id, "status": self.status, "type": self.type, "version": self.version,
                "condition": dict(self.condition), "created_at": self.created_at,
                "transport": transport, "cost": self.cost}

    def envelope(self) -> dict[str, Any]:
        """The shape of ``payload.subscription`` in notifications and revocations."""
        return {"id": self.id, "status": self.status, "type": self.type, "version": self.version,
                "cost": self.cost, "condition": dict(self.condition),
                "transport": self.transport(), "created_at": self.created_at}


@dataclass
class Inbound:
    """A frame the client sent (Twitch allows none but PONG)."""

    kind: str
    data: Any


@dataclass
class FakeSession:
    id: str
    ws: web.WebSocketResponse
    keepalive_timeout: int
    connected_at: str
    query: dict[str, str]
    reconnected_from: str | None = None
    status: str = "connected"  # reconnecting, moved, closed
    user_id: str | None = None  # bound by the first subscription
    ever_subscribed: bool = False
    keepalives_enabled: bool = True
    keepalives_sent: int = 0
    keepalives_withheld: int = 0  # periods that passed silent while keepalives were off
    reconnect_url: str | None = None
    successor: str | None = None
    close_code: int | None = None
    closed_by: str | None = None  # "server" or "client"
    frames: list[dict[str, Any]] = field(default_factory=list)
    inbound: list[Inbound] = field(default_factory=list)
    last_sent: float = 0.0  # loop time
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # its keepalive loop

    @property
    def open(self) -> bool:
        return self.close_code is None and not self.ws.closed

    def sent_types(self) -> list[str]:
        return [f["metadata"]["message_type"] for f in self.frames]

    def notifications(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["metadata"]["message_type"] == "notification"]


@dataclass
class HttpRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    status: int


@dataclass
class OAuthCall:
    path: str
    grant_type: str | None
    params: dict[str, str]
    status: int


@dataclass
class SubscriptionPost:
    body: Any
    token: str | None
    user_id: str | None
    status: int
    subscription_id: str | None = None
    message: str | None = None


@dataclass
class ChatPost:
    body: Any
    token: str | None
    user_id: str | None  # None: sent with an app token
    status: int
    is_sent: bool = False
    message_id: str = ""
    drop_code: str | None = None
    error: str | None = None


@dataclass
class Delivery:
    message_id: str
    session_id: str
    subscription_id: str
    frame: dict[str, Any]


# --------------------------------------------------------------------------- the fake


class FakeTwitch:
    """id.twitch.tv + api.twitch.tv/helix + eventsub.wss.twitch.tv in one aiohttp app.

    Every option is a plain attribute a test may change while the server runs.
    ``time_scale`` shrinks the server's own timers (keepalive, unused-connection and
    reconnect windows) without changing the seconds it announces, so timer behaviour
    can be tested quickly against a raw client.
    """

    def __init__(
        self,
        *,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: int = 14_400,
        device_interval: float = 5,
        device_expires_in: float = 1800,
        time_scale: float = 1.0,
        unused_timeout: float | None = None,
        reconnect_grace: float = 30.0,
        reconnect_close_delay: float = 1.0,
        enforce_scopes: bool = True,
        chat_rate_limit: bool = False,
        chat_duplicate_check: bool = False,
        echo_chat: bool = True,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.token_lifetime = token_lifetime
        self.device_interval = device_interval
        self.device_expires_in = device_expires_in
        self.time_scale = time_scale
        self.unused_timeout = unused_timeout  # None: the session's keepalive_timeout
        self.reconnect_grace = reconnect_grace
        self.reconnect_close_delay = reconnect_close_delay
        self.enforce_scopes = enforce_scopes
        self.chat_rate_limit = chat_rate_limit
        self.chat_duplicate_check = chat_duplicate_check
        self.echo_chat = echo_chat
        self.clock: Callable[[], float] = time.monotonic  # for chat rate limits

        self.users: dict[str, FakeUser] = {}
        self.moderators: dict[str, set[str]] = {}  # broadcaster id -> moderator ids
        self.tokens: dict[str, FakeToken] = {}
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.device_grants: dict[str, DeviceGrant] = {}
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.sessions: dict[str, FakeSession] = {}

        self.requests: list[HttpRecord] = []
        self.oauth_calls: list[OAuthCall] = []
        self.subscription_posts: list[SubscriptionPost] = []
        self.chat_posts: list[ChatPost] = []
        self.deliveries: list[Delivery] = []

        self._chat_drops: deque[tuple[str, str]] = deque()
        self._chat_times: dict[tuple[str, str], deque[float]] = {}
        self._last_chat: dict[tuple[str, str], tuple[str, float]] = {}
        self._chat_events: dict[str, dict[str, Any]] = {}
        self._sent_notifications: dict[str, tuple[str, dict[str, Any]]] = {}
        self._reconnect_ids: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeTwitch:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record_middleware])
        app.router.add_post("/oauth2/token", self._oauth_token)
        app.router.add_get("/oauth2/validate", self._oauth_validate)
        app.router.add_post("/oauth2/device", self._oauth_device)
        app.router.add_post("/oauth2/revoke", self._oauth_revoke)
        app.router.add_get("/helix/users", self._helix_users)
        app.router.add_post("/helix/eventsub/subscriptions", self._helix_sub_create)
        app.router.add_get("/helix/eventsub/subscriptions", self._helix_sub_list)
        app.router.add_delete("/helix/eventsub/subscriptions", self._helix_sub_delete)
        app.router.add_post("/helix/chat/messages", self._helix_chat_send)
        app.router.add_route("*", "/helix/{tail:.*}", self._helix_unknown)
        app.router.add_get("/ws", self._ws_handler)
        # No access log: twitchio puts secrets in query strings, and tests read caplog.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            if session.open:
                await self._close_session(session, 1001, "server shutting down")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def patch_twitchio(self, monkeypatch: Any) -> None:
        """Point twitchio's three hard-coded endpoints here (monkeypatch restores them)."""
        import twitchio.eventsub.websockets
        import twitchio.http

        monkeypatch.setattr(twitchio.http.Route, "BASE", f"{self.base_url}/helix/")
        monkeypatch.setattr(twitchio.http.Route, "ID_BASE", f"{self.base_url}/")
        monkeypatch.setattr(twitchio.eventsub.websockets, "WSS", self.ws_url)

    def _spawn(self, coro: Any, bucket: set[asyncio.Task[Any]] | None = None) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        for b in (self._tasks, bucket) if bucket is not None else (self._tasks,):
            b.add(task)
            task.add_done_callback(b.discard)
        return task

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ----------------------------------------------------------------- waiting

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, *,
                       what: str = "") -> T:
        """Wait until ``predicate()`` is truthy (checked on every change) and return it."""
        return await wait_until(predicate, timeout, what=what, changed=lambda: self._changed,
                                describe=self.describe)

    def describe(self) -> str:
        sessions = ", ".join(f"{s.id[:10]}..({s.status}, close={s.close_code})"
                             for s in self.sessions.values()) or "none"
        subs = ", ".join(f"{s.type}@{s.session_id[:10]}..={s.status}"
                         for s in self.subscriptions.values()) or "none"
        return f"sessions: {sessions}; subscriptions: {subs}"

    async def wait_for_session(self, *, user_id: str | None = None, exclude: Iterable[str] = (),
                               timeout: float = 5.0) -> FakeSession:
        """The first open session (bound to ``user_id`` when given) not in ``exclude``."""
        skip = set(exclude)

        def find() -> FakeSession | None:
            for s in self.sessions.values():
                if s.open and s.id not in skip and (user_id is None or s.user_id == user_id):
                    return s
            return None

        return await self.wait_for(find, timeout, what=f"an open session for user {user_id}")

    async def wait_for_subscription(self, type_: str, *, session_id: str | None = None,
                                    timeout: float = 5.0) -> FakeSubscription:
        def find() -> FakeSubscription | None:
            for s in self.subscriptions.values():
                if (s.type == type_ and s.status == "enabled"
                        and (session_id is None or s.session_id == session_id)):
                    return s
            return None

        return await self.wait_for(find, timeout, what=f"an enabled {type_} subscription")

    def open_sessions(self) -> list[FakeSession]:
        return [s for s in self.sessions.values() if s.open]

    def session_subscriptions(self, session: FakeSession | str) -> list[FakeSubscription]:
        sid = session if isinstance(session, str) else session.id
        return [s for s in self.subscriptions.values() if s.session_id == sid]

    # ----------------------------------------------------------------- users and tokens

    def add_user(self, user_id: str, login: str, *, token: str | None = None,
                 refresh: str | None = None, scopes: Iterable[str] = (),
                 display_name: str | None = None, expires_in: int | None = None,
                 broadcaster_type: str = "", email: str | None = None) -> FakeUser:
        """Register a Twitch user; with ``token`` also a user access token for this app."""
        user = FakeUser(user_id, login, display_name or login, broadcaster_type=broadcaster_type,
                        email=email)
        self.users[user_id] = user
        if token is not None or scopes:
            self.issue_user_token(user_id, scopes, token=token, refresh=refresh,
                                  expires_in=expires_in)
        return user

    def issue_user_token(self, user_id: str, scopes: Iterable[str], *, token: str | None = None,
                         refresh: str | None = None, expires_in: int | None = None) -> FakeToken:
        user = self.users[user_id]
        scope_tuple = tuple(dict.fromkeys(scopes))
        user.granted_scopes.update(scope_tuple)
        lifetime = self.token_lifetime if expires_in is None else expires_in
        tok = FakeToken(token or _access_token(), self.client_id, user_id, scope_tuple,
                        time.time() + lifetime, refresh or _refresh_token())
        self.tokens[tok.access] = tok
        assert tok.refresh is not None
        self.refresh_grants[tok.refresh] = RefreshGrant(tok.refresh, user_id, scope_tuple)
        return tok

    def issue_app_token(self) -> FakeToken:
        tok = FakeToken(_access_token(), self.client_id, None, (), time.time() + 5_000_000)
        self.tokens[tok.access] = tok
        return tok

    def expire_token(self, token: str) -> None:
        """Make an access token expired: validate and Helix now answer 401."""
        self.tokens[token].expires_at = time.time() - 1

    def revoke_refresh(self, refresh: str) -> None:
        self.refresh_grants[refresh].used = True

    def token_for_user(self, user_id: str) -> FakeToken:
        """The newest valid user token issued to ``user_id``."""
        for tok in reversed(list(self.tokens.values())):
            if tok.user_id == user_id and tok.valid():
                return tok
        raise LookupError(f"no valid token for user {user_id}")

    def add_moderator(self, broadcaster_id: str, user_id: str) -> None:
        self.moderators.setdefault(broadcaster_id, set()).add(user_id)

    # ----------------------------------------------------------------- device code hooks

    def device_grant(self, code: str) -> DeviceGrant:
        """A grant by its user code or device code."""
        for g in self.device_grants.values():
            if code in (g.user_code, g.device_code):
                return g
        raise LookupError(f"no device grant with code {code!r}")

    def approve_device(self, code: str, user_id: str, *,
                       scopes: Iterable[str] | None = None) -> None:
        """The user typed the code at twitch.tv/activate and clicked Authorize."""
        grant = self.device_grant(code)
        grant.state = "approved"
        grant.user_id = user_id
        grant.granted_scopes = tuple(scopes) if scopes is not None else grant.scopes
        self._bump()

    def deny_device(self, code: str, *, message: str = "invalid device code") -> None:
        """The user declined. Fake's choice: Twitch then answers 'invalid device code'."""
        grant = self.device_grant(code)
        grant.state = "denied"
        grant.deny_message = message
        self._bump()

    def expire_device(self, code: str) -> None:
        self.device_grant(code).expires_at = time.monotonic() - 1

    def script_device(self, code: str, *messages: str) -> None:
        """Answer the next polls with these 400 messages (e.g. "slow_down")."""
        self.device_grant(code).scripted.extend(messages)

    # ----------------------------------------------------------------- chat hooks

    def queue_chat_drop(self, code: str, message: str | None = None) -> None:
        """Drop the next sent chat message with this drop reason (is_sent false)."""
        self._chat_drops.append((code, message or f"Your message was not sent ({code})."))

    def sent_chat(self) -> list[ChatPost]:
        return [p for p in self.chat_posts if p.is_sent]

    # ----------------------------------------------------------------- EventSub hooks

    def _session(self, session: FakeSession | str | None) -> FakeSession:
        if isinstance(session, FakeSession):
            return session
        if session is None:
            live = self.open_sessions()
            if len(live) != 1:
                raise LookupError(f"expected exactly one open session, have {len(live)}")
            return live[0]
        return self.sessions[session]

    async def notify(self, subscription_type: str, event: Mapping[str, Any], *,
                     version: str | None = None, message_id: str | None = None,
                     require: bool = True) -> list[Delivery]:
        """Deliver ``event`` to every enabled subscription it matches, one envelope each."""
        subs = [s for s in self.subscriptions.values()
                if s.status == "enabled" and s.type == subscription_type
                and (version is None or s.version == version)
                and _condition_matches(s.condition, event)]
        if not subs and require:
            raise LookupError(f"no enabled {subscription_type} subscription matches the event; "
                              f"{self.describe()}")
        out: list[Delivery] = []
        for sub in subs:
            mid = message_id or str(uuid.uuid4())
            frame = {
                "metadata": {"message_id": mid, "message_type": "notification",
                             "message_timestamp": rfc3339_ns(),
                             "subscription_type": sub.type,
                             "subscription_version": sub.version},
                "payload": {"subscription": sub.envelope(), "event": copy.deepcopy(dict(event))},
            }
            session = self.sessions[sub.session_id]
            await self._send(session, frame)
            self._sent_notifications[mid] = (sub.id, frame)
            if sub.type == "channel.chat.message":
                self._chat_events[str(event.get("message_id"))] = dict(event)
            delivery = Delivery(mid, session.id, sub.id, frame)
            self.deliveries.append(delivery)
            out.append(delivery)
        return out

    async def redeliver(self, message_id: str) -> Delivery:
        """Send an identical notification again (Twitch delivers at least once)."""
        sub_id, frame = self._sent_notifications[message_id]
        sub = self.subscriptions[sub_id]
        if sub.status != "enabled":
            raise LookupError(f"subscription {sub_id} is {sub.status}")
        session = self.sessions[sub.session_id]
        await self._send(session, frame)
        delivery = Delivery(message_id, session.id, sub.id, frame)
        self.deliveries.append(delivery)
        return delivery

    async def reconnect(self, session: FakeSession | str | None = None, *, wait: bool = True,
                        timeout: float = 5.0) -> FakeSession | None:
        """Send session_reconnect; with ``wait``, return the session the client moved to.

        Until the new session's welcome, events still go to the old one (as on Twitch);
        then the subscriptions move and the old socket, if still open after
        ``reconnect_close_delay``, is closed with 4004.
        """
        old = self._session(session)
        rid = secrets.token_urlsafe(16)
        self._reconnect_ids[rid] = old.id
        old.status = "reconnecting"
        old.reconnect_url = f"{self.ws_url}?reconnect_id={rid}"
        frame = load_sample("session_reconnect.v.websocket.reconnect.json")
        frame["metadata"].update(message_id=str(uuid.uuid4()), message_timestamp=rfc3339_ns())
        frame["payload"]["session"].update(id=old.id, status="reconnecting",
                                           keepalive_timeout_seconds=None,
                                           reconnect_url=old.reconnect_url,
                                           connected_at=old.connected_at)
        await self._send(old, frame)
        self._spawn(self._reconnect_grace(old))
        if not wait:
            return None
        return await self.wait_for(
            lambda: self.sessions.get(old.successor) if old.successor else None,
            timeout, what=f"the client to move off session {old.id}")

    async def drop(self, session: FakeSession | str | None = None, code: int = 4006,
                   reason: str | None = None) -> FakeSession:
        """Close a session abruptly; its subscriptions are disabled for good."""
        s = self._session(session)
        await self._close_session(s, code, reason or CLOSE_REASONS.get(code, ("closed", ""))[0])
        return s

    def stop_keepalives(self, session: FakeSession | str | None = None) -> None:
        self._session(session).keepalives_enabled = False

    def resume_keepalives(self, session: FakeSession | str | None = None) -> None:
        self._session(session).keepalives_enabled = True

    async def revoke(self, subscription_id: str, status: str = "authorization_revoked") -> None:
        """Revoke a subscription and tell the session holding it."""
        sub = self.subscriptions[subscription_id]
        sub.status = status
        session = self.sessions.get(sub.session_id)
        if session is not None and session.open:
            frame = load_sample("channel.follow.v1.websocket.revocation.json")
            frame["metadata"].update(message_id=str(uuid.uuid4()), message_timestamp=rfc3339_ns(),
                                     subscription_type=sub.type, subscription_version=sub.version)
            frame["payload"]["subscription"] = sub.envelope()
            await self._send(session, frame)
        self._bump()

    # ----------------------------------------------------------------- HTTP plumbing

    @web.middleware
    async def _record_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if request.path != "/ws":
            query = {k: request.query.getall(k) for k in request.query}
            self.requests.append(HttpRecord(request.method, request.path, query,
                                            request.headers.get("Authorization"),
                                            response.status))
            self._bump()
        return response

    @staticmethod
    async def _params(request: web.Request) -> dict[str, str]:
        """OAuth parameters: twitchio sends them in the query, others in a form body."""
        params = {k: v for k, v in request.query.items()}
        if request.content_type == "application/x-www-form-urlencoded" and request.can_read_body:
            form = await request.post()
            params.update({k: str(v) for k, v in form.items()})
        return params

    def _helix_token(self, request: web.Request) -> FakeToken | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _helix_error(401, "OAuth token is missing")
        tok = self.tokens.get(header.removeprefix("Bearer ").strip())
        if tok is None or not tok.valid():
            return _helix_error(401, "Invalid OAuth token")
        client_id = request.headers.get("Client-Id")
        if client_id is None:
            return _helix_error(401, "Client ID is missing")  # fake's wording
        if client_id != tok.client_id:
            return _helix_error(401, "Client ID and OAuth token do not match")
        return tok

    @staticmethod
    def _ratelimit_headers(response: web.Response) -> web.Response:
        response.headers.update({"Ratelimit-Limit": "800", "Ratelimit-Remaining": "799",
                                 "Ratelimit-Reset": str(int(time.time()) + 60)})
        return response

    # ----------------------------------------------------------------- OAuth

    async def _oauth_token(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        grant = p.get("grant_type")
        response = await self._oauth_token_inner(p, grant)
        self.oauth_calls.append(OAuthCall("/oauth2/token", grant, p, response.status))
        return response

    async def _oauth_token_inner(self, p: dict[str, str], grant: str | None) -> web.Response:
        if p.get("client_id") != self.client_id:
            return _oauth_error(400, "invalid client")
        secret = p.get("client_secret")
        if secret is not None and secret != self.client_secret:
            return _oauth_error(403, "invalid client secret")

        if grant == "client_credentials":
            if secret is None:
                return _oauth_error(400, "missing client secret")
            tok = self.issue_app_token()
            return web.json_response({"access_token": tok.access, "expires_in": tok.expires_in(),
                                      "token_type": "bearer"})

        if grant == "refresh_token":
            rg = self.refresh_grants.get(p.get("refresh_token", ""))
            if rg is None or rg.used:
                return _oauth_error(400, "Invalid refresh token")
            if secret is None:
                rg.used = True  # public (device-code) clients: refresh tokens are single use
            tok = self.issue_user_token(rg.user_id, rg.scopes)
            return web.json_response({"access_token": tok.access, "refresh_token": tok.refresh,
                                      "expires_in": tok.expires_in(), "scope": list(tok.scopes),
                                      "token_type": "bearer"})

        if grant == DEVICE_GRANT:
            dg = self.device_grants.get(p.get("device_code", ""))
            if dg is None or dg.client_id != p.get("client_id"):
                return _oauth_error(400, "invalid device code")
            dg.polls.append(time.monotonic())
            self._bump()
            if dg.scripted:
                return _oauth_error(400, dg.scripted.pop(0))
            if dg.state == "used" or time.monotonic() > dg.expires_at:
                return _oauth_error(400, "invalid device code")
            if dg.state == "denied":
                return _oauth_error(400, dg.deny_message)
            if dg.state == "pending":
                return _oauth_error(400, "authorization_pending")
            assert dg.user_id is not None and dg.granted_scopes is not None
            dg.state = "used"
            tok = self.issue_user_token(dg.user_id, dg.granted_scopes)
            return web.json_response({"access_token": tok.access, "refresh_token": tok.refresh,
                                      "expires_in": tok.expires_in(), "scope": list(tok.scopes),
                                      "token_type": "bearer"})

        return _oauth_error(400, "unsupported grant type")  # fake's wording

    async def _oauth_device(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        if p.get("client_id") != self.client_id:
            response = _oauth_error(400, "invalid client")
        else:
            scopes = tuple(s for s in p.get("scopes", "").split() if s)
            grant = DeviceGrant(device_code=secrets.token_hex(20), user_code=_user_code(),
                                client_id=self.client_id, scopes=scopes,
                                expires_at=time.monotonic() + self.device_expires_in,
                                interval=self.device_interval)
            self.device_grants[grant.device_code] = grant
            response = web.json_response({
                "device_code": grant.device_code,
                "expires_in": self.device_expires_in,
                "interval": self.device_interval,
                "user_code": grant.user_code,
                "verification_uri": "https://www.twitch.tv/activate?public=true"
                                    f"&device-code={grant.user_code}",
            })
            self._bump()
        self.oauth_calls.append(OAuthCall("/oauth2/device", None, p, response.status))
        return response

    async def _oauth_validate(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        for prefix in ("OAuth ", "Bearer "):
            if header.startswith(prefix):
                token = header.removeprefix(prefix).strip()
                break
        else:
            return _oauth_error(401, "missing authorization token")
        tok = self.tokens.get(token)
        if tok is None or not tok.valid():
            return _oauth_error(401, "invalid access token")
        if tok.user_id is None:
            return web.json_response({"client_id": tok.client_id, "scopes": [],
                                      "expires_in": tok.expires_in()})
        user = self.users[tok.user_id]
        return web.json_response({"client_id": tok.client_id, "login": user.login,
                                  "scopes": list(tok.scopes), "user_id": user.id,
                                  "expires_in": tok.expires_in()})

    async def _oauth_revoke(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        if p.get("client_id") != self.client_id:
            response = _oauth_error(404, "client does not exist")
        elif (tok := self.tokens.get(p.get("token", ""))) is None or tok.revoked:
            response = _oauth_error(400, "Invalid token")
        else:
            tok.revoked = True
            response = web.Response(status=200)  # Twitch: 200 with no body
        self.oauth_calls.append(OAuthCall("/oauth2/revoke", None, p, response.status))
        return response

    # ----------------------------------------------------------------- Helix

    async def _helix_unknown(self, request: web.Request) -> web.Response:
        return _helix_error(404, "")

    async def _helix_users(self, request: web.Request) -> web.Response:
        tok = self._helix_token(request)
        if isinstance(tok, web.Response):
            return tok
        ids = request.query.getall("id", [])
        logins = [x.lower() for x in request.query.getall("login", [])]
        if len(ids) + len(logins) > 100:
            return _helix_error(400, "The sum of the ids and login parameters must not exceed 100")
        if not ids and not logins:
            if tok.user_id is None:
                return _helix_error(400, "Must provide either id, login or a user access token")
            ids = [tok.user_id]
        found = [u for u in self.users.values() if u.id in ids or u.login in logins]
        data = [u.helix(with_email=(u.id == tok.user_id and "user:read:email" in tok.scopes))
                for u in found]
        return self._ratelimit_headers(web.json_response({"data": data}))

    async def _helix_sub_create(self, request: web.Request) -> web.Response:
        tok = self._helix_token(request)
        if isinstance(tok, web.Response):
            self.subscription_posts.append(SubscriptionPost(None, None, None, tok.status,
                                                            message=_message_of(tok)))
            return tok
        try:
            body = await request.json()
        except ValueError:
            body = None
        response, sub = self._create_subscription(tok, body)
        self.subscription_posts.append(SubscriptionPost(
            body, tok.access, tok.user_id, response.status, sub.id if sub else None,
            None if sub else _message_of(response)))
        return self._ratelimit_headers(response)

    def _create_subscription(self, tok: FakeToken, body: Any
                             ) -> tuple[web.Response, FakeSubscription | None]:
        if not isinstance(body, dict):
            return _helix_error(400, "malformed JSON body"), None
        type_, version = body.get("type"), body.get("version")
        condition, transport = body.get("condition"), body.get("transport")
        for name, value in (("type", type_), ("version", version), ("condition", condition),
                            ("transport", transport)):
            if not value:
                return _helix_error(400, f'Missing required parameter "{name}"'), None
        spec = CATALOG.get((str(type_), str(version)))
        if spec is None:
            return _helix_error(400, "unsupported subscription type and version"), None
        if not isinstance(condition, dict) or not isinstance(transport, dict):
            return _helix_error(400, "condition and transport must be objects"), None
        if transport.get("method") != "websocket":
            return _helix_error(400, "this fake serves the websocket transport only"), None
        if tok.user_id is None:
            return _helix_error(400, "invalid transport and auth combination"), None
        session = self.sessions.get(str(transport.get("session_id", "")))
        if session is None or not session.open or session.status == "moved":
            return _helix_error(400, "websocket transport session does not exist or has "
                                     "already disconnected"), None
        if session.user_id is not None and session.user_id != tok.user_id:
            # fake's choice: one user per session, as twitchio and Twitch's limits assume
            return _helix_error(400, "websocket transport session belongs to another user"), None

        cond = _clean_condition(condition)
        missing = [k for k in spec.required if k not in cond]
        if spec.any_of and not any(k in cond for k in spec.any_of):
            missing.append(" or ".join(spec.any_of))
        if missing:
            return _helix_error(400, f"condition is missing {', '.join(missing)}"), None
        if self.enforce_scopes and not self._authorized(tok, spec, cond):
            return _helix_error(403, "subscription missing proper authorization"), None

        for other in self.subscriptions.values():
            if (other.status == "enabled" and other.client_id == tok.client_id
                    and other.type == type_ and other.version == version
                    and other.condition == cond):
                return _helix_error(409, "subscription already exists"), None
        busy = {s.session_id for s in self.subscriptions.values()
                if s.status == "enabled" and s.user_id == tok.user_id}
        busy.discard(session.id)
        if len(busy) >= 3:
            return _helix_error(429, "number of websocket transports limit exceeded"), None
        if len(self.session_subscriptions(session)) >= 300:
            return _helix_error(429, "number of subscriptions on this session exceeded"), None

        sub = FakeSubscription(str(uuid.uuid4()), str(type_), str(version), cond, session.id,
                               tok.user_id, tok.client_id, rfc3339_ns(), session.connected_at)
        self.subscriptions[sub.id] = sub
        session.user_id = tok.user_id
        session.ever_subscribed = True
        mine = [s for s in self.subscriptions.values()
                if s.user_id == tok.user_id and s.status == "enabled"]
        body_out = {"data": [sub.helix()], "total": len(mine),
                    "total_cost": sum(s.cost for s in mine), "max_total_cost": 10}
        return web.json_response(body_out, status=202), sub

    def _authorized(self, tok: FakeToken, spec: SubscriptionSpec, cond: dict[str, str]) -> bool:
        if spec.auth_key is None:
            return True
        if cond.get(spec.auth_key) != tok.user_id:
            return False
        if spec.auth_key == "moderator_user_id":
            broadcaster = cond.get("broadcaster_user_id", "")
            if tok.user_id != broadcaster and tok.user_id not in self.moderators.get(broadcaster,
                                                                                     set()):
                return False
        return not spec.scopes or bool(spec.scopes & set(tok.scopes))

    async def _helix_sub_list(self, request: web.Request) -> web.Response:
        tok = self._helix_token(request)
        if isinstance(tok, web.Response):
            return tok
        q = request.query
        subs = [s for s in self.subscriptions.values() if s.client_id == tok.client_id
                and (tok.user_id is None or s.user_id == tok.user_id)]
        if "status" in q:
            subs = [s for s in subs if s.status == q["status"]]
        if "type" in q:
            subs = [s for s in subs if s.type == q["type"]]
        if "user_id" in q:
            subs = [s for s in subs if q["user_id"] in s.condition.values()]
        if "subscription_id" in q:
            subs = [s for s in subs if s.id == q["subscription_id"]]
        enabled = [s for s in subs if s.status == "enabled"]
        body = {"data": [s.helix() for s in subs], "total": len(subs),
                "total_cost": sum(s.cost for s in enabled), "max_total_cost": 10,
                "pagination": {}}
        return self._ratelimit_headers(web.json_response(body))

    async def _helix_sub_delete(self, request: web.Request) -> web.Response:
        tok = self._helix_token(request)
        if isinstance(tok, web.Response):
            return tok
        sub_id = request.query.get("id")
        if not sub_id:
            return _helix_error(400, 'Missing required parameter "id"')
        sub = self.subscriptions.get(sub_id)
        if sub is None or (tok.user_id is not None and sub.user_id != tok.user_id):
            return _helix_error(404, "subscription not found")  # fake's wording
        del self.subscriptions[sub_id]
        self._bump()
        return self._ratelimit_headers(web.Response(status=204))

    async def _helix_chat_send(self, request: web.Request) -> web.Response:
        tok = self._helix_token(request)
        if isinstance(tok, web.Response):
            self.chat_posts.append(ChatPost(None, None, None, tok.status, error=_message_of(tok)))
            return tok
        try:
            body = await request.json()
        except ValueError:
            body = None
        post = ChatPost(body, tok.access, tok.user_id, 200)
        response = self._send_chat(tok, body, post)
        post.status = response.status
        if response.status >= 400:
            post.error = _message_of(response)
        self.chat_posts.append(post)
        self._bump()
        return self._ratelimit_headers(response)

    def _send_chat(self, tok: FakeToken, body: Any, post: ChatPost) -> web.Response:
        if not isinstance(body, dict):
            return _helix_error(400, "malformed JSON body")
        for name in ("broadcaster_id", "sender_id", "message"):
            if not body.get(name):
                return _helix_error(400, f'Missing required parameter "{name}"')
        broadcaster, sender = str(body["broadcaster_id"]), str(body["sender_id"])
        text = str(body["message"])
        if len(text) > 500:
            return _helix_error(400, 'The parameter "message" was malformed: the value must be '
                                     "500 characters or fewer")
        if broadcaster not in self.users or sender not in self.users:
            return _helix_error(400, "The broadcaster or sender does not exist")
        mods = self.moderators.get(broadcaster, set())
        if tok.user_id is not None:
            if body.get("for_source_only") is not None:
                return _helix_error(400, "for_source_only may only be set with an app token")
            if tok.user_id != sender:
                return _helix_error(403, "The sender_id must match the user ID in the token")
            if self.enforce_scopes and "user:write:chat" not in tok.scopes:
                return _helix_error(401, "Missing scope: user:write:chat")
        elif self.enforce_scopes:
            granted = self.users[sender].granted_scopes
            if not {"user:write:chat", "user:bot"} <= granted:
                return _helix_error(403, "The sender has not authorized the app with "
                                         "user:write:chat and user:bot")
            if (sender != broadcaster and sender not in mods
                    and "channel:bot" not in self.users[broadcaster].granted_scopes):
                return _helix_error(403, "The broadcaster has not authorized the app with "
                                         "channel:bot and the sender is not a moderator")

        drop = self._chat_drop_reason(broadcaster, sender, text, mods)
        if drop is not None:
            post.drop_code = drop[0]
            return web.json_response({"data": [{"message_id": "", "is_sent": False,
                                                "drop_reason": {"code": drop[0],
                                                                "message": drop[1]}}]})
        now = self.clock()
        self._chat_times.setdefault((broadcaster, sender), deque()).append(now)
        self._last_chat[(broadcaster, sender)] = (text, now)
        post.is_sent = True
        post.message_id = str(uuid.uuid4())
        if self.echo_chat:
            self._spawn(self._echo_chat(broadcaster, sender, text, post.message_id,
                                        body.get("reply_parent_message_id")))
        return web.json_response({"data": [{"message_id": post.message_id, "is_sent": True,
                                            "drop_reason": None}]})

    def _chat_drop_reason(self, broadcaster: str, sender: str, text: str,
                          mods: set[str]) -> tuple[str, str] | None:
        if self._chat_drops:
            return self._chat_drops.popleft()
        now = self.clock()
        if self.chat_rate_limit:
            window = self._chat_times.setdefault((broadcaster, sender), deque())
            while window and now - window[0] >= 30.0:
                window.popleft()
            limit = 100 if (sender == broadcaster or sender in mods) else 20
            if len(window) >= limit:
                return ("msg_ratelimit",
                        "Your message was not sent because you are sending messages too quickly.")
        if self.chat_duplicate_check:
            last = self._last_chat.get((broadcaster, sender))
            if last is not None and last[0] == text and now - last[1] < 30.0:
                return ("msg_duplicate", "Your message was not sent because it is identical "
                                         "to the previous one you sent, less than 30 seconds ago.")
        return None

    async def _echo_chat(self, broadcaster: str, sender: str, text: str, message_id: str,
                         reply_to: str | None) -> None:
        """Twitch shows a sent message to chat readers too: deliver it as an event."""
        b, s = self.users[broadcaster], self.users[sender]
        badges = []
        if sender == broadcaster:
            badges.append({"set_id": "broadcaster", "id": "1", "info": ""})
        elif sender in self.moderators.get(broadcaster, set()):
            badges.append({"set_id": "moderator", "id": "1", "info": ""})
        reply = None
        parent = self._chat_events.get(reply_to or "")
        if parent is not None:
            reply = reply_from(parent)
        event = chat_message_event(broadcaster=b.person, chatter=s.person, text=text,
                                   message_id=message_id, badges=badges, reply=reply)
        with contextlib.suppress(ConnectionError):  # the reader's socket closed meanwhile
            await self.notify("channel.chat.message", event, require=False)

    # ----------------------------------------------------------------- EventSub WebSocket

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        old: FakeSession | None = None
        rid = request.query.get("reconnect_id")
        if rid is not None:
            old_id = self._reconnect_ids.pop(rid, None)
            old = self.sessions.get(old_id) if old_id else None
            if old is None or old.status != "reconnecting" or not old.open:
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                await ws.close(code=4007, message=b"invalid reconnect")
                return ws
            keepalive = old.keepalive_timeout
        else:
            raw = request.query.get("keepalive_timeout_seconds", "10")
            try:
                keepalive = min(600, max(10, int(float(raw))))
            except ValueError:
                return _helix_error(400, "keepalive_timeout_seconds must be a number")

        ws = web.WebSocketResponse(autoping=True, timeout=3.0)
        await ws.prepare(request)
        session = FakeSession(_session_id(), ws, keepalive, rfc3339_ns(), dict(request.query),
                              reconnected_from=old.id if old else None)
        self.sessions[session.id] = session
        welcome = load_sample("session_welcome.v.websocket.welcome.json")
        welcome["metadata"].update(message_id=str(uuid.uuid4()), message_timestamp=rfc3339_ns())
        welcome["payload"]["session"].update(id=session.id, status="connected",
                                             connected_at=session.connected_at,
                                             keepalive_timeout_seconds=keepalive,
                                             reconnect_url=None, recovery_url=None)
        await self._send(session, welcome)
        if old is not None:
            self._move_subscriptions(old, session)
        self._spawn(self._keepalive_loop(session), session.tasks)
        if not session.ever_subscribed:
            self._spawn(self._unused_watch(session))

        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    session.inbound.append(Inbound(msg.type.name.lower(), msg.data))
                    await self._close_session(session, 4001, CLOSE_REASONS[4001][0])
                    break
        finally:
            if session.close_code is None:
                session.close_code = ws.close_code or 1006
                session.closed_by = "client"
                self._disable_session(session, "websocket_disconnected")
            for task in list(session.tasks):  # the keepalive loop
                task.cancel()
            self._bump()
        return ws

    def _move_subscriptions(self, old: FakeSession, new: FakeSession) -> None:
        for sub in self.session_subscriptions(old):
            if sub.status == "enabled":
                sub.session_id = new.id
        new.user_id = old.user_id
        new.ever_subscribed = old.ever_subscribed
        old.status = "moved"
        old.successor = new.id
        self._spawn(self._close_later(old, self.reconnect_close_delay, 4004))
        self._bump()

    async def _send(self, session: FakeSession, frame: dict[str, Any]) -> None:
        async with session.lock:
            if not session.open:
                raise ConnectionError(f"session {session.id} is closed")
            await session.ws.send_str(json.dumps(frame))
            session.frames.append(frame)
            session.last_sent = asyncio.get_running_loop().time()
        self._bump()

    async def _close_session(self, session: FakeSession, code: int, reason: str) -> None:
        if session.close_code is not None:
            return
        session.close_code = code
        session.closed_by = "server"
        self._disable_session(session, CLOSE_REASONS.get(code, ("", "websocket_disconnected"))[1])
        await session.ws.close(code=code, message=reason.encode())
        self._bump()

    def _disable_session(self, session: FakeSession, status: str) -> None:
        if session.status != "moved":
            session.status = "closed"
        for sub in self.session_subscriptions(session):
            if sub.status == "enabled":
                sub.status = status

    async def _close_later(self, session: FakeSession, delay: float, code: int) -> None:
        await asyncio.sleep(delay * self.time_scale)
        if session.open:
            await self._close_session(session, code, CLOSE_REASONS[code][0])

    async def _reconnect_grace(self, session: FakeSession) -> None:
        await asyncio.sleep(self.reconnect_grace * self.time_scale)
        if session.open and session.status == "reconnecting":
            await self._close_session(session, 4004, CLOSE_REASONS[4004][0])

    async def _unused_watch(self, session: FakeSession) -> None:
        window = (self.unused_timeout if self.unused_timeout is not None
                  else session.keepalive_timeout)
        await asyncio.sleep(window * self.time_scale)
        if session.open and not session.ever_subscribed:
            await self._close_session(session, 4003, CLOSE_REASONS[4003][0])

    async def _keepalive_loop(self, session: FakeSession) -> None:
        """Send session_keepalive whenever the socket was silent for keepalive_timeout."""
        loop = asyncio.get_running_loop()
        interval = session.keepalive_timeout * self.time_scale
        while session.open:
            wait = session.last_sent + interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if not session.keepalives_enabled:
                session.keepalives_withheld += 1
                await asyncio.sleep(interval)
                continue
            frame = load_sample("session_keepalive.v.websocket.keepalive.json")
            frame["metadata"].update(message_id=str(uuid.uuid4()), message_timestamp=rfc3339_ns())
            session.keepalives_sent += 1  # counted before the await: stopping may come meanwhile
            try:
                await self._send(session, frame)
            except (ConnectionError, RuntimeError):
                return


# --------------------------------------------------------------------------- payloads

Person = tuple[str, str, str]  # (user id, login, display name)


def _person(who: Person | FakeUser) -> Person:
    return who.person if isinstance(who, FakeUser) else who


def text_fragment(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cheermote": None, "emote": None, "mention": None}


def mention_fragment(who: Person | FakeUser) -> dict[str, Any]:
    uid, login, name = _person(who)
    return {"type": "mention", "text": f"@{name}", "cheermote": None, "emote": None,
            "mention": {"user_id": uid, "user_name": name, "user_login": login}}


def emote_fragment(text: str, emote_id: str, *, emote_set_id: str = "0", owner_id: str = "0",
                   formats: Iterable[str] = ("static",)) -> dict[str, Any]:
    return {"type": "emote", "text": text, "cheermote": None, "mention": None,
            "emote": {"id": emote_id, "emote_set_id": emote_set_id, "owner_id": owner_id,
                      "format": list(formats)}}


def cheermote_fragment(prefix: str, bits: int, *, tier: int | None = None) -> dict[str, Any]:
    tier = tier if tier is not None else max(t for t in (1, 100, 1000, 5000, 10000) if t <= bits)
    return {"type": "cheermote", "text": f"{prefix}{bits}", "emote": None, "mention": None,
            "cheermote": {"prefix": prefix.lower(), "bits": bits, "tier": tier}}


def reply_from(parent: Mapping[str, Any]) -> dict[str, Any]:
    """The ``reply`` object of a message answering ``parent`` (a chat message event)."""
    thread = parent.get("reply") or {}
    return {
        "parent_message_id": parent["message_id"],
        "parent_message_body": parent["message"]["text"],
        "parent_user_id": parent["chatter_user_id"],
        "parent_user_login": parent["chatter_user_login"],
        "parent_user_name": parent["chatter_user_name"],
        "thread_message_id": thread.get("thread_message_id", parent["message_id"]),
        "thread_user_id": thread.get("thread_user_id", parent["chatter_user_id"]),
        "thread_user_login": thread.get("thread_user_login", parent["chatter_user_login"]),
        "thread_user_name": thread.get("thread_user_name", parent["chatter_user_name"]),
    }


def chat_message_event(
    *,
    broadcaster: Person | FakeUser,
    chatter: Person | FakeUser,
    text: str | None = None,
    fragments: list[dict[str, Any]] | None = None,
    message_id: str | None = None,
    badges: list[dict[str, str]] | None = None,
    color: str = "#00FF7F",
    message_type: str = "text",
    cheer_bits: int | None = None,
    reply: dict[str, Any] | None = None,
    channel_points_custom_reward_id: str | None = None,
    channel_points_animation_id: str | None = None,
    shared_from: Person | FakeUser | None = None,
    source_message_id: str | None = None,
    source_badges: list[dict[str, str]] | None = None,
    is_source_only: bool | None = None,
) -> dict[str, Any]:
    """A channel.chat.message v1 event, from Twitch's sample plus the keys twitchio 3.3 needs.

    ``text`` alone makes one text fragment; ``fragments`` alone sets the text to their
    concatenation. ``shared_from`` makes it a shared-chat message from another channel.
    """
    sample = "channel.chat.message.v1.message.parse_payload" + ("_shared" if shared_from else "")
    event = load_sample(sample + ".json")["event"]
    if fragments is None:
        fragments = [text_fragment(text if text is not None else event["message"]["text"])]
    if text is None:
        text = "".join(f["text"] for f in fragments)
    b_id, b_login, b_name = _person(broadcaster)
    c_id, c_login, c_name = _person(chatter)
    event.update(
        broadcaster_user_id=b_id, broadcaster_user_login=b_login, broadcaster_user_name=b_name,
        chatter_user_id=c_id, chatter_user_login=c_login, chatter_user_name=c_name,
        message_id=message_id or str(uuid.uuid4()),
        message={"text": text, "fragments": fragments},
        color=color,
        message_type=message_type,
        cheer={"bits": cheer_bits} if cheer_bits is not None else None,
        reply=reply,
        channel_points_custom_reward_id=channel_points_custom_reward_id,
        # Missing from Twitch's published sample, required by twitchio 3.x (KeyError otherwise).
        channel_points_animation_id=channel_points_animation_id,
    )
    if badges is not None:
        event["badges"] = badges
    if shared_from is not None:
        s_id, s_login, s_name = _person(shared_from)
        event.update(source_broadcaster_user_id=s_id, source_broadcaster_user_login=s_login,
                     source_broadcaster_user_name=s_name,
                     source_message_id=source_message_id or str(uuid.uuid4()),
                     is_source_only=bool(is_source_only))
        if source_badges is not None:
            event["source_badges"] = source_badges
    else:
        event.update(source_broadcaster_user_id=None, source_broadcaster_user_login=None,
                     source_broadcaster_user_name=None, source_message_id=None,
                     source_badges=None, is_source_only=None)
    return event


def cheer_event(*, broadcaster: Person | FakeUser, user: Person | FakeUser | None, bits: int,
                message: str = "") -> dict[str, Any]:
    """A channel.cheer v1 event; ``user=None`` is an anonymous cheer."""
    event = load_sample("channel.cheer.v1.cheer.parse_payload.json")["event"]
    b_id, b_login, b_name = _person(broadcaster)
    event.update(broadcaster_user_id=b_id, broadcaster_user_login=b_login,
                 broadcaster_user_name=b_name, bits=bits, message=message,
                 is_anonymous=user is None)
    u_id, u_login, u_name = _person(user) if user is not None else (None, None, None)
    event.update(user_id=u_id, user_login=u_login, user_name=u_name)
    return event


def follow_event(*, broadcaster: Person | FakeUser, user: Person | FakeUser) -> dict[str, Any]:
    """A channel.follow v2 event."""
    event = load_sample("channel.follow.v2.follow.parse_payload_v2.json")["event"]
    b_id, b_login, b_name = _person(broadcaster)
    u_id, u_login, u_name = _person(user)
    event.update(broadcaster_user_id=b_id, broadcaster_user_login=b_login,
                 broadcaster_user_name=b_name, user_id=u_id, user_login=u_login,
                 user_name=u_name, followed_at=rfc3339_ns())
    return event
