"""Ko-fi webhook: a real aiohttp client posts Ko-fi-shaped forms to the real server."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config.models import KofiConfig
from events.model import StreamEvent
from events.sources.kofi import MAX_BODY, KofiWebhook

TOKEN = "4ed70334-a412-4c44-9e6d-c02503bda845"
WRONG = "0badc0de-0000-4000-8000-000000000000"


def kofi_payload(**changes: Any) -> dict[str, Any]:
    """Ko-fi's documented example ``data`` (protocol notes E.4), with changes."""
    data = {
        "verification_token": TOKEN, "message_id": "f0757906-9a08-4516-909c-82e87faf7f41",
        "timestamp": "2025-05-23T08:32:22Z", "type": "Donation", "is_public": True,
        "from_name": "Jo Example", "message": "Good luck with the integration!", "amount": "3.00",
        "url": "https://ko-fi.com/Home/CoffeeShop?txid=00000000-1111-2222-3333-444444444444",
        "email": "jo.example@example.com", "currency": "USD", "is_subscription_payment": False,
        "is_first_subscription_payment": False,
        "kofi_transaction_id": "00000000-1111-2222-3333-444444444444",
        "shop_items": None, "tier_name": None, "shipping": None,
    }
    data.update(changes)
    return data


class Hook:
    def __init__(self, webhook: KofiWebhook, events: list[StreamEvent],
                 session: aiohttp.ClientSession):
        self.webhook = webhook
        self.events = events
        self.session = session

    async def post(self, payload: dict[str, Any] | None = None, *,
                   form: dict[str, str] | None = None, **kw: Any) -> tuple[int, str]:
        body = form if form is not None else {"data": json.dumps(payload or kofi_payload())}
        async with self.session.post(self.webhook.url, data=body, **kw) as r:
            return r.status, await r.text()


@pytest.fixture
async def hook():
    events: list[StreamEvent] = []

    async def publish(e: StreamEvent) -> None:
        events.append(e)

    webhook = KofiWebhook(KofiConfig(enabled=True, port=0), SecretStr(TOKEN), publish, burst=50)
    await webhook.start()
    async with aiohttp.ClientSession() as session:
        yield Hook(webhook, events, session)
    await webhook.close()


async def test_donation_becomes_one_event(hook):
    assert hook.webhook.state == "connected"
    assert hook.webhook.url.endswith("/kofi") and ":0/" not in hook.webhook.url
    status, _ = await hook.post()
    assert status == 200
    [e] = hook.events
    assert (e.type, e.source, e.id) == ("donation", "kofi", "f0757906-9a08-4516-909c-82e87faf7f41")
    assert (e.user, e.anonymous, e.amount, e.currency) == ("Jo Example", False, 3.0, "USD")
    assert e.message == "Good luck with the integration!"
    assert e.at.isoformat() == "2025-05-23T08:32:22+00:00"


async def test_wrong_token_is_401_and_never_logged(hook, caplog):
    caplog.set_level(logging.DEBUG)
    status, _ = await hook.post(kofi_payload(verification_token=WRONG))
    assert status == 401
    status, _ = await hook.post(kofi_payload(verification_token=None))
    assert status == 401
    assert await hook.post() == (200, "ok")  # then a good one, logged as accepted
    assert len(hook.events) == 1
    assert "wrong verification token" in caplog.text
    assert TOKEN not in caplog.text and WRONG not in caplog.text


@pytest.mark.parametrize("form", [
    {},                                        # no data field
    {"data": "{not json"},                     # not JSON
    {"data": "[1, 2]"},                        # not an object
])
async def test_malformed_form_is_400(hook, form):
    status, _ = await hook.post(form=form)
    assert status == 400
    assert hook.events == []


@pytest.mark.parametrize("change", [
    {"amount": "three dollars"}, {"amount": "-1.00"}, {"amount": None}, {"message_id": ""},
    {"message_id": 12},
])
async def test_authentic_but_malformed_payload_is_400(hook, change):
    status, _ = await hook.post(kofi_payload(**change))
    assert status == 400
    assert hook.events == []


async def test_oversized_body_is_413(hook):
    status, _ = await hook.post(kofi_payload(message="x" * (MAX_BODY + 1)))
    assert status == 413
    assert hook.events == []


async def test_oversized_chunked_body_is_413(hook):
    async def chunks():
        yield b"data=" + b"x" * 1024
        for _ in range(MAX_BODY // 1024 + 1):
            yield b"y" * 1024

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with hook.session.post(hook.webhook.url, data=chunks(), headers=form) as r:
        assert r.status == 413
    assert hook.events == []


async def test_wrong_method_path_and_content_type(hook):
    async with hook.session.get(hook.webhook.url) as r:
        assert r.status == 405
    async with hook.session.post(hook.webhook.url.replace("/kofi", "/other"),
                                 data={"data": "{}"}) as r:
        assert r.status == 404
    async with hook.session.post(hook.webhook.url, json=kofi_payload()) as r:
        assert r.status == 415
    assert hook.events == []


async def test_private_donation_is_anonymous_without_message(hook):
    assert (await hook.post(kofi_payload(is_public=False)))[0] == 200
    [e] = hook.events
    assert (e.user, e.anonymous, e.message, e.who) == ("", True, "", "someone")
    assert e.amount == 3.0


async def test_same_message_id_twice_keeps_the_dedupe_key(hook):
    await hook.post()
    await hook.post()
    assert len(hook.events) == 2  # the bus dedupes, not the webhook
    assert hook.events[0].key == hook.events[1].key == "kofi:f0757906-9a08-4516-909c-82e87faf7f41"


@pytest.mark.parametrize("kind", ["Subscription", "Commission", "Shop Order"])
async def test_other_kofi_types_are_donations(hook, caplog, kind):
    caplog.set_level(logging.INFO)
    extra = {"Subscription": {"is_subscription_payment": True, "tier_name": "Gold"},
             "Shop Order": {"shop_items": [{"direct_link_code": "1a2b3c"}]}}.get(kind, {})
    assert (await hook.post(kofi_payload(type=kind, amount="12.50", **extra)))[0] == 200
    [e] = hook.events
    assert (e.type, e.amount) == ("donation", 12.5)
    assert kind in caplog.text


async def test_unknown_type_is_acknowledged_but_not_published(hook):
    assert (await hook.post(kofi_payload(type="Gift Card")))[0] == 200
    assert hook.events == []


async def test_failing_publish_answers_500_and_the_server_survives():
    calls = 0

    async def publish(e: StreamEvent) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bus is down")

    webhook = KofiWebhook(KofiConfig(enabled=True, port=0), SecretStr(TOKEN), publish)
    await webhook.start()
    try:
        async with aiohttp.ClientSession() as s:
            body = {"data": json.dumps(kofi_payload())}
            async with s.post(webhook.url, data=body) as r:
                assert r.status == 500  # Ko-fi retries with the same message_id
            async with s.post(webhook.url, data=body) as r:
                assert r.status == 200
        assert calls == 2
    finally:
        await webhook.close()


async def test_abusive_client_is_rate_limited():
    events: list[StreamEvent] = []

    async def publish(e: StreamEvent) -> None:
        events.append(e)

    webhook = KofiWebhook(KofiConfig(enabled=True, port=0), SecretStr(TOKEN), publish,
                          rate=0.01, burst=3)
    await webhook.start()
    try:
        async with aiohttp.ClientSession() as s:
            statuses = []
            for _ in range(5):
                async with s.post(webhook.url, data={"data": json.dumps(
                        kofi_payload(verification_token=WRONG))}) as r:
                    statuses.append(r.status)
        assert statuses == [401, 401, 401, 429, 429]
        assert events == []
    finally:
        await webhook.close()


async def test_states_and_empty_token():
    states: list[str] = []

    async def publish(e: StreamEvent) -> None:
        pass

    webhook = KofiWebhook(KofiConfig(enabled=True, port=0), SecretStr(TOKEN), publish,
                          on_state=states.append)
    await webhook.start()
    await webhook.close()
    assert states == ["connecting", "connected", "disconnected: closed"]
    with pytest.raises(ValueError):
        await KofiWebhook(KofiConfig(port=0), SecretStr(""), publish).start()
