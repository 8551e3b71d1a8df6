"""Chat commands, free of any chat platform: each takes the message and its
arguments and returns what to answer in chat (or None for silence).

The Twitch adapter (bot/twitch/commands.py) registers them under the configured names
with permission guards and cooldowns; the console can call them too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config.models import CommandsConfig
from bot.moderation.gate import Moderator

from .controls import ActionUnavailable, StreamControls
from .flow import ChatFlow
from bot.brain.persona import viewer_turn
from bot.viewers.memory import ViewerMemory

from .message import ChatMessage
from .queue import Priority

log = logging.getLogger(__name__)

MOD_ONLY = ("skip", "mute", "unmute", "scene", "clear", "blockword", "forget")
PUBLIC = ("ask", "help", "fireworks", "forgetme", "rememberme")


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    to_message: bool = True  # as a threaded reply to the command


class ChatCommands:
    def __init__(self, cfg: CommandsConfig, flow: ChatFlow, moderator: Moderator,
                 controls: StreamControls, persona_name: str, viewers: ViewerMemory | None = None):
        self.cfg = cfg
        self.viewers = viewers
        self.flow = flow
        self.moderator = moderator
        self.controls = controls
        self.persona_name = persona_name

    def names(self) -> dict[str, list[str]]:
        """Command → the words that call it (configured name and aliases), enabled only."""
        out = {}
        for key in (*PUBLIC, *MOD_ONLY):
            c = getattr(self.cfg, key)
            if c.enabled:
                out[key] = [c.name.lower(), *(a.lower() for a in c.aliases)]
        return out

    async def run(self, key: str, msg: ChatMessage, args: str) -> Reply | None:
        if key in MOD_ONLY and not msg.is_moderator:
            log.info("%s tried !%s without moderator rights", msg.user_login, key)
            return None
        return await getattr(self, f"cmd_{key}")(msg, args.strip())

    async def cmd_ask(self, msg: ChatMessage, args: str) -> Reply | None:
        if not args:
            return Reply(f"Ask {self.persona_name} something: {self.cfg.prefix}{self.cfg.ask.name} <question>")
        got = self.flow.ask(msg, args, Priority.ASK)
        if not got.verdict or not got.verdict.allowed:
            return None  # moderated: the audit log has why; chat gets no hint to work around
        if got.offer is not None and not got.offer.accepted:
            return Reply(f"{got.offer.reason} — try again in a bit")
        return None

    async def cmd_help(self, msg: ChatMessage, args: str) -> Reply:
        p = self.cfg.prefix
        public = [f"{p}{self.cfg.ask.name} <question>"]
        if self.cfg.fireworks.enabled:
            public.append(f"{p}{self.cfg.fireworks.name}")
        if self.cfg.forgetme.enabled and self.viewers is not None:
            public.append(f"{p}{self.cfg.forgetme.name}")
        text = f"Talk to {self.persona_name}: say {self.persona_name} in your message or use " + ", ".join(public) + "."
        if msg.is_moderator:
            mods = [f"{p}{getattr(self.cfg, k).name}" for k in MOD_ONLY if getattr(self.cfg, k).enabled]
            text += " Mods: " + " ".join(mods)
        return Reply(text)

    async def cmd_fireworks(self, msg: ChatMessage, args: str) -> Reply | None:
        return await self._action("fireworks", args, msg)

    async def cmd_scene(self, msg: ChatMessage, args: str) -> Reply | None:
        if not args:
            return Reply(f"usage: {self.cfg.prefix}{self.cfg.scene.name} <scene name>")
        return await self._action("scene", args, msg)

    async def _action(self, name: str, args: str, msg: ChatMessage) -> Reply | None:
        try:
            said = await self.controls.run(name, args, msg.user_login)
        except ActionUnavailable as e:
            return Reply(str(e))
        return Reply(said) if said else None

    async def cmd_skip(self, msg: ChatMessage, args: str) -> Reply | None:
        return None if self.flow.skip() else Reply("nothing to skip")

    async def cmd_mute(self, msg: ChatMessage, args: str) -> Reply:
        self.flow.mute()
        return Reply(f"{self.persona_name} is muted; {self.cfg.prefix}{self.cfg.unmute.name} to unmute")

    async def cmd_unmute(self, msg: ChatMessage, args: str) -> Reply:
        self.flow.unmute()
        return Reply(f"{self.persona_name} is back")

    async def cmd_clear(self, msg: ChatMessage, args: str) -> Reply:
        return Reply(f"cleared {self.flow.clear()} waiting prompts")

    async def cmd_blockword(self, msg: ChatMessage, args: str) -> Reply:
        if not args:
            return Reply(f"usage: {self.cfg.prefix}{self.cfg.blockword.name} <word or phrase>")
        self.moderator.lists.add_word(args)
        log.info("%s blocked a word (%d characters)", msg.user_login, len(args))
        kept = " and kept in your words file" if self.moderator.cfg.words_file else ""
        return Reply(f"blocked{kept}")  # never echo the word back into chat

    # -- viewer memory -------------------------------------------------------------------

    def _erase(self, login: str, display: str, *, opt_out: bool) -> bool:
        """The viewer's notes, and their turns in the brain's running conversation."""
        assert self.viewers is not None
        note = self.viewers.note(login)
        gone = self.viewers.forget(login, opt_out=opt_out)
        brain = self.flow.pipeline.brain if self.flow.pipeline is not None else None
        if brain is not None:
            for name in {display, note.display if note else display, login}:
                gone |= brain.memory.forget(viewer_turn(name, "")) > 0
        return gone

    async def cmd_forgetme(self, msg: ChatMessage, args: str) -> Reply:
        if self.viewers is None:
            return Reply(f"{self.persona_name} keeps no notes on viewers")
        self._erase(msg.user_login, msg.user_name, opt_out=True)
        return Reply(f"done: {self.persona_name} forgot everything about you and won't take notes again "
                     f"({self.cfg.prefix}{self.cfg.rememberme.name} to undo)")

    async def cmd_rememberme(self, msg: ChatMessage, args: str) -> Reply:
        if self.viewers is None:
            return Reply(f"{self.persona_name} keeps no notes on viewers")
        self.viewers.remember_again(msg.user_login)
        return Reply(f"{self.persona_name} will remember what you tell her again")

    async def cmd_forget(self, msg: ChatMessage, args: str) -> Reply:
        login = args.split()[0].lstrip("@").lower() if args.split() else ""
        if not login:
            return Reply(f"usage: {self.cfg.prefix}{self.cfg.forget.name} <user>")
        if self.viewers is None:
            return Reply(f"{self.persona_name} keeps no notes on viewers")
        gone = self._erase(login, login, opt_out=False)
        log.info("%s had a viewer's notes erased", msg.user_login)
        return Reply(f"forgot {login}" if gone else f"no notes on {login}")
