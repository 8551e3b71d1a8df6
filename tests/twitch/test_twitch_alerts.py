"""Alerts from Twitch: vtbot's client (real twitchio) subscribes to follows, cheers,
subs, gifts, resubs, raids, redeems and hype trains on the fake Twitch, turns each
official sample payload into a StreamEvent keyed by EventSub's message id, and a
notification Twitch delivers twice makes one alert."""

from __future__ import annotations

from bot.config.models import CommandsConfig, TwitchConfig
from bot.twitch.auth import TokenStore
from bot.twitch.client import TwitchChat
from events.actions import ActionRunner
from events.bus import EventBus
from events.journal import Journal
from events.rules import parse_rules
from tests.fakes.twitch_server import load_sample

from .test_live_twitch import BOT_ID, BOT_SCOPES, OWNER_ID, build, running, stored

OWNER_ALERT_SCOPES = ["channel:bot", "bits:read", "channel:read:subscriptions", "channel:read:redemptions",
                      "moderator:read:followers", "channel:read:hype_train"]
SAMPLES = {
    "channel.follow": "channel.follow.v2.follow.parse_payload_v2.json",
    "channel.cheer": "channel.cheer.v1.cheer.parse_payload.json",
    "channel.subscribe": "channel.subscribe.v1.subscribe.parse_payload.json",
    "channel.subscription.gift": "channel.subscription.gift.v1.gift.parse_payload.json",
    "channel.subscription.message": "channel.subscription.message.v1.message.parse_payload.json",
    "channel.raid": "channel.raid.v1.raid.parse_payload.json",
    "channel.channel_points_custom_reward_redemption.add":
        "channel.channel_points_custom_reward_redemption.add.v1.add.parse_payload.json",
    "channel.hype_train.begin": "channel.hype_train.begin.v2.begin.parse_payload_v2.json",
    "channel.hype_train.end": "channel.hype_train.end.v2.end.parse_payload_v2.json",
}


def sample_event(kind: str) -> dict:
    """The official sample, moved to this test's channel."""
    event = dict(load_sample(SAMPLES[kind])["event"])
    for key in ("broadcaster_user_id", "to_broadcaster_user_id"):
        if key in event:
            event[key] = OWNER_ID
    if kind == "channel.raid":
        event["to_broadcaster_user_login"], event["to_broadcaster_user_name"] = "streamer", "streamer"
    return event


async def test_every_alert_type_arrives_once(fake_twitch, defaults, tmp_path):
    tw = fake_twitch
    tw.add_user(BOT_ID, "mochibot", display_name="MochiBot", scopes=BOT_SCOPES)
    tw.add_user(OWNER_ID, "streamer", scopes=OWNER_ALERT_SCOPES)
    client, flow, _ = build(tw, defaults, tmp_path)
    client.broadcaster_token = stored(tw, "broadcaster", OWNER_ID, "streamer", OWNER_ALERT_SCOPES)
    seen = []

    async def publish(event):
        seen.append(event)
        return await bus.publish(event)

    rules = parse_rules({"rules": [{"on": ["follow", "cheer", "sub", "gift", "resub", "raid", "redeem",
                                           "hype_train_begin", "hype_train_end"], "do": [{"wait": 0.01}]}]})
    bus = EventBus(rules, Journal(tmp_path / "journal.sqlite3"), ActionRunner(), gap_s=0)
    await bus.start()
    client.on_event = publish
    async with running(client):
        await tw.wait_for(lambda: len([s for s in tw.subscriptions.values() if s.type in SAMPLES]) == len(SAMPLES),
                          what="alert subscriptions")
        assert client.events_missing == []
        ids = {}
        for kind in SAMPLES:
            [delivery] = await tw.notify(kind, sample_event(kind))
            ids[kind] = delivery.message_id
        await tw.redeliver(ids["channel.cheer"])  # Twitch delivers at least once
        await tw.wait_for(lambda: len(seen) >= len(SAMPLES) + 1, what="every alert and the redelivery")
    await bus.idle()
    await bus.close()
    by_type = {e.type: e for e in seen}
    assert len(seen) == len(SAMPLES) + 1 and bus.counts["duplicate"] == 1 and bus.counts["played"] == len(SAMPLES)
    cheer = load_sample(SAMPLES["channel.cheer"])["event"]
    assert by_type["cheer"].bits == cheer["bits"] and by_type["cheer"].id == ids["channel.cheer"]
    assert by_type["cheer"].anonymous == cheer["is_anonymous"]
    assert by_type["follow"].user == load_sample(SAMPLES["channel.follow"])["event"]["user_name"]
    gift = load_sample(SAMPLES["channel.subscription.gift"])["event"]
    assert by_type["gift"].count == gift["total"]
    resub = load_sample(SAMPLES["channel.subscription.message"])["event"]
    assert (by_type["resub"].months, by_type["resub"].message) == (resub["cumulative_months"],
                                                                    resub["message"]["text"])
    raid = load_sample(SAMPLES["channel.raid"])["event"]
    assert (by_type["raid"].user, by_type["raid"].viewers) == (raid["from_broadcaster_user_name"], raid["viewers"])
    redeem = load_sample(SAMPLES["channel.channel_points_custom_reward_redemption.add"])["event"]
    assert (by_type["redeem"].reward, by_type["redeem"].cost) == (redeem["reward"]["title"], redeem["reward"]["cost"])
    assert by_type["hype_train_end"].level == load_sample(SAMPLES["channel.hype_train.end"])["event"]["level"]
    assert {e.source for e in seen} == {"twitch"}


async def test_a_missing_scope_costs_only_its_alerts(fake_twitch, defaults, tmp_path):
    tw = fake_twitch
    scopes = ["channel:bot", "bits:read"]  # no subs, redeems, followers or hype train
    tw.add_user(BOT_ID, "mochibot", display_name="MochiBot", scopes=BOT_SCOPES)
    tw.add_user(OWNER_ID, "streamer", scopes=scopes)
    client, flow, _ = build(tw, defaults, tmp_path)
    client.broadcaster_token = stored(tw, "broadcaster", OWNER_ID, "streamer", scopes)
    seen = []

    async def publish(event):
        seen.append(event)
        return "queued"

    client.on_event = publish
    async with running(client):
        await tw.wait_for(lambda: any(s.type == "channel.raid" for s in tw.subscriptions.values()),
                          what="raid subscription")
        missing = " ".join(client.events_missing)
        assert "channel.subscribe" in missing and "channel.follow" in missing
        assert "channel.cheer" not in missing
        await tw.notify("channel.cheer", sample_event("channel.cheer"))
        await tw.wait_for(lambda: seen, what="the cheer")
    assert [e.type for e in seen] == ["cheer"]
