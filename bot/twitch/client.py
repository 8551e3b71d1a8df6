"""vtbot on Twitch: EventSub chat in, Helix chat out, chat commands, connection state.

Built on twitchio 3's ``commands.Bot``. twitchio reconnects its EventSub sockets by
itself (session_reconnect, a dropped socket, missed keepalives); this class reports
each change of state, drops EventSub's duplicate deliveries (twitchio does not), saves
refreshed tokens at once, and hands every other message to the chat flow.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import twitchio
from twitchio import eventsub
from twitchio.ext import commands

from bot.chat.commands import MOD_ONLY, ChatCommands, Reply
from bot.chat.flow import ChatFlow
from bot.chat.message import ChatMessage
from bot.chat.queue import Prompt
from bot.config.models import CommandsConfig, TwitchConfig
from bot.speech.segment import UtteranceStats
from events.model import StreamEvent
from events.sources import twitch as twitch_events

from .compat import NOTIFICATION_ID, keep_reading_during_reconnect
from .auth import AuthError, StoredToken, TokenStore, refresh_store_entry
from .sender import ChatSender, _describe

log = logging.getLogger(__name__)

MOD_LIMIT, USER_LIMIT = 100, 20


@dataclasses.dataclass
class ConnectionState:
    """What the terminal shows: connected or not, since when, and the last problem."""

    status: str = "starting"  # starting | connecting | connected | reconnecting | stopped | failed
    since: float = dataclasses.field(default_factory=time.monotonic)
    detail: str = ""
    reconnects: int = 0
    listeners: list[Callable[[ConnectionState], None]] = dataclasses.field(default_factory=list, repr=False)

    def set(self, status: str, detail: str = "") -> None:
        if status == "reconnecting" and self.status != "reconnecting":
            self.reconnects += 1
        changed = (status, detail) != (self.status, self.detail)
        self.status, self.detail, self.since = status, detail, time.monotonic()
        if changed:
            log_fn = log.warning if status in ("reconnecting", "failed") else log.info
            log_fn("twitch: %s%s", status, f" ({detail})" if detail else "")
            for listener in self.listeners:
                listener(self)


def to_chat_message(p: twitchio.ChatMessage) -> ChatMessage:
    """twitchio's chat event → vtbot's platform-free message."""
    badges = {b.set_id for b in p.badges if b.set_id}
    if p.chatter.id == p.broadcaster.id:
        badges.add("broadcaster")
    emotes = tuple(f.text for f in p.fragments if f.type == "emote")
    mentions = tuple((f.mention.name or "").lower() for f in p.fragments
                     if f.type == "mention" and f.mention is not None)
    reply_to = p.reply.parent_user.name.lower() if p.reply and p.reply.parent_user.name else None
    return ChatMessage(
        text=p.text, user_login=p.chatter.name or p.chatter.id,
        user_name=p.chatter.display_name or p.chatter.name or "", user_id=p.chatter.id,
        message_id=p.id, badges=frozenset(badges), emotes=emotes, mentions=mentions,
        bits=p.cheer.bits if p.cheer else 0, reply_to_login=reply_to, source="twitch")


class TwitchChat(commands.Bot):
    def __init__(self, cfg: TwitchConfig, commands_cfg: CommandsConfig, *, bot_token: StoredToken,
                 broadcaster_token: StoredToken | None, flow: ChatFlow, chat_commands: ChatCommands,
                 store: TokenStore, client_secret: str | None = None,
                 state: ConnectionState | None = None,
                 on_event: Callable[[StreamEvent], Awaitable[object]] | None = None) -> None:
        keep_reading_during_reconnect()
        owner = broadcaster_token or bot_token
        super().__init__(client_id=cfg.client_id, client_secret=client_secret or "",
                         bot_id=bot_token.user_id, owner_id=owner.user_id,
                         prefix=commands_cfg.prefix, case_insensitive=True)
        self.cfg = cfg
        self.commands_cfg = commands_cfg
        self.bot_token = bot_token
        self.broadcaster_token = broadcaster_token
        self.flow = flow
        self.chat_commands = chat_commands
        self.store = store
        self.public_client = not client_secret
        self.state = state or ConnectionState()
        self.sender = ChatSender(self._post, limit=self._initial_limit())
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._mod_known = cfg.bot_is_moderator != "auto" or bot_token.user_id == owner.user_id
        self.on_event = on_event
        self.events_missing: list[str] = []  # alert subscriptions Twitch refused (and why)

    # -- lifecycle -----------------------------------------------------------------------

    async def run_until_stopped(self) -> None:
        """Log in and listen; twitchio keeps the sockets alive. Raises if login fails."""
        self.state.set("connecting")
        token = self.bot_token.access_token.reveal() if self.public_client else None
        await self.start(token=token, with_adapter=False, load_tokens=False, save_tokens=False)

    async def setup_hook(self) -> None:
        await self.add_token(self.bot_token.access_token.reveal(), self.bot_token.refresh_token.reveal())
        if self.broadcaster_token and self.broadcaster_token.user_id != self.bot_token.user_id:
            await self.add_token(self.broadcaster_token.access_token.reveal(),
                                 self.broadcaster_token.refresh_token.reveal())
        self._register_commands()
        await self.subscribe_websocket(
            eventsub.ChatMessageSubscription(broadcaster_user_id=self.owner_id, user_id=self.bot_id),
            token_for=self.bot_id)
        if self.on_event is not None:
            await self._subscribe_alerts()
        self.sender.start()

    async def _subscribe_alerts(self) -> None:
        """Follows, cheers, subs, raids, redeems and hype trains for the alert rules; a
        refused one is reported (usually a scope `vtbot auth broadcaster` grants) and the
        rest still work."""
        for name, kind in twitch_events.LISTENERS.items():
            self.add_listener(self._alert_listener(kind), event=name)
        for payload in twitch_events.subscriptions(str(self.owner_id)):
            try:
                await self.subscribe_websocket(payload, **twitch_events.token_for(payload, str(self.owner_id)))
            except (twitchio.HTTPException, twitchio.TwitchioException) as e:
                what = f"{payload.type}: {getattr(e, 'status', '')} {getattr(e, 'extra', {}).get('message', e)}"
                self.events_missing.append(what)
                log.warning("twitch: no %s alerts (%s); `vtbot auth broadcaster` grants the scopes",
                            payload.type, what)

    def _alert_listener(self, kind: str) -> Callable[[Any], Awaitable[None]]:
        async def listener(payload: Any) -> None:
            message_id = NOTIFICATION_ID.get()
            if not message_id or self.on_event is None:
                log.warning("twitch: a %s event without EventSub's message id was ignored", kind)
                return
            try:
                event = twitch_events.to_event(kind, payload, message_id)
            except Exception:  # noqa: BLE001 - a payload twitchio parsed but vtbot cannot: report, go on
                log.exception("twitch: could not read a %s event", kind)
                return
            await self.on_event(event)

        return listener

    async def close(self, **options: Any) -> None:
        await self.sender.stop()
        self.state.set("stopped")
        await super().close(**options)

    def _initial_limit(self) -> int:
        if self.cfg.bot_is_moderator == "yes":
            return MOD_LIMIT
        if self.cfg.bot_is_moderator == "no":
            return USER_LIMIT
        owner = self.broadcaster_token or self.bot_token
        return MOD_LIMIT if self.bot_token.user_id == owner.user_id else USER_LIMIT

    # -- connection events -----------------------------------------------------------------

    async def event_ready(self) -> None:
        self.state.set("connected", f"as {self.bot_token.login} in #{self.cfg.channel or self.owner_id}")

    async def event_websocket_welcome(self, payload: Any) -> None:
        self.state.set("connected", f"as {self.bot_token.login} in #{self.cfg.channel or self.owner_id}")

    async def event_websocket_closed(self, payload: Any) -> None:
        self.state.set("reconnecting", "the chat connection closed; twitchio reconnects")

    async def event_subscription_revoked(self, payload: Any) -> None:
        reason = getattr(getattr(payload, "reason", None), "value", None) or "revoked"
        self.state.set("failed", f"Twitch revoked the chat subscription ({reason}); run `vtbot auth`")

    async def event_token_refreshed(self, payload: Any) -> None:
        """Keep the file in step: a public client's old refresh token no longer works."""
        for token in (self.bot_token, self.broadcaster_token):
            if token is not None and token.user_id == str(payload.user_id):
                new = refresh_store_entry(token, payload.token, payload.refresh_token)
                self.store.save(new)
                if token is self.bot_token:
                    self.bot_token = new
                else:
                    self.broadcaster_token = new

    async def event_error(self, payload: Any) -> None:
        log.warning("twitch: error in %s: %s", getattr(payload.listener, "__name__", "a listener"),
                    _describe(payload.error))

    # -- chat -------------------------------------------------------------------------------

    async def event_message(self, payload: twitchio.ChatMessage) -> None:
        key = payload.metadata.message_id if payload.metadata is not None else payload.id
        if key in self._seen:
            return  # EventSub delivers at least once
        self._seen[key] = None
        if len(self._seen) > 5000:
            self._seen.popitem(last=False)
        if payload.source_broadcaster is not None and payload.source_only:
            return  # shared chat from another channel
        msg = to_chat_message(payload)
        if payload.chatter.id == self.bot_id:
            self._learn_limit(msg)
            return
        if self._is_command(msg.text):
            await self.process_commands(payload)
            return
        self.flow.receive(msg)

    def _learn_limit(self, own: ChatMessage) -> None:
        """Our own message's badges say whether the bot is a moderator here."""
        if self._mod_known:
            return
        self._mod_known = True
        self.sender.set_limit(MOD_LIMIT if ({"moderator", "broadcaster"} & own.badges) else USER_LIMIT)

    def _is_command(self, text: str) -> bool:
        prefix = self.commands_cfg.prefix
        if not text.startswith(prefix):
            return False
        word = text[len(prefix):].split(" ", 1)[0].lower()
        return any(word in names for names in self.chat_commands.names().values())

    def _register_commands(self) -> None:
        for key, names in self.chat_commands.names().items():
            self.add_command(self._command(key, names))

    def _command(self, key: str, names: list[str]) -> commands.Command[Any, ...]:
        cfg = getattr(self.commands_cfg, key)
        handler = self.chat_commands

        async def callback(ctx: commands.Context[Any], *, args: str = "") -> None:
            msg = to_chat_message(ctx.message)
            reply = await handler.run(key, msg, args)
            if reply is not None:
                self.reply(msg, reply)

        if key in MOD_ONLY:  # twitchio's own guard; ChatCommands checks again (the console has no guards)
            callback = commands.guard(_is_mod)(callback)
        if cfg.user_cooldown_s > 0:
            callback = commands.cooldown(rate=1, per=cfg.user_cooldown_s, key=commands.BucketType.chatter)(callback)
        if cfg.global_cooldown_s > 0:
            callback = commands.cooldown(rate=1, per=cfg.global_cooldown_s, key=commands.BucketType.channel)(callback)
        return commands.Command(callback, name=names[0], aliases=names[1:])

    async def event_command_error(self, payload: commands.CommandErrorPayload) -> None:
        e = payload.exception
        if isinstance(e, commands.GuardFailure):
            log.info("!%s refused for %s: moderators only", payload.context.command, payload.context.chatter.name)
            return
        if isinstance(e, commands.CommandOnCooldown):
            log.info("!%s on cooldown for %s (%.0f s)", payload.context.command, payload.context.chatter.name,
                     e.remaining)
            return
        log.warning("!%s failed: %s", payload.context.command, _describe(e))

    # -- out ----------------------------------------------------------------------------------

    def reply(self, msg: ChatMessage, reply: Reply) -> None:
        self.sender.say(reply.text, msg.message_id if reply.to_message else None)

    async def post_answer(self, prompt: Prompt, stats: UtteranceStats) -> None:
        """The avatar's spoken answer, also in chat (as a reply to the viewer's message)."""
        if self.cfg.reply_in_chat and stats.text:
            self.sender.say(stats.text, prompt.message.message_id or None)

    async def _post(self, text: str, reply_to: str | None) -> None:
        broadcaster = self.create_partialuser(self.owner_id)
        await broadcaster.send_message(text, sender=self.bot_id, token_for=self.bot_id,
                                       reply_to_message_id=reply_to)


def _is_mod(ctx: commands.Context[Any]) -> bool:
    return bool(ctx.chatter.moderator or ctx.chatter.broadcaster)


async def run_with_backoff(make: Callable[[], TwitchChat], state: ConnectionState, *,
                           first_delay: float = 2.0, max_delay: float = 120.0) -> None:
    """Keep a Twitch connection: when logging in fails (network down, Twitch down), say
    so and try again with growing pauses. Auth errors that need the user stop it."""
    delay = first_delay
    while True:
        client = make()
        try:
            await client.run_until_stopped()
            return
        except asyncio.CancelledError:
            await client.close()
            raise
        except (twitchio.InvalidTokenException, AuthError) as e:
            state.set("failed", f"Twitch refused the login ({_describe(e)}); run `vtbot auth`")
            await client.close()
            return
        except Exception as e:  # noqa: BLE001 - network and Twitch errors: retry
            state.set("reconnecting", f"{_describe(e)}; next try in {delay:.0f} s")
            await client.close()
            await asyncio.sleep(delay)
            delay = min(max_delay, delay * 2)
