"""The bot's link to OBS (obs-websocket v5 through obsws-python), kept up for the bot.

obsws-python blocks and never reconnects. So every library call runs on one worker
thread (its clients are not thread-safe), and a supervisor task connects, watches
the connection (the event listener thread dying, a periodic GetVersion) and
reconnects with jittered backoff. Nothing here raises into the bot except a request
the caller made itself. Actions asked for while OBS is away wait in a bounded queue
and run once, in order, right after the next connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from obsws_python.error import OBSSDKRequestError
from pydantic import SecretStr

from bot.config.models import ObsConfig
from bot.logs import add_secret
from events.sources.common import CONNECTED, CONNECTING, StateReporter, disconnected, redact
from events.sources.reconnect import Backoff

from .errors import (
    NotSent,
    ObsConnectionLostError,
    ObsError,
    ObsNotConnectedError,
    ObsRequestError,
    describe,
    expected,
)
from .liblog import LibraryLogGuard
from .session import Session

log = logging.getLogger(__name__)

POLL_S = 0.2  # how often the listener thread's health is looked at
HEARTBEAT_S = 5.0  # a GetVersion round trip catches a connection that hangs without closing

T = TypeVar("T")
Action = Callable[["ObsClient"], Awaitable[None]]


class RunResult(StrEnum):
    """What `run_or_queue` did with an action."""

    RAN = "ran"  # ran now and succeeded
    QUEUED = "queued"  # OBS is away: it runs right after the next connect
    FAILED = "failed"  # ran now and failed (logged); it is not retried
    DROPPED = "dropped"  # OBS is away and queueing is off, or the client is closed


@dataclass
class _Queued:
    description: str
    action: Action


class ObsClient:
    """Scene switches, source and filter toggles in OBS, surviving OBS restarts.

    States reported through `on_state` (and kept in `state`): "connecting",
    "connected", "disconnected: <why>; retrying in <n> s", "disconnected: closed".

    Retry rule for queued actions: an action is put back at the front of the queue
    only when a request of it failed with `ObsNotConnectedError`, i.e. the request
    was never sent. If the connection breaks while a request is out
    (`ObsConnectionLostError`) OBS may already have acted, so the action is dropped
    with a warning rather than risk doing it twice. An action made of several
    requests may have sent its earlier ones before being put back; keep actions
    small (one write) or idempotent. Actions must not call `run_or_queue` themselves.
    """

    def __init__(self, cfg: ObsConfig, password: SecretStr | None, *,
                 on_state: Callable[[str], None] | None = None,
                 heartbeat_s: float = HEARTBEAT_S, backoff: Backoff | None = None):
        self.cfg = cfg
        self._password = password
        secret = password.get_secret_value() if password is not None else ""
        if secret:
            add_secret(secret)
        self._secrets = (secret,) if secret else ()
        self._status = StateReporter("obs", on_state)
        self._backoff = backoff or Backoff(1.0, cfg.reconnect_max_s)
        self._heartbeat_s = heartbeat_s
        self._guard = LibraryLogGuard(self._secrets)
        self._queue: deque[_Queued] = deque()
        self._action_lock = asyncio.Lock()  # queued actions first, then new ones, in order
        self._session: Session | None = None
        self._live: Session | None = None  # the last session opened, closed or not
        self._connected = False
        self._current_scene: str | None = None
        self._lost = asyncio.Event()
        self._lost_reason: str | None = None
        self._closing = threading.Event()
        self._closed = False
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_reason: str | None = None

    def __repr__(self) -> str:
        return f"ObsClient({self.cfg.host}:{self.cfg.port}, {self.state!r})"

    # --- state -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def current_scene(self) -> str | None:
        """OBS's program scene: read at connect, then followed through events."""
        return self._current_scene

    @property
    def state(self) -> str:
        return self._status.state

    @property
    def queued(self) -> int:
        """Actions waiting for OBS to come back."""
        return len(self._queue)

    @property
    def obs_version(self) -> str | None:
        """OBS's version string, from the last connect."""
        session = self._session
        return session.version.get("obsVersion") if session else None

    async def wait_connected(self, timeout: float | None = None) -> bool:
        """True once connected; False if `timeout` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._connected:
            if deadline is not None and loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    # --- life cycle --------------------------------------------------------------

    async def start(self) -> None:
        """Starts connecting in the background; returns at once."""
        if self._task is not None or self._closed:
            return
        self._loop = asyncio.get_running_loop()
        self._guard.install()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="vtbot-obs")
        self._task = asyncio.create_task(self._supervise(), name="vtbot-obs")

    async def close(self) -> None:
        """Disconnects, stops the supervisor and joins the worker and listener threads."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        executor, self._executor = self._executor, None
        if executor is not None:
            loop = asyncio.get_running_loop()
            # runs after a connect that may still be in flight on the worker
            await loop.run_in_executor(executor, self._close_leftovers)
            await asyncio.to_thread(executor.shutdown, True)
        self._guard.remove()
        if self._queue:
            log.warning("OBS: client closed; %d queued action(s) dropped: %s", len(self._queue),
                        ", ".join(q.description for q in self._queue))
            self._queue.clear()
        self._connected = False
        self._status.set(disconnected("closed"))

    async def __aenter__(self) -> ObsClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _close_leftovers(self) -> None:
        session = self._live
        if session is not None and not session.closed:
            session.close()

    # --- requests ------------------------------------------------------------------

    async def set_scene(self, name: str) -> None:
        """Switches OBS's program scene."""
        await self.request("SetCurrentProgramScene", {"sceneName": name}, subject=f"scene {name!r}")

    async def program_scene(self) -> str:
        """The program scene, asked of OBS now: `current_scene` follows an event that
        only comes after the transition (a Fade: ~300 ms later)."""
        data = await self.request("GetCurrentProgramScene", subject="the program scene") or {}
        return str(data.get("sceneName") or data.get("currentProgramSceneName") or "")

    async def set_source_visible(self, source: str, visible: bool, scene: str | None = None) -> None:
        """Shows or hides `source`'s item in `scene` (None: the program scene right now)."""
        if scene is None:
            scene = await self.program_scene()
        subject = f"source {source!r} in scene {scene!r}"
        found = await self.request("GetSceneItemId", {"sceneName": scene, "sourceName": source},
                                   subject=subject) or {}
        await self.request("SetSceneItemEnabled", {"sceneName": scene, "sceneItemId": found["sceneItemId"],
                                                   "sceneItemEnabled": visible}, subject=subject)

    async def set_filter_enabled(self, source: str, filter_name: str, enabled: bool) -> None:
        """Turns a filter of `source` on or off."""
        await self.request("SetSourceFilterEnabled",
                           {"sourceName": source, "filterName": filter_name, "filterEnabled": enabled},
                           subject=f"filter {filter_name!r} on source {source!r}")

    async def scenes(self) -> list[str]:
        """Scene names in OBS's list order, top first."""
        data = await self.request("GetSceneList", subject="the scene list") or {}
        listed = sorted(data.get("scenes", []), key=lambda s: s.get("sceneIndex", 0), reverse=True)
        return [str(s["sceneName"]) for s in listed]

    async def request(self, request_type: str, data: dict[str, Any] | None = None, *,
                      subject: str = "") -> dict[str, Any] | None:
        """Any obs-websocket request; its responseData (None if it has none).

        Raises ObsRequestError (OBS said no), ObsNotConnectedError (not sent) or
        ObsConnectionLostError (the link broke while it was out).
        """
        subject = subject or request_type
        session = self._session
        if session is None or not self._connected or self._executor is None or not session.alive():
            if session is not None and self._connected:
                self._lose(session, "OBS closed the connection")
            raise ObsNotConnectedError(f"OBS is not connected: {request_type} for {subject} was not sent")
        try:
            return await self._on_worker(session.request, request_type, data)
        except OBSSDKRequestError as e:
            err = ObsRequestError.from_library(e, request_type, subject)
            log.warning("OBS: %s", err)
            raise err from None
        except NotSent:
            self._lose(session, "OBS closed the connection")
            raise ObsNotConnectedError(
                f"OBS is not connected: {request_type} for {subject} was not sent") from None
        except Exception as e:  # noqa: BLE001 - any other failure means the socket is unusable
            reason = self._redact(describe(e))
            if not expected(e):
                log.error("OBS: %s for %s failed unexpectedly: %s", request_type, subject,
                          self._redact(f"{type(e).__name__}: {e}"))
            self._lose(session, reason)
            raise ObsConnectionLostError(
                f"OBS connection lost during {request_type} for {subject} ({reason}); "
                "OBS may or may not have done it") from None

    # --- actions that wait for OBS ---------------------------------------------------

    async def run_or_queue(self, description: str, action: Action) -> RunResult:
        """Runs `action(self)` now if connected, else keeps it for the next connect.

        A failure is logged, never raised: the result says what happened.
        """
        item = _Queued(description, action)
        if self._closed:
            log.warning("OBS: client closed; dropped %s", description)
            return RunResult.DROPPED
        if not self._connected:
            return self._enqueue(item)
        async with self._action_lock:
            if not self._connected:
                return self._enqueue(item)
            return await self._run(item)

    def _enqueue(self, item: _Queued, *, front: bool = False) -> RunResult:
        limit = self.cfg.queue_while_down
        if limit <= 0:
            log.warning("OBS: not connected and obs.queue_while_down is 0: dropped %s", item.description)
            return RunResult.DROPPED
        if front:
            self._queue.appendleft(item)
        else:
            self._queue.append(item)
        while len(self._queue) > limit:
            old = self._queue.popleft()
            log.warning("OBS: queue full (obs.queue_while_down=%d): dropped the oldest, %s",
                        limit, old.description)
        log.info("OBS: not connected; %s waits for OBS (%d queued)", item.description, len(self._queue))
        return RunResult.QUEUED

    async def _run(self, item: _Queued) -> RunResult:
        try:
            await item.action(self)
        except ObsNotConnectedError:
            log.info("OBS: connection gone before %s was sent; it runs after the next connect",
                     item.description)
            return self._enqueue(item, front=True)
        except ObsRequestError as e:
            log.warning("OBS: %s failed and is dropped: %s", item.description, e)
            return RunResult.FAILED
        except ObsConnectionLostError as e:
            log.warning("OBS: %s is dropped, not retried: %s", item.description, e)
            return RunResult.FAILED
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a broken action must not stop the others
            log.error("OBS: %s failed: %s", item.description, self._redact(f"{type(e).__name__}: {e}"),
                      exc_info=not isinstance(e, ObsError))
            return RunResult.FAILED
        return RunResult.RAN

    async def _drain(self) -> None:
        """Runs what waited while OBS was away, oldest first; the caller holds the lock."""
        while self._queue and self._connected:
            item = self._queue.popleft()
            result = await self._run(item)
            log.info("OBS: queued %s: %s", item.description, result.value)
            if result is RunResult.QUEUED and self._connected:
                break  # it claims "not connected" while we are: do not spin on it

    # --- the supervisor ----------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            session: Session | None = None
            try:
                self._status.set(CONNECTING)
                log.debug("OBS: connecting to %s:%d", self.cfg.host, self.cfg.port)
                session = await self._on_worker(self._open)
                self._backoff.reset()
                await self._go_live(session)
                reason = await self._watch(session)
            except asyncio.CancelledError:
                raise  # close() closes the session on the worker
            except Exception as e:  # noqa: BLE001 - the supervisor must outlive every failure
                reason = self._redact(describe(e))
                if not expected(e):
                    log.error("OBS: unexpected error: %s", self._redact(f"{type(e).__name__}: {e}"))
            finally:
                self._connected = False
                self._session = None
            delay = self._backoff.next()
            self._report_down(reason, delay)  # before the close: that can take a moment on a hung OBS
            if session is not None:
                try:
                    await self._on_worker(session.close)
                except Exception as e:  # noqa: BLE001 - a failed close must not end the supervisor
                    log.error("OBS: closing the connection failed: %s", f"{type(e).__name__}: {e}")
            await asyncio.sleep(delay)

    def _open(self) -> Session:
        """On the worker thread: a new session, unless the client is closing."""
        password = self._password.get_secret_value() if self._password is not None else ""
        session = Session.open(self.cfg.host, self.cfg.port, password, self.cfg.timeout_s,
                               self._event_from_listener)
        self._live = session  # for close(), should this connect outlive its waiting task
        if self._closing.is_set():
            session.close()
            raise ObsNotConnectedError("the OBS client is closing")
        return session

    async def _go_live(self, session: Session) -> None:
        async with self._action_lock:  # new actions wait until the queued ones ran
            self._session = session
            self._lost.clear()
            self._lost_reason = None
            if session.scene_events == 0:
                self._current_scene = session.initial_scene
            self._connected = True
            self._last_reason = None
            self._status.set(CONNECTED)
            log.info("OBS: connected to %s:%d (OBS %s, obs-websocket %s); program scene %r",
                     self.cfg.host, self.cfg.port, session.version.get("obsVersion", "?"),
                     session.version.get("obsWebSocketVersion", "?"), self._current_scene)
            if self._queue:
                log.info("OBS: running %d queued action(s)", len(self._queue))
                await self._drain()

    async def _watch(self, session: Session) -> str:
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self._heartbeat_s
        while True:
            if self._lost_reason is not None:
                return self._lost_reason
            if not session.alive():
                return "OBS closed the connection"
            if loop.time() >= next_ping:
                with contextlib.suppress(ObsError):  # a failure has set _lost_reason
                    await self.request("GetVersion", subject="heartbeat")
                next_ping = loop.time() + self._heartbeat_s
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), POLL_S)

    def _lose(self, session: Session, reason: str) -> None:
        """Marks the connection dead at once; the supervisor then tears it down."""
        if session is not self._session or self._lost_reason is not None:
            return
        self._connected = False
        self._lost_reason = reason
        self._lost.set()

    def _report_down(self, reason: str, delay: float) -> None:
        shown = f"{delay:.0f} s" if delay >= 10 else f"{delay:.1f} s"
        self._status.set(disconnected(f"{reason}; retrying in {shown}"))
        level = logging.WARNING if reason != self._last_reason else logging.DEBUG
        log.log(level, "OBS: disconnected from %s:%d: %s; retrying in %s",
                self.cfg.host, self.cfg.port, reason, shown)
        self._last_reason = reason

    # --- events (from the listener thread) ---------------------------------------------

    def _event_from_listener(self, session: Session, kind: str, data: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._on_event, session, kind, data)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _on_event(self, session: Session, kind: str, data: dict[str, Any]) -> None:
        if session.closed:
            return
        if kind == "CurrentProgramSceneChanged":
            session.scene_events += 1
            self._current_scene = data.get("scene_name")
            log.debug("OBS: program scene is now %r", self._current_scene)
        elif kind == "ExitStarted" and self._session is session:
            self._lose(session, "OBS is shutting down")

    # --- helpers -------------------------------------------------------------------

    async def _on_worker(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise ObsNotConnectedError("the OBS client is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _redact(self, text: str) -> str:
        return redact(text, *self._secrets)
