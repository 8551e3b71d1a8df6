"""The bus: dedupe, journal-before-act, alerts one after another, and resuming an
alert cut short by a restart without repeating what was done."""

from __future__ import annotations

import asyncio

import pytest

from events.actions import ActionRunner
from events.bus import EventBus
from events.journal import Journal
from events.model import StreamEvent
from events.rules import parse_rules


class Stage:
    """Records what the actions asked of the overlay and the voice; `hold` makes
    `say` wait (a line still being spoken), `broken` makes vfx raise. `said` has each
    line's start and end, so lines that overlapped show without timing them."""

    def __init__(self):
        self.log: list[tuple[str, object]] = []
        self.said: list[tuple[str, str]] = []
        self.hold: asyncio.Event | None = None
        self.saying = asyncio.Event()
        self.broken = False
        self.overlays = 1

    def vfx(self, effect, intensity, colors):
        if self.broken:
            raise ConnectionError("link closed")
        self.log.append(("vfx", (effect, intensity)))
        return self.overlays

    def expression(self, name, hold_s):
        self.log.append(("expression", name))
        return self.overlays

    async def say(self, text, event):
        self.said.append(("start", text))
        self.saying.set()
        if self.hold is not None:
            await self.hold.wait()
        self.said.append(("end", text))
        self.log.append(("say", text))
        return "heard"

    async def react(self, prompt, event):
        self.log.append(("react", prompt))
        return "heard"


RULES = {"rules": [
    {"name": "cheer", "on": "cheer", "when": "bits >= 100",
     "do": [{"vfx": {"kind": "fireworks", "scale": "bits", "per": 100}}, {"say": "Thanks {user} for {bits} bits!"},
            {"expression": "happy"}]},
    {"name": "follow", "on": "follow", "do": [{"say": "Welcome {user}!"}]},
]}


def cheer(mid: str, bits: int = 500, user: str = "Bob") -> StreamEvent:
    return StreamEvent(type="cheer", id=mid, source="twitch", user=user, bits=bits)


def make_bus(path, stage: Stage, **kw) -> EventBus:
    return EventBus(parse_rules(RULES), Journal(path), ActionRunner(overlay=stage, voice=stage), gap_s=0, **kw)


async def test_a_delivery_twice_is_one_alert(tmp_path):
    stage = Stage()
    bus = make_bus(tmp_path / "j.sqlite3", stage)
    await bus.start()
    assert await bus.publish(cheer("m1")) == "queued"
    assert await bus.publish(cheer("m1")) == "duplicate"
    assert await bus.publish(cheer("m2", bits=50)) == "no rule"
    await bus.idle()
    assert stage.log == [("vfx", ("fireworks", 5.0)), ("say", "Thanks Bob for 500 bits!"), ("expression", "happy")]
    assert bus.counts["duplicate"] == 1 and bus.counts["played"] == 1
    history = bus.journal.history()
    assert [h["actions"] for h in history if h["key"] == "twitch:m1"] == [["done", "done", "done"]]
    await bus.close()
    bus2 = make_bus(tmp_path / "j.sqlite3", stage)  # the journal remembers across restarts
    assert await bus2.publish(cheer("m1")) == "duplicate"
    await bus2.close()


async def test_alerts_play_one_after_another(tmp_path):
    stage = Stage()
    stage.hold = asyncio.Event()
    bus = make_bus(tmp_path / "j.sqlite3", stage)
    await bus.start()
    await bus.publish(cheer("a", user="Ann"))
    await bus.publish(StreamEvent(type="follow", id="f", source="twitch", user="Fay"))
    await asyncio.wait_for(stage.saying.wait(), 5)
    assert bus.waiting == 1 and stage.log == [("vfx", ("fireworks", 5.0))]  # the follow waits its turn
    stage.hold.set()
    await bus.idle()
    assert [k for k, _ in stage.log] == ["vfx", "say", "expression", "say"]
    assert stage.log[-1] == ("say", "Welcome Fay!")
    # the welcome began only after the thank-you ended: never two alerts at once
    thanks = "Thanks Ann for 500 bits!"
    assert stage.said == [("start", thanks), ("end", thanks), ("start", "Welcome Fay!"),
                          ("end", "Welcome Fay!")]
    await bus.close()


async def test_a_restart_mid_alert_resumes_without_repeating(tmp_path):
    path = tmp_path / "j.sqlite3"
    stage = Stage()
    stage.hold = asyncio.Event()  # the bot stops while the thank-you is being said
    bus = make_bus(path, stage)
    await bus.start()
    await bus.publish(cheer("m1"))
    await asyncio.wait_for(stage.saying.wait(), 5)
    await bus.close()
    bus.journal.close()
    assert stage.log == [("vfx", ("fireworks", 5.0))]

    stage2 = Stage()
    bus2 = make_bus(path, stage2)
    assert await bus2.start() == 1
    await bus2.idle()
    assert stage2.log == [("say", "Thanks Bob for 500 bits!"), ("expression", "happy")]  # no second vfx
    assert bus2.counts["resumed"] == 1
    assert await bus2.start() == 0  # finished now
    await bus2.close()


async def test_a_failing_action_does_not_stop_the_alert(tmp_path):
    stage = Stage()
    stage.broken = True
    bus = make_bus(tmp_path / "j.sqlite3", stage)
    await bus.start()
    await bus.publish(cheer("m1"))
    await bus.idle()
    assert [k for k, _ in stage.log] == ["say", "expression"]
    (h,) = bus.journal.history()
    assert h["actions"] == ["failed", "done", "done"]
    stage.overlays = 0
    stage.broken = False
    await bus.publish(cheer("m2"))
    await bus.idle()
    assert bus.journal.history()[0]["actions"] == ["skipped", "done", "skipped"]  # no overlay connected
    await bus.close()


async def test_a_flood_is_bounded_and_journaled(tmp_path):
    stage = Stage()
    stage.hold = asyncio.Event()
    bus = make_bus(tmp_path / "j.sqlite3", stage, max_waiting=3)
    await bus.start()
    results = [await bus.publish(cheer(f"m{i}")) for i in range(8)]
    assert results[:3] == ["queued"] * 3 and results.count("skipped") >= 4
    stage.hold.set()
    await bus.idle()
    states = [h["actions"] for h in bus.journal.history(limit=20)]
    assert sum(1 for s in states if s == ["skipped"] * 3) == results.count("skipped")
    await bus.close()


def test_journal_is_pruned(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3", keep=50)
    for i in range(200):
        assert journal.record(cheer(f"m{i}"), []) == []
        journal.finish(f"twitch:m{i}")
    (count,) = journal.db.execute("SELECT COUNT(*) FROM events").fetchone()
    assert count <= 55
    assert journal.seen("twitch:m199") and not journal.seen("twitch:m0")


@pytest.mark.parametrize("bad", ["", "x" * 300])
def test_event_ids_are_checked(bad):
    with pytest.raises(ValueError):
        cheer(bad)
