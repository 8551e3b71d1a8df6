"""One live connection to OBS: an obsws-python request client and event client.

Everything here blocks, so the OBS client runs it on its single worker thread (the
library's clients are not thread-safe). Event callbacks run on the library's
listener thread instead, and an exception there would silently end that thread,
so they are wrapped; a dead listener thread is how a dropped connection shows.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any

import obsws_python as obs
from websocket import WebSocket

from .errors import NotSent

log = logging.getLogger(__name__)

# ExitStarted (General) warns of a shutdown; CurrentProgramSceneChanged is in Scenes
EVENT_SUBS = obs.Subs.GENERAL | obs.Subs.SCENES
GOODBYE_S = 0.5
JOIN_S = 2.0

OnEvent = Callable[["Session", str, dict[str, Any]], None]


class Session:
    """A ReqClient for requests plus an EventClient for events, opened and closed together."""

    def __init__(self) -> None:
        self.req: obs.ReqClient | None = None
        self.ev: obs.EventClient | None = None
        self.version: dict[str, Any] = {}
        self.initial_scene: str | None = None
        self.scene_events = 0  # counted on the event loop: a newer scene than initial_scene
        self.closed = False

    @classmethod
    def open(cls, host: str, port: int, password: str, timeout: float, on_event: OnEvent) -> Session:
        """Connects, logs in and reads the version and program scene; raises on failure.

        host, port and password are always passed: with none of them, obsws-python
        would quietly read a config.toml from the working or home directory.
        """
        self = cls()
        try:
            self.ev = obs.EventClient(host=host, port=port, password=password, timeout=timeout,
                                      subs=EVENT_SUBS)
            self.ev.callback.register(self._callbacks(on_event))
            self.req = obs.ReqClient(host=host, port=port, password=password, timeout=timeout)
            self.version = self.req.send("GetVersion", raw=True) or {}
            scene = self.req.send("GetCurrentProgramScene", raw=True) or {}
            # obs-websocket 5.1 (OBS 29) sends only the older currentProgramSceneName
            self.initial_scene = scene.get("sceneName") or scene.get("currentProgramSceneName")
        except BaseException as e:
            _close_abandoned_sockets(e)
            self.close()
            raise
        return self

    def _callbacks(self, on_event: OnEvent) -> list[Callable[[Any], None]]:
        """obsws-python dispatches by function name, so each event gets a named wrapper."""

        def forward(kind: str, data: Any) -> None:
            try:
                fields = {name: getattr(data, name) for name in data.attrs()}
                on_event(self, kind, fields)
            except Exception:  # noqa: BLE001 - an escaping error would end the listener thread
                log.exception("OBS: handling the %s event failed", kind)

        def on_current_program_scene_changed(data: Any) -> None:
            forward("CurrentProgramSceneChanged", data)

        def on_exit_started(data: Any) -> None:
            forward("ExitStarted", data)

        return [on_current_program_scene_changed, on_exit_started]

    def alive(self) -> bool:
        """False once closed or once the listener thread has ended (the socket died)."""
        ev = self.ev
        return not self.closed and ev is not None and ev.worker.is_alive()

    def request(self, request_type: str, data: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """One request; its response data, None when it has none. OBSSDKRequestError if refused."""
        if not self.alive() or self.req is None:
            raise NotSent(request_type)
        return self.req.send(request_type, data, raw=True)

    def close(self) -> None:
        """Closes both sockets and joins the listener thread; safe to call twice."""
        self.closed = True
        sockets = [c.base_client.ws for c in (self.req, self.ev) if c is not None]
        for ws in sockets:
            _say_goodbye(ws)
        if self.ev is not None:
            self.ev.callback.clear()
            self.ev.worker.join(GOODBYE_S)  # OBS answers the close frame; a hung OBS does not
        for ws in sockets:
            # ws.abort() would do nothing here: send_close() already marked the socket
            # disconnected. A shutdown wakes a listener still blocked in recv (a hung
            # OBS); closing the descriptor alone would not.
            sock = ws.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                ws.shutdown()
        if self.ev is not None:
            self.ev.worker.join(JOIN_S)
            if self.ev.worker.is_alive():
                log.warning("OBS: the event listener thread did not stop")


def _say_goodbye(ws: WebSocket) -> None:
    """A close frame, so OBS logs a clean disconnect; bounded, and harmless on a dead socket."""
    if not ws.connected:
        return
    with contextlib.suppress(Exception):
        ws.settimeout(GOODBYE_S)
        ws.send_close()


def _close_abandoned_sockets(e: BaseException) -> None:
    """Closes the socket of an obsws-python client whose constructor failed.

    The library leaves it open when the login is refused or the handshake breaks,
    and the half-built client is only reachable from the traceback's frames.
    """
    tb = e.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        base = getattr(owner, "base_client", owner)
        ws = getattr(base, "ws", None)
        if isinstance(ws, WebSocket):
            with contextlib.suppress(Exception):
                ws.shutdown()
        tb = tb.tb_next
