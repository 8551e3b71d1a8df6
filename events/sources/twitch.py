"""Twitch EventSub stream events (through twitchio) as `StreamEvent`s.

`subscriptions` lists what to subscribe to; follows, cheers, subs, redeems and hype
trains are authorised by the broadcaster's token (twitchio sends those on the
broadcaster's own socket), raids need no user token. `to_event` maps the payload
twitchio hands an `event_*` listener; the dedupe key is EventSub's
`metadata.message_id`, which vtbot's twitchio patch (bot.twitch.compat) makes
available while the listener runs.
"""

from __future__ import annotations

from typing import Any

from twitchio import eventsub

from ..model import StreamEvent

# twitchio listener name → (vtbot event type)
LISTENERS: dict[str, str] = {
    "event_follow": "follow",
    "event_cheer": "cheer",
    "event_subscription": "sub",
    "event_subscription_gift": "gift",
    "event_subscription_message": "resub",
    "event_raid": "raid",
    "event_custom_redemption_add": "redeem",
    "event_hype_train": "hype_train_begin",
    "event_hype_train_end": "hype_train_end",
}


def subscriptions(broadcaster_id: str) -> list[Any]:
    """The EventSub payloads for every alert vtbot knows. Follows are read with the
    broadcaster as the moderator (so the bot need not be a mod); twitchio would send
    them with the bot's token, so `token_for` says whose token to use."""
    b = broadcaster_id
    return [
        eventsub.ChannelFollowSubscription(broadcaster_user_id=b, moderator_user_id=b),
        eventsub.ChannelCheerSubscription(broadcaster_user_id=b),
        eventsub.ChannelSubscribeSubscription(broadcaster_user_id=b),
        eventsub.ChannelSubscriptionGiftSubscription(broadcaster_user_id=b),
        eventsub.ChannelSubscribeMessageSubscription(broadcaster_user_id=b),
        eventsub.ChannelRaidSubscription(to_broadcaster_user_id=b),
        eventsub.ChannelPointsRedeemAddSubscription(broadcaster_user_id=b),
        eventsub.HypeTrainBeginSubscription(broadcaster_user_id=b),
        eventsub.HypeTrainEndSubscription(broadcaster_user_id=b),
    ]


def token_for(payload: Any, broadcaster_id: str) -> dict[str, Any]:
    """Extra `subscribe_websocket` arguments: the broadcaster's token for follows."""
    if isinstance(payload, eventsub.ChannelFollowSubscription):
        return {"token_for": broadcaster_id, "as_bot": False}
    return {}


def _name(user: Any) -> tuple[str, str]:
    if user is None:
        return "", ""
    return str(getattr(user, "display_name", None) or getattr(user, "name", None) or ""), str(user.id)


def _tier(tier: str | None) -> int:
    return {"1000": 1, "2000": 2, "3000": 3}.get(str(tier), 1)


def to_event(kind: str, payload: Any, message_id: str) -> StreamEvent:
    """One twitchio payload as an event of `kind` (a value of LISTENERS)."""
    common: dict[str, Any] = {"type": kind, "id": message_id, "source": "twitch"}
    user = getattr(payload, "user", None)
    if kind == "raid":
        user = payload.from_broadcaster
    name, uid = _name(user)
    common.update(user=name, user_id=uid)
    if kind == "cheer":
        return StreamEvent(**common, bits=payload.bits, message=payload.message or "",
                           anonymous=bool(payload.anonymous or user is None))
    if kind == "sub":
        return StreamEvent(**common, tier=_tier(payload.tier))
    if kind == "gift":
        return StreamEvent(**common, tier=_tier(payload.tier), count=payload.total,
                           anonymous=bool(payload.anonymous or user is None))
    if kind == "resub":
        return StreamEvent(**common, tier=_tier(payload.tier), months=payload.cumulative_months,
                           message=payload.text or "")
    if kind == "raid":
        return StreamEvent(**common, viewers=payload.viewer_count)
    if kind == "redeem":
        return StreamEvent(**common, reward=payload.reward.title, cost=payload.reward.cost,
                           message=payload.user_input or "")
    if kind in ("hype_train_begin", "hype_train_end"):
        return StreamEvent(**common, level=payload.level)
    return StreamEvent(**common)
