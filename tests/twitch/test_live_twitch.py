"""vtbot's own Twitch client (real twitchio) against the fake Twitch: chat in →
moderation → queue → answer spoken (real SmolLM2 + Piper) and posted; chat commands with
permissions; EventSub reconnects without losing or repeating a message."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json

import pytest

from bot.chat.commands import ChatCommands
from bot.chat.controls import StreamControls
from bot.chat.flow import ChatFlow
from bot.chat.queue import PromptQueue
from bot.chat.triage import Triager
from bot.config.models import CommandsConfig, TwitchConfig
from bot.moderation.audit import AuditLog
from bot.moderation.gate import Moderator
from bot.moderation.output_guard import OutputGuard
from bot.twitch.auth import Secret, StoredToken, TokenStore
from bot.twitch.client import TwitchChat
from tests.fakes.twitch_server import FakeTwitch, chat_message_event

from ..test_pipeline import Collect, make

BOT_ID, OWNER_ID, VIEWER_ID, MOD_ID = "2914196", "1971641", "4145994", "555"
BOT_SCOPES = ["user:read:chat", "user:write:chat", "user:bot"]
OWNER_SCOPES = ["channel:bot", "bits:read", "channel:read:subscriptions"]


def stored(tw: FakeTwitch, role, user_id, login, scopes) -> StoredToken:
    tok = tw.token_for_user(user_id)
    return StoredToken(role=role, user_id=user_id, login=login, access_token=Secret(tok.access),
                       refresh_token=Secret(tok.refresh), scopes=tuple(scopes),
                       obtained_at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture
def world(fake_twitch):
    tw = fake_twitch
    bot = tw.add_user(BOT_ID, "mochibot", display_name="MochiBot", scopes=BOT_SCOPES)
    owner = tw.add_user(OWNER_ID, "streamer", scopes=OWNER_SCOPES)
    viewer = tw.add_user(VIEWER_ID, "coolguy42")
    mod = tw.add_user(MOD_ID, "helpfulmod")
    return tw, bot, owner, viewer, mod


def build(tw, defaults, tmp_path, pipeline_parts=None):
    cfg = defaults.config
    mcfg = cfg.moderation.model_copy(update={"audit_log": tmp_path / "audit.jsonl",
                                             "words_file": tmp_path / "words.txt"})
    mod = Moderator(mcfg, classifier=False)
    audit = AuditLog(mcfg.audit_log)
    pipeline = None
    if pipeline_parts is not None:
        backend, voice, sinks = pipeline_parts
        pipeline = make(defaults, backend, voice, sinks, [OutputGuard(mod.output, audit, mcfg.replacement)])
    flow = ChatFlow(mod.input, Triager("mentions", [cfg.persona.name], bot_login="mochibot"),
                    PromptQueue(), pipeline, audit)
    controls = StreamControls()
    commands = ChatCommands(cfg.commands, flow, mod, controls, cfg.persona.name)
    tcfg = TwitchConfig(enabled=True, client_id=tw.client_id, channel="streamer", bot_login="mochibot")
    client = TwitchChat(tcfg, CommandsConfig(), bot_token=stored(tw, "bot", BOT_ID, "mochibot", BOT_SCOPES),
                        broadcaster_token=stored(tw, "broadcaster", OWNER_ID, "streamer", OWNER_SCOPES),
                        flow=flow, chat_commands=commands, store=TokenStore(tmp_path / "tokens.json"))
    flow.on_answer = client.post_answer
    return client, flow, audit


@contextlib.asynccontextmanager
async def running(client: TwitchChat):
    task = asyncio.create_task(client.run_until_stopped())
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        assert ready in done
        yield client
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)


async def say(tw, owner, who, text, badges=None, message_id=None):
    event = chat_message_event(broadcaster=owner, chatter=who, text=text, badges=badges or [],
                               message_id=message_id)
    [delivery] = await tw.notify("channel.chat.message", event)
    return event["message_id"]


def audit_rows(audit, tmp_path):
    audit._fh and audit._fh.flush()
    path = tmp_path / "audit.jsonl"
    return [json.loads(r) for r in path.read_text().splitlines()] if path.exists() else []


MOD_BADGE = [{"set_id": "moderator", "id": "1", "info": ""}]


async def test_chat_to_spoken_answer_posted_in_chat(world, defaults, llama_backend, piper_engine, tmp_path):
    tw, bot_user, owner, viewer, mod = world
    sink = Collect()
    client, flow, audit = build(tw, defaults, tmp_path, (llama_backend, piper_engine, [sink]))
    async with running(client):
        assert client.state.status == "connected"
        runner = asyncio.create_task(flow.run())
        try:
            await say(tw, owner, viewer, "you are a b1tch Mochi")  # blocked, never answered
            asked = await say(tw, owner, viewer, "hey Mochi, what is your favourite colour?")
            post = await tw.wait_for(lambda: next((p for p in tw.sent_chat()
                                                   if p.body.get("reply_parent_message_id") == asked), None),
                                     timeout=60, what="the answer in chat")
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    assert flow.answered == 1 and sink.segments  # spoken, with timed visemes
    assert post.body["message"] == sink.stats.text and post.body["sender_id"] == BOT_ID
    assert post.user_id == BOT_ID  # sent with the bot's user token
    rows = [r for r in audit_rows(audit, tmp_path) if r["gate"] == "input"]
    assert [r["reason"] for r in rows] == ["blocklist", "ok"]


async def test_commands_with_permissions(world, defaults, tmp_path):
    tw, bot_user, owner, viewer, mod = world
    client, flow, audit = build(tw, defaults, tmp_path)

    def replies_to(mid):
        return [p.body["message"] for p in tw.sent_chat() if p.body.get("reply_parent_message_id") == mid]

    async with running(client):
        h = await say(tw, owner, viewer, "!help")
        await tw.wait_for(lambda: replies_to(h), what="!help reply")
        assert "!ask" in replies_to(h)[0] and "Mods:" not in replies_to(h)[0]

        s = await say(tw, owner, viewer, "!skip")  # not a moderator: silently ignored
        f = await say(tw, owner, viewer, "!fireworks")
        await tw.wait_for(lambda: replies_to(f), what="!fireworks reply")
        assert replies_to(s) == [] and "overlay" in replies_to(f)[0]

        b = await say(tw, owner, mod, "!blockword spoilerz", badges=MOD_BADGE)
        await tw.wait_for(lambda: replies_to(b), what="!blockword reply")
        assert "spoilerz" not in replies_to(b)[0]  # never echoed back into chat
        assert "spoilerz" in (tmp_path / "words.txt").read_text()

        a = await say(tw, owner, viewer, "!ask what is a spoilerz")
        q = await say(tw, owner, mod, "!ask how are you today?", badges=MOD_BADGE)
        await tw.wait_for(lambda: len(flow.queue) == 1, what="the mod's question queued")
        assert flow.queue.snapshot()[0].text == "how are you today?"
        m = await say(tw, owner, mod, "!clear", badges=MOD_BADGE)
        await tw.wait_for(lambda: replies_to(m), what="!clear reply")
        assert replies_to(m) == ["cleared 1 waiting prompts"] and len(flow.queue) == 0
    rows = audit_rows(audit, tmp_path)
    assert any(r["reason"] == "blocklist" and "spoilerz" in r["detail"] for r in rows)
    assert replies_to(a) == [] and replies_to(q) == []


async def test_reconnect_loses_and_repeats_nothing(world, defaults, tmp_path):
    tw, bot_user, owner, viewer, mod = world
    client, flow, audit = build(tw, defaults, tmp_path)
    sent = []
    async with running(client):
        for i in range(3):
            sent.append(await say(tw, owner, viewer, f"message {i} before"))
        first = tw.open_sessions()[0]
        await tw.reconnect(first)  # session_reconnect: twitchio moves to the new URL
        second = await tw.wait_for(lambda: next((s for s in tw.open_sessions() if s.id != first.id), None),
                                   what="new session")
        for i in range(3):
            sent.append(await say(tw, owner, viewer, f"message {i} after reconnect"))
        await tw.redeliver(tw.deliveries[-1].message_id)  # at-least-once: the same message again
        await tw.wait_for(lambda: not first.open, what="old session closed")
        await tw.drop(second, code=4006)  # an abrupt close: twitchio reconnects and resubscribes
        await tw.wait_for_subscription("channel.chat.message", timeout=10)
        await tw.wait_for(lambda: client.state.status == "connected", what="connected again")
        for i in range(2):
            sent.append(await say(tw, owner, viewer, f"message {i} after drop"))
        await say(tw, owner, viewer, "marker")  # sent last: once it is moderated, so is
        # any duplicate delivered before it (no blind wait for one that might come)
        await tw.wait_for(lambda: any(r["text"] == "marker" for r in audit_rows(audit, tmp_path)),
                          30, what="all messages moderated")
    rows = [r for r in audit_rows(audit, tmp_path) if r["gate"] == "input"]
    assert [r["text"] for r in rows] == [f"message {i} before" for i in range(3)] + \
        [f"message {i} after reconnect" for i in range(3)] + \
        [f"message {i} after drop" for i in range(2)] + ["marker"]
    assert client.state.reconnects >= 1


async def test_messages_sent_while_twitch_moves_the_connection_arrive(world, defaults, tmp_path):
    """twitchio alone loses them (see test_fake_twitch_with_twitchio); vtbot's client does not."""
    tw, bot_user, owner, viewer, mod = world
    client, flow, audit = build(tw, defaults, tmp_path)
    async with running(client):
        old = tw.open_sessions()[0]
        await tw.reconnect(old, wait=False)
        await say(tw, owner, viewer, "sent in the window")
        assert tw.deliveries[-1].session_id == old.id  # Twitch still uses the old socket
        await tw.wait_for(lambda: old.successor and not old.open, what="the move")
        await say(tw, owner, viewer, "sent after the move")
        await tw.wait_for(lambda: len([r for r in audit_rows(audit, tmp_path) if r["gate"] == "input"]) >= 2,
                          what="both messages moderated")
    texts = [r["text"] for r in audit_rows(audit, tmp_path) if r["gate"] == "input"]
    assert texts == ["sent in the window", "sent after the move"]
