"""StreamElements Astro: the real source against a local Astro gateway (tests/fakes)."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from bot.config.models import StreamElementsConfig
from events.model import StreamEvent
from events.sources.reconnect import Backoff
from events.sources.streamelements import StreamElementsSource, jwt_channel, parse_tip
from tests.fakes.astro_server import CHANNEL, FakeAstro, fake_jwt
from tests.fakes.held_waits import HeldWaits
from tests.fakes.twitch_server import wait_until

JWT = fake_jwt()


class Rig:
    def __init__(self, astro: FakeAstro, source: StreamElementsSource, events: list[StreamEvent],
                 states: list[str]):
        self.astro = astro
        self.source = source
        self.events = events
        self.states = states

    async def until(self, predicate, what: str, timeout: float = 5.0):
        def describe() -> str:
            return f"{self.astro.describe()}; state={self.source.state}"

        return await wait_until(predicate, timeout, what=what, describe=describe)


def make_source(astro: FakeAstro, token: str, events: list[StreamEvent], states: list[str],
                **kw) -> StreamElementsSource:
    async def publish(e: StreamEvent) -> None:
        events.append(e)

    cfg = StreamElementsConfig(enabled=True, url=astro.url, token_type="jwt")
    kw.setdefault("backoff", Backoff(base=0.05, cap=0.2))
    return StreamElementsSource(cfg, SecretStr(token), publish, on_state=states.append,
                                handshake_timeout=2.0, **kw)


@pytest.fixture
async def rig():
    astro = FakeAstro({JWT: "jwt"})
    await astro.start()
    events: list[StreamEvent] = []
    states: list[str] = []
    source = make_source(astro, JWT, events, states)
    await source.start()
    r = Rig(astro, source, events, states)
    await r.until(lambda: source.state == "connected", "the first subscription")
    yield r
    await source.close()
    await astro.stop()


async def test_subscribes_with_token_and_type_then_tip_becomes_donation(rig):
    tips = [s for s in rig.astro.subscribes if s["topic"] == "channel.tips"]
    assert tips == [{"topic": "channel.tips", "room": CHANNEL, "token": JWT, "token_type": "jwt"}]
    assert rig.astro.subscribed("channel.tips.moderation") == 1
    assert await rig.astro.tip("67b5f39d07ecd4c594e60f73", "Styler", 4.2, "usd", "hi there") == 1
    [e] = await rig.until(lambda: rig.events, "the donation")
    assert (e.type, e.source, e.id) == ("donation", "streamelements", "67b5f39d07ecd4c594e60f73")
    assert (e.user, e.anonymous, e.amount, e.currency, e.message) == ("Styler", False, 4.2, "USD",
                                                                      "hi there")
    assert rig.states[:2] == ["connecting", "connected"]


async def test_drop_reconnects_resubscribes_and_delivers(rig):
    await rig.astro.drop()
    await rig.until(lambda: rig.source.state.startswith("disconnected: server closed"), "the drop")
    await rig.until(lambda: rig.astro.connections == 2 and rig.source.state == "connected",
                    "the reconnect")
    assert [s["topic"] for s in rig.astro.subscribes].count("channel.tips") == 2
    await rig.astro.tip("tip-after-drop", amount=10)
    [e] = await rig.until(lambda: rig.events, "the tip after the drop")
    assert (e.id, e.amount) == ("tip-after-drop", 10.0)


async def test_reconnect_frame_uses_the_token_and_keeps_subscriptions(rig):
    await rig.astro.ask_reconnect()
    await rig.until(lambda: rig.astro.connections == 2 and rig.astro.subscribed("channel.tips"),
                    "the reconnect with a token")
    assert [c.restored_from is not None for c in rig.astro.clients] == [True]
    assert [s["topic"] for s in rig.astro.subscribes].count("channel.tips") == 1  # no resubscribe
    await rig.astro.tip("tip-after-move")
    await rig.until(lambda: rig.events, "the tip after the move")
    assert rig.source.state == "connected"


async def test_pending_tip_waits_for_moderation(rig):
    await rig.astro.tip("held-tip", approved="pending")
    await rig.astro.tip("held-tip", approved="pending", topic="channel.tips.moderation")
    await rig.astro.tip("rejected-tip", approved="rejected", topic="channel.tips.moderation")
    await rig.astro.tip("held-tip", approved="allowed", topic="channel.tips.moderation")
    [e] = await rig.until(lambda: rig.events, "the approved tip")
    assert e.id == "held-tip"


async def test_bad_token_is_reported_and_not_hammered(caplog):
    caplog.set_level(logging.DEBUG)
    astro = FakeAstro({JWT: "jwt"})
    await astro.start()
    events: list[StreamEvent] = []
    states: list[str] = []
    bad = fake_jwt() + "x"
    waits = HeldWaits()
    source = make_source(astro, bad, events, states, rejected_delay=60.0, sleep=waits)
    await source.start()
    try:
        await wait_until(lambda: waits.delays, 5, what="the wait after the rejection")
        assert source.state.startswith("disconnected: token rejected")
        assert "err_unauthorized: invalid token" in source.state
        assert "retrying in 60 s" in source.state
        assert waits.delays == [60.0]  # the refusal's long wait, not the 0.05 s network backoff
        assert astro.connections == 1
        assert "connected" not in states
        assert bad not in caplog.text
    finally:
        await source.close()
        await astro.stop()
    assert source.state == "disconnected: closed"


async def test_first_connect_failure_is_retried_and_429_is_honoured():
    astro = FakeAstro({JWT: "jwt"})
    await astro.start()
    astro.http_refusals = [(502, {}), (429, {"Retry-After": "0"})]  # draining, then rate limited
    events: list[StreamEvent] = []
    states: list[str] = []
    source = make_source(astro, JWT, events, states)
    await source.start()
    try:
        await wait_until(lambda: source.state == "connected", 5, what="a connection at last")
        assert any("HTTP 502" in s for s in states) and any("HTTP 429" in s for s in states)
    finally:
        await source.close()
        await astro.stop()


def test_parse_tip_and_jwt_channel():
    assert jwt_channel(JWT) == CHANNEL
    assert jwt_channel("not-a-jwt") is None and jwt_channel("a.%%%.c") is None
    base = {"_id": "t1", "status": "success", "approved": "allowed",
            "donation": {"user": {"username": ""}, "amount": "5", "currency": "EUR"}}
    e = parse_tip(base)
    assert e is not None and (e.anonymous, e.amount, e.who) == (True, 5.0, "someone")
    assert parse_tip({**base, "status": "failed"}) is None
    with pytest.raises(ValueError):
        parse_tip({**base, "_id": None})
    with pytest.raises(ValueError):
        parse_tip({**base, "donation": {"amount": "lots"}})
