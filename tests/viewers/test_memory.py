"""Viewer memory in SQLite: notes build from chat that passed moderation, stay bounded,
survive a restart, reach the prompt, and !forgetme removes every trace."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.brain.context import Asker
from bot.chat.commands import ChatCommands
from bot.chat.flow import ChatFlow
from bot.chat.message import ChatMessage
from bot.chat.queue import PromptQueue
from bot.chat.triage import Triager
from bot.chat.controls import StreamControls
from bot.moderation.audit import AuditLog
from bot.moderation.gate import Moderator
from bot.viewers.memory import ViewerMemory


class Clock:
    def __init__(self, t=1_800_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def memory(path: Path, clock=None, **kw) -> ViewerMemory:
    return ViewerMemory(path, exclude_words={"mochi"}, clock=clock or Clock(), **kw)


def test_notes_build_up_and_survive_a_restart(tmp_path):
    clock = Clock()
    m = memory(tmp_path / "v.sqlite3", clock)
    m.observe("Alice", "Alice", "hi Mochi! my cat is called Miso")
    clock.t += 3 * 86400
    m.observe("alice", "Alice", "I'm from Porto and I love Celeste speedruns")
    m.close()
    again = memory(tmp_path / "v.sqlite3", clock)
    note = again.note("ALICE")
    assert note.messages == 2 and note.display == "Alice"
    assert note.facts == ["is from Porto", "likes Celeste speedruns", "has a cat named Miso"]
    text = asyncio.run(again.context(Asker("Alice", "alice", "hello")))
    assert text.startswith("About Alice: first chatted 3 days ago, 2 messages so far.")
    assert "What they told you: is from Porto; likes Celeste speedruns; has a cat named Miso." in text
    assert "Lately they talked about porto, celeste, speedruns" in text
    assert asyncio.run(again.context(Asker("streamer", None, "hi"))) is None  # the console has no notes
    m2 = memory(tmp_path / "v.sqlite3", clock)
    m2.observe("bob", "Bob", "first time here")
    assert m2.describe(m2.note("bob")) == "About Bob: new here, this is their first message."


def test_bounded(tmp_path):
    m = memory(tmp_path / "v.sqlite3", max_facts=3, max_topics=2, max_viewers=50, max_prompt_chars=120)
    for food in ["ramen", "sushi", "tacos", "pizza", "curry"]:
        m.observe("alice", "Alice", f"I love {food}")
    m.observe("alice", "Alice", "I live in Oslo")
    m.observe("alice", "Alice", "I live in Bergen now")  # replaces, does not add
    note = m.note("alice")
    assert note.facts == ["lives in Bergen now", "likes curry", "likes pizza"]
    assert len(note.topics) == 2
    assert len(m.describe(note)) <= 120
    most = 0
    for i in range(600):  # the count is checked every 100 messages
        m.clock.t += 1
        m.observe(f"viewer{i}", f"viewer{i}", "hello there")
        most = max(most, m.count())
    assert most <= 50 + 100 and m.note("alice") is None  # the longest unseen went first
    m.prune()
    assert m.count() == 50 and m.note("viewer599") is not None and m.note("viewer549") is None


def flow_with(defaults, tmp_path, viewers):
    mcfg = defaults.config.moderation.model_copy(update={"audit_log": tmp_path / "audit.jsonl"})
    mod = Moderator(mcfg, classifier=False)
    flow = ChatFlow(mod.input, Triager("mentions", ["Mochi"]), PromptQueue(), None, AuditLog(mcfg.audit_log))
    flow.observers.append(viewers)
    return flow, mod


def test_only_allowed_chat_from_viewers_counts(defaults, tmp_path):
    m = memory(tmp_path / "v.sqlite3")
    flow, _ = flow_with(defaults, tmp_path, m)
    flow.receive(ChatMessage("my dog is called Rex", "carol", message_id="1"))
    flow.receive(ChatMessage("my name is Fuck Face", "carol", message_id="2"))  # blocked by moderation
    flow.receive(ChatMessage("check out cheap-viewers dot com, my name is Spam", "carol", message_id="3"))
    flow.receive(ChatMessage("I love ramen", "streamer", source="console"))  # the streamer, not a viewer
    note = m.note("carol")
    assert note.messages == 1 and note.facts == ["has a dog named Rex"]
    assert m.note("streamer") is None


def test_forgetme_erases_everything_and_stops_remembering(defaults, tmp_path, llama_backend):
    from bot.brain import Brain

    db = tmp_path / "v.sqlite3"
    m = memory(db)
    flow, mod = flow_with(defaults, tmp_path, m)

    class Pipe:  # the brain's running conversation is the only other place a viewer's words stay
        brain = Brain(llama_backend, defaults.config.persona, defaults.config.llm)

    flow.pipeline = Pipe()
    brain = Pipe.brain
    brain.remember("Zelda", "my secret pet is called Zorblax", "Zorblax is a great name!")
    brain.remember("Bob", "hello", "hi Bob!")
    flow.receive(ChatMessage("my secret pet is called Zorblax", "zelda", user_name="Zelda", message_id="1"))
    flow.receive(ChatMessage("my rabbit is named Zorblax and I love zorblaxian tea", "zelda", user_name="Zelda",
                             message_id="2"))
    flow.receive(ChatMessage("hello there", "bob", message_id="3"))
    assert m.note("zelda").facts
    commands = ChatCommands(defaults.config.commands, flow, mod, StreamControls(), "Mochi", viewers=m)

    reply = asyncio.run(commands.run("forgetme", ChatMessage("!forgetme", "zelda", user_name="Zelda"), ""))
    assert "forgot everything about you" in reply.text and "!rememberme" in reply.text
    assert m.note("zelda") is None and m.note("bob") is not None
    assert [x.user for x in brain.memory._turns] == ["Bob says: hello"]
    m.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("v.sqlite3*"))
    assert b"zelda" not in raw.lower() and b"zorblax" not in raw.lower()  # not in the file, nor its WAL

    m = memory(db)
    commands.viewers = m
    flow.observers[:] = [m]
    flow.receive(ChatMessage("my cat is called Zorblax", "zelda", user_name="Zelda", message_id="4"))
    assert m.note("zelda") is None  # opted out: nothing new is kept
    asyncio.run(commands.run("rememberme", ChatMessage("!rememberme", "zelda"), ""))
    flow.receive(ChatMessage("my cat is called Pixel", "zelda", user_name="Zelda", message_id="5"))
    assert m.note("zelda").facts == ["has a cat named Pixel"]

    viewer = ChatMessage("!forget zelda", "bob")
    assert asyncio.run(commands.run("forget", viewer, "zelda")) is None  # moderators only
    mod_msg = ChatMessage("!forget @Zelda", "mia", badges=frozenset({"moderator"}))
    assert asyncio.run(commands.run("forget", mod_msg, "@Zelda")).text == "forgot zelda"
    assert m.note("zelda") is None
    flow.receive(ChatMessage("my cat is called Pixel", "zelda", message_id="6"))
    assert m.note("zelda") is not None  # a moderator's !forget erases, it does not opt the viewer out
    assert asyncio.run(commands.run("forget", mod_msg, "nobody")).text == "no notes on nobody"
