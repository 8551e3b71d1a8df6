"""Every listening socket fuzzed with malformed input: the overlay link, the rehearsal
triggers and the Ko-fi webhook. Each answers with a clear refusal (an error frame or a
4xx), never an internal error, and goes on serving a well-behaved client afterwards."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlencode

import aiohttp
from aiohttp.http_exceptions import BadHttpMessage
import pytest
from pydantic import SecretStr

from bot.config.models import KofiConfig
from bot.link import protocol as p
from bot.link.server import LinkServer, LinkSink
from bot.speech.segment import Utterance, UtteranceStats
from events.sources.kofi import KofiWebhook
from events.sources.triggers import TriggerServer
from overlay.link_client import LinkClient

from ..events.test_kofi import TOKEN as KOFI_TOKEN
from ..events.test_kofi import kofi_payload
from ..link.test_link import a_segment
from .fuzz import broken_texts, mutations, random_bytes

LINK_TOKEN = "fuzz-link-token-0123456789"
TRIGGER_TOKEN = "fuzz-trigger-token-0123456789"


def server_errors(caplog) -> list[str]:
    """Errors the servers logged: an exception in a handler shows up here. (aiohttp logs
    requests its own HTTP parser refused, with a 400, as errors too: those are fine.)"""
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if r.levelno >= logging.ERROR and r.name.startswith(("aiohttp", "bot.", "events."))
            and not (r.exc_info and isinstance(r.exc_info[1], BadHttpMessage))]


def _utf8(text: str) -> str:
    """A WebSocket text frame is UTF-8: a raw lone surrogate becomes '?' (JSON escapes stay)."""
    return text.encode("utf-8", "replace").decode("utf-8")


async def raw_http(port: int, request: bytes) -> int:
    """Send bytes as they are (odd headers aiohttp's client would refuse); the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return int(line.split()[1]) if line.startswith(b"HTTP/") else 0


async def test_trigger_endpoint_refuses_every_malformed_request(caplog):
    published = []

    async def publish(event):
        published.append(event)
        return "queued"

    server = TriggerServer(TRIGGER_TOKEN, publish, port=0)
    server._rate_ok = lambda: True  # the limiter is tested below; here every request gets parsed
    await server.start()
    auth = {"Authorization": f"Bearer {TRIGGER_TOKEN}"}
    valid = {"type": "cheer", "user": "Fuzz", "bits": 100, "message": "hi"}
    statuses = []
    try:
        async with aiohttp.ClientSession() as s:
            for doc in mutations(valid, seed=1, count=150):
                async with s.post(server.url, json=doc, headers=auth) as r:
                    statuses.append(r.status)
            for text in broken_texts(valid, seed=2, count=40):
                async with s.post(server.url, data=text.encode("utf-8", "surrogatepass"), headers=auth) as r:
                    statuses.append(r.status)
            for body in random_bytes(seed=3, count=30):
                async with s.post(server.url, data=body, headers={**auth, "Content-Type": "application/json"}) as r:
                    statuses.append(r.status)
            async with s.post(server.url, data=b"x" * 100_000, headers=auth) as r:
                statuses.append(r.status)
                assert r.status == 413
            for method in ("GET", "PUT", "DELETE"):
                async with s.request(method, server.url, headers=auth) as r:
                    assert r.status == 405
        for header in (b"Bearer \xff\xfe", b"Bearer " + b"A" * 8000, b"bearer " + TRIGGER_TOKEN.encode(),
                       b"Basic Zm9vOmJhcg==", b"Bearer " + TRIGGER_TOKEN.encode() + b"\x00"):
            status = await raw_http(server.port, b"POST /trigger HTTP/1.1\r\nHost: x\r\nAuthorization: " + header
                                    + b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            assert status in (400, 401, 431), header[:30]
        assert await raw_http(server.port, b"\x16\x03\x01garbage not http\r\n\r\n") == 400
        assert all(400 <= s < 500 or s == 200 for s in statuses), sorted(set(statuses))
        assert statuses.count(200) == len(published)  # what was accepted was a real event
        async with aiohttp.ClientSession() as s:
            async with s.post(server.url, json=valid, headers=auth) as r:
                assert r.status == 200  # still serving
    finally:
        await server.close()
    assert server_errors(caplog) == []


async def test_trigger_rate_limit_holds_under_a_flood():
    async def publish(event):
        return "queued"

    server = TriggerServer(TRIGGER_TOKEN, publish, port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as s:
            async def one() -> int:
                async with s.post(server.url, json={"type": "follow"},
                                  headers={"Authorization": "Bearer wrong"}) as r:
                    return r.status
            statuses = await asyncio.gather(*(one() for _ in range(100)))
    finally:
        await server.close()
    assert statuses.count(429) >= 80 and set(statuses) <= {401, 429}  # guessing is slowed down too


async def test_kofi_webhook_refuses_every_malformed_delivery(caplog):
    events = []

    async def publish(event):
        events.append(event)

    hook = KofiWebhook(KofiConfig(enabled=True, port=0), SecretStr(KOFI_TOKEN), publish, burst=10_000)
    await hook.start()
    statuses = []
    try:
        async with aiohttp.ClientSession() as s:
            for doc in mutations(kofi_payload(), seed=4, count=150):
                if isinstance(doc, dict) and "verification_token" in doc and doc is not None:
                    doc = {**doc, "verification_token": KOFI_TOKEN} if doc.get("verification_token") else doc
                async with s.post(hook.url, data={"data": json.dumps(doc)}) as r:
                    statuses.append(r.status)
            for text in broken_texts(kofi_payload(), seed=5, count=40):
                form = urlencode({"data": text.encode("utf-8", "surrogatepass")})
                async with s.post(hook.url, data=form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                    statuses.append(r.status)
            for body in random_bytes(seed=6, count=30):
                async with s.post(hook.url, data=body,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                    statuses.append(r.status)
            async with s.post(hook.url, data={"data": json.dumps(kofi_payload(message_id="after-fuzz"))}) as r:
                assert r.status == 200  # still serving
    finally:
        await hook.close()
    assert all(400 <= s < 500 or s == 200 for s in statuses), sorted(set(statuses))
    assert server_errors(caplog) == []


async def test_link_survives_malformed_frames_from_anyone(caplog):
    server = LinkServer(LINK_TOKEN, port=0, persona="Mochi")
    await server.start()
    valid_command = {"type": "command", "name": "skip", "args": "", "id": "1"}
    valid_playback = {"type": "playback", "utterance_id": "u1", "index": 0, "event": "finished"}
    closes = []
    try:
        async with aiohttp.ClientSession() as s:
            # strangers: whatever they send first, they are shut out
            lone_surrogate = json.dumps({"type": "hello", "protocol": 1, "token": "\ud800" + LINK_TOKEN,
                                         "client": "overlay", "name": "x"})  # escaped: valid JSON text
            for first in [lone_surrogate,
                          *broken_texts({"type": "hello", "protocol": 1, "token": "x"}, seed=7, count=10),
                          *(json.dumps(m) for m in mutations({"type": "hello", "protocol": 1,
                                                               "token": LINK_TOKEN, "client": "overlay",
                                                               "name": "x"}, seed=8, count=20))]:
                async with s.ws_connect(server.url) as ws:
                    await ws.send_str(_utf8(first))
                    msg = await ws.receive(timeout=5)
                    if msg.type == aiohttp.WSMsgType.TEXT:  # a hello that was still valid: welcomed
                        assert json.loads(msg.data)["type"] == "welcome"
                        await ws.close()
                    closes.append(ws.close_code)
            for blob in random_bytes(seed=9, count=10):
                async with s.ws_connect(server.url) as ws:
                    await ws.send_bytes(blob)
                    await ws.receive(timeout=5)
                    closes.append(ws.close_code)
            # a client with the token sending junk: error frames, then cut off after five
            frames = [*map(json.dumps, mutations(valid_command, seed=10, count=40)),
                      *map(json.dumps, mutations(valid_playback, seed=11, count=40)),
                      *broken_texts(valid_command, seed=12, count=20)]
            sent = 0
            while sent < len(frames):
                client = LinkClient(server.url, LINK_TOKEN, name="fuzzer")
                task = asyncio.create_task(client.run(retry=False))
                await asyncio.wait_for(client.connected.wait(), 5)
                for frame in frames[sent:sent + 8]:
                    try:
                        await client.send_raw(_utf8(frame))
                    except (ConnectionError, RuntimeError, AssertionError):  # already cut off
                        break
                sent += 8
                await asyncio.wait_for(task, 5)
                assert client.close_code in (4429, 1000, 1009), client.close_code
    except BaseException:
        await server.close()
        raise
    assert all(c is not None and c >= 1000 for c in closes)
    # a proper overlay still gets speech, and the junk grew no state
    got = []
    arrived = asyncio.Event()

    def on_segment(segment) -> None:
        got.append(segment)
        arrived.set()

    client = LinkClient(server.url, LINK_TOKEN, name="studio", on_segment=on_segment)
    task = asyncio.create_task(client.run(retry=False))
    await asyncio.wait_for(client.connected.wait(), 5)
    sink = LinkSink(server)
    utt = Utterance("good", "coolguy42", "hi")
    await sink.start(utt)
    await sink.segment(a_segment("good"))
    await sink.finish(utt, UtteranceStats(text="Hello chat!"))
    await asyncio.wait_for(arrived.wait(), 5)
    assert got[0].caption == "Hello chat!"
    assert set(server._heard) <= {"good"}  # made-up utterance ids were not stored
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await server.close()
    assert server_errors(caplog) == []


@pytest.mark.parametrize("section", ["link", "events.triggers", "events.kofi"])
def test_listening_sockets_bind_to_localhost_by_default(defaults, section):
    cfg = defaults.config
    for part in section.split("."):
        cfg = getattr(cfg, part)
    assert cfg.host == "127.0.0.1"


def test_protocol_rejects_what_the_fuzzer_found_acceptable_shapes_for():
    """Well-formed but wrong-typed client messages are refused by the parser itself."""
    for doc in mutations({"type": "command", "name": "skip", "args": "", "id": "1"}, seed=13, count=60):
        text = json.dumps(doc)
        try:
            msg = p.parse_client(text)
        except p.ProtocolError:
            continue
        assert isinstance(msg, p.Command) and isinstance(msg.name, str) and len(msg.args) <= 200
