"""Streamlabs: the real source against a local Socket.IO 2 / Engine.IO 3 server (tests/fakes)."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from bot.config.models import StreamlabsConfig
from events.model import StreamEvent
from events.sources.reconnect import Backoff
from events.sources.streamlabs import StreamlabsSource, parse_donations, parse_socketio, socket_url
from tests.conftest import free_port
from tests.fakes.streamlabs_server import FakeStreamlabs
from tests.fakes.held_waits import HeldWaits
from tests.fakes.twitch_server import wait_until

TOKEN = "good-socket-token"


# The official sample (protocol notes E.3) plus a second donation in the same event.
DONATIONS = {
    "type": "donation",
    "message": [
        {"id": 96164121, "name": "test", "amount": "13.37", "formatted_amount": "$13.37",
         "formattedAmount": "$13.37", "message": "test donation", "currency": "USD",
         "emotes": None, "iconClassName": "user", "to": {"name": "Sai Harsha Maddela"},
         "from": "test", "from_user_id": None, "_id": "0820c9d5bafd768c9843f5e35c885e71"},
        {"id": 96164122, "name": "Second Donor", "amount": 5, "formatted_amount": "€5.00",
         "message": "", "currency": "EUR", "from": "Second Donor", "isTest": True,
         "_id": "1931dae6cbge879d9954g6f46d996f82"},
    ],
    "event_id": "evt_17e5f4dc6888767ed9799f78dfa2cabc",
}
FOLLOW = {"type": "follow", "for": "twitch_account",
          "message": [{"name": "someviewer", "id": "123456", "_id": "abc"}],
          "event_id": "evt_follow"}


def make_source(url: str, token: str, events: list[StreamEvent], **kw) -> StreamlabsSource:
    async def publish(e: StreamEvent) -> None:
        events.append(e)

    kw.setdefault("backoff", Backoff(base=0.05, cap=0.2))
    return StreamlabsSource(StreamlabsConfig(enabled=True, url=url), SecretStr(token), publish,
                            handshake_timeout=2.0, **kw)


@pytest.fixture
async def server():
    fake = FakeStreamlabs({TOKEN})
    await fake.start()
    yield fake
    await fake.stop()


async def until(predicate, what: str, source: StreamlabsSource, timeout: float = 5.0):
    return await wait_until(predicate, timeout, what=what, describe=lambda: source.state)


async def test_two_donations_in_one_event_and_other_types_ignored(server):
    events: list[StreamEvent] = []
    states: list[str] = []
    source = make_source(server.url, TOKEN, events, on_state=states.append)
    await source.start()
    try:
        await until(lambda: source.state == "connected", "connected", source)
        q = server.queries[0]
        assert (q["token"], q["EIO"], q["transport"]) == (TOKEN, "3", "websocket")
        assert await server.emit(FOLLOW) == 1
        assert await server.emit(DONATIONS) == 1
        await until(lambda: len(events) == 2, "two donations", source)
        a, b = events
        assert (a.type, a.source, a.id, a.user, a.amount, a.currency, a.message) == (
            "donation", "streamlabs", "96164121", "test", 13.37, "USD", "test donation")
        assert (b.id, b.user, b.amount, b.currency, b.message) == (
            "96164122", "Second Donor", 5.0, "EUR", "")
        assert states[:2] == ["connecting", "connected"]
    finally:
        await source.close()
    assert source.state == "disconnected: closed"


async def test_server_restart_and_failing_first_connect_are_retried():
    port = free_port()
    events: list[StreamEvent] = []
    source = make_source(f"http://127.0.0.1:{port}", TOKEN, events)
    await source.start()  # nothing listens yet: the first connect fails
    fake = FakeStreamlabs({TOKEN})
    try:
        await until(lambda: source.state.startswith("disconnected: ClientConnectorError"),
                    "a failed first connect", source)
        await fake.start(port)
        await fake.wait_for(lambda: fake.connected == 1, what="the retried first connect")
        await until(lambda: source.state == "connected", "connected", source)
        await fake.stop()  # restart
        await until(lambda: source.state.startswith("disconnected"), "the drop", source)
        await fake.start(port)
        await fake.wait_for(lambda: fake.connected == 1 and fake.connections == 2,
                            what="the reconnect after a restart")
        await until(lambda: source.state == "connected", "connected again", source)
        await fake.emit(DONATIONS)
        await until(lambda: len(events) == 2, "donations after the restart", source)
    finally:
        await source.close()
        await fake.stop()


async def test_bad_token_is_refused_and_reported(server, caplog):
    caplog.set_level(logging.DEBUG)
    events: list[StreamEvent] = []
    waits = HeldWaits()
    source = make_source(server.url, "wrong-socket-token", events, rejected_delay=60.0,
                         sleep=waits)
    await source.start()
    try:
        await until(lambda: waits.delays, "the wait after the rejection", source)
        assert source.state.startswith("disconnected: token rejected")
        assert "Invalid token" in source.state and "retrying in 60 s" in source.state
        assert waits.delays == [60.0]  # the refusal's long wait, not the 0.05 s network backoff
        assert server.connections == 1 and server.refused == 1
        assert "wrong-socket-token" not in caplog.text
    finally:
        await source.close()


async def test_client_pings_and_notices_a_silent_server():
    fake = FakeStreamlabs({TOKEN}, ping_interval_ms=50, ping_timeout_ms=100)
    await fake.start()
    events: list[StreamEvent] = []
    source = make_source(fake.url, TOKEN, events)
    await source.start()
    try:
        await fake.wait_for(lambda: fake.pings >= 3, what="client pings")
        assert source.state == "connected" and fake.connections == 1
        fake.answer_pings = False
        await until(lambda: "no answer to pings" in source.state, "the ping timeout", source)
        fake.answer_pings = True
        await until(lambda: source.state == "connected", "reconnected", source)
        assert fake.connections == 2
    finally:
        await source.close()
        await fake.stop()


def test_wire_helpers():
    assert socket_url("https://sockets.streamlabs.com", "t0k") == (
        "wss://sockets.streamlabs.com/socket.io/?token=t0k&EIO=3&transport=websocket")
    assert parse_socketio('42["event",{}]') == ("2", '["event",{}]')
    assert parse_socketio('42/other,["event",{}]') == ("", "")
    assert parse_socketio('4217["event",{}]') == ("2", '["event",{}]')
    assert parse_socketio('44"Invalid token"') == ("4", '"Invalid token"')
    assert parse_donations(FOLLOW) == []
    assert parse_donations({**DONATIONS, "for": "twitch_account"}) == []
    events = parse_donations({"type": "donation", "for": "streamlabs", "message": [
        {"id": 1, "name": "", "amount": "1.50", "currency": "usd"},
        {"name": "no id", "amount": "1"},
        {"_id": "hex-id", "name": "x", "amount": "oops"},
    ]})
    assert [(e.id, e.anonymous, e.amount, e.currency) for e in events] == [("1", True, 1.5, "USD")]
