"""The event bus: source → dedupe + journal → rules → alert queue → actions.

`publish` is what every source calls. A delivery whose key was seen before is
dropped (EventSub delivers at least once); a new event is written to the journal
together with the actions its rules planned, in one transaction, before anything
runs. Alerts then play one after another, a gap between them, each action marked
done, failed or skipped as it ends. At start, alerts the last run left unfinished
are resumed: actions already done are not repeated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .actions import ActionRunner
from .journal import Journal, PlannedAction
from .model import StreamEvent
from .rules import RuleSet

log = logging.getLogger(__name__)

MAX_WAITING = 500  # alerts waiting to play; beyond that an alert is journaled as skipped


@dataclass
class Alert:
    event: StreamEvent
    actions: list[PlannedAction]
    resumed: bool = False
    results: list[tuple[str, str, str]] = field(default_factory=list)  # (action, state, detail)


Listener = Callable[[str, StreamEvent, "Alert | None"], None]  # (what happened, event, alert)


class EventBus:
    def __init__(self, rules: RuleSet, journal: Journal, runner: ActionRunner, *, gap_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, listener: Listener | None = None,
                 max_waiting: int = MAX_WAITING):
        self.rules = rules
        self.journal = journal
        self.runner = runner
        self.gap_s = gap_s
        self.clock = clock
        self.listener = listener
        self.max_waiting = max_waiting
        self._queue: asyncio.Queue[Alert] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._playing: Alert | None = None
        self.counts = {"received": 0, "duplicate": 0, "no rule": 0, "played": 0, "resumed": 0}

    # -- in -------------------------------------------------------------------------

    async def publish(self, event: StreamEvent) -> str:
        """Take one event from a source: "queued", "duplicate", "no rule" or "skipped"."""
        self.counts["received"] += 1
        if self.journal.seen(event.key):
            return self._dropped(event)
        matched = self.rules.match(event, self.clock())
        plan = []
        for rule, held in matched:
            if held:
                log.info("events: %s: rule %r %s", describe_event(event), rule.name, held)
                continue
            plan += [(rule.name, action) for action in rule.actions]
        full = bool(plan) and self._queue.qsize() >= self.max_waiting
        planned = self.journal.record(event, plan)
        if planned is None:  # a second delivery raced the first into the journal
            return self._dropped(event)
        if not planned:
            self.counts["no rule"] += 1
            self._tell("no rule", event, None)
            log.info("events: %s: no rule applies", describe_event(event))
            return "no rule"
        alert = Alert(event, planned)
        if full:
            for p in planned:
                self.journal.mark(p.id, "skipped", "alert queue full")
            self.journal.finish(event.key)
            log.warning("events: %s: %d alerts are waiting; this one is skipped (journaled)",
                        describe_event(event), self._queue.qsize())
            self._tell("skipped", event, alert)
            return "skipped"
        self._queue.put_nowait(alert)
        self._tell("queued", event, alert)
        log.info("events: %s → %s", describe_event(event), ", ".join(sorted({p.rule for p in planned})))
        return "queued"

    def _dropped(self, event: StreamEvent) -> str:
        self.counts["duplicate"] += 1
        log.info("events: %s delivered again; ignored", event.key)
        self._tell("duplicate", event, None)
        return "duplicate"

    def _tell(self, what: str, event: StreamEvent, alert: Alert | None) -> None:
        if self.listener is not None:
            try:
                self.listener(what, event, alert)
            except Exception:  # noqa: BLE001 - a display problem never stops the alerts
                log.exception("events: the listener failed")

    # -- out ------------------------------------------------------------------------

    async def start(self) -> int:
        """Queue what the last run left unfinished, then start playing; returns how many."""
        resumed = 0
        for open_alert in self.journal.open_alerts():
            left = [a for a in open_alert.actions if a.state in ("pending", "running")]
            if not left:
                self.journal.finish(open_alert.event.key)
                continue
            resumed += 1
            log.warning("events: resuming the alert for %s: %d of %d actions left",
                        describe_event(open_alert.event), len(left), len(open_alert.actions))
            alert = Alert(open_alert.event, left, resumed=True)
            self._queue.put_nowait(alert)
            self._tell("resumed", open_alert.event, alert)
        self.counts["resumed"] += resumed
        if self._worker is None:
            self._worker = asyncio.create_task(self._play_all(), name="events-alerts")
        return resumed

    async def _play_all(self) -> None:
        while True:
            alert = await self._queue.get()
            self._playing = alert
            try:
                await self._play(alert)
            finally:
                self._playing = None
                self._queue.task_done()
            if self.gap_s:
                await asyncio.sleep(self.gap_s)

    async def _play(self, alert: Alert) -> None:
        for planned in alert.actions:
            self.journal.mark(planned.id, "running")
            outcome = await self.runner.run(planned.action, alert.event)
            self.journal.mark(planned.id, outcome.state, outcome.detail)
            alert.results.append((planned.action.kind, outcome.state, outcome.detail))
            log.info("events:   %s %s: %s%s", planned.rule, planned.action.kind, outcome.state,
                     f" ({outcome.detail})" if outcome.detail else "")
        self.journal.finish(alert.event.key)
        self.counts["played"] += 1
        self._tell("played", alert.event, alert)

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    @property
    def playing(self) -> Alert | None:
        return self._playing

    async def idle(self, timeout: float = 60.0) -> None:
        """Wait until every queued alert has played (tests, scripted runs)."""
        await asyncio.wait_for(self._queue.join(), timeout)

    async def close(self) -> None:
        """Stop playing; unfinished alerts stay in the journal for the next start."""
        if self._worker is not None:
            # cancelled again until it ends: an action may swallow one cancel (a library's
            # wait that returns a result arriving at the same moment) and go on to the next
            while not self._worker.done():
                self._worker.cancel()
                await asyncio.wait({self._worker}, timeout=1.0)
            self._worker = None
        await self.runner.close()


def describe_event(event: StreamEvent) -> str:
    detail = {"cheer": f"{event.bits} bits", "donation": f"{event.amount:g} {event.currency}".strip(),
              "gift": f"{event.count} subs", "raid": f"{event.viewers} viewers", "resub": f"{event.months} months",
              "redeem": event.reward, "sub": f"tier {event.tier}" if event.tier else "",
              "hype_train_end": f"level {event.level}"}.get(event.type, "")
    return f"{event.type} from {event.who}" + (f" ({detail})" if detail else "")
