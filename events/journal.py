"""The events journal (SQLite): every event is written before its actions run.

An event and the actions its rules planned are stored in one transaction, keyed by
the event's dedupe key, so a second delivery of the same EventSub message is seen
and dropped, and a restart finds the actions that had not finished: they are
resumed (the ones done are not repeated). The file is kept bounded: old finished
events are pruned.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import StreamEvent
from .rules import Action, action_from_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    key TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    received REAL NOT NULL,
    finished REAL
);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key TEXT NOT NULL REFERENCES events(key) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    step INTEGER NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending, done, failed, skipped
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS actions_event ON actions(event_key);
CREATE INDEX IF NOT EXISTS events_open ON events(finished);
"""
KEEP_EVENTS = 20_000  # finished events kept for dedupe and history; older ones are pruned


@dataclass(frozen=True)
class PlannedAction:
    id: int
    rule: str
    step: int
    action: Action
    state: str = "pending"


@dataclass(frozen=True)
class OpenAlert:
    """An event whose actions had not all finished (at the last stop)."""

    event: StreamEvent
    actions: tuple[PlannedAction, ...]


class Journal:
    def __init__(self, path: Path | str, *, keep: int = KEEP_EVENTS):
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable across a crash of vtbot itself
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record(self, event: StreamEvent, plan: Sequence[tuple[str, Action]]) -> list[PlannedAction] | None:
        """Store a new event with its planned actions, atomically; None if it was seen before."""
        with self._tx():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO events (key, type, payload, received, finished) VALUES (?, ?, ?, ?, ?)",
                (event.key, event.type, event.model_dump_json(), time.time(), None if plan else time.time()))
            if cur.rowcount == 0:
                return None
            out = []
            for step, (rule, action) in enumerate(plan):
                cur = self.db.execute("INSERT INTO actions (event_key, rule, step, action) VALUES (?, ?, ?, ?)",
                                      (event.key, rule, step, json.dumps(action.to_json())))
                out.append(PlannedAction(int(cur.lastrowid or 0), rule, step, action))
        return out

    def seen(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM events WHERE key = ?", (key,)).fetchone() is not None

    def mark(self, action_id: int, state: str, detail: str = "") -> None:
        self.db.execute("UPDATE actions SET state = ?, detail = ? WHERE id = ?", (state, detail[:500], action_id))

    def finish(self, key: str) -> None:
        self.db.execute("UPDATE events SET finished = ? WHERE key = ?", (time.time(), key))
        self._prune()

    def open_alerts(self) -> list[OpenAlert]:
        """Events not finished at the last stop, oldest first, with all their actions."""
        out = []
        rows = self.db.execute("SELECT key, payload FROM events WHERE finished IS NULL ORDER BY received").fetchall()
        for key, payload in rows:
            actions = tuple(
                PlannedAction(aid, rule, step, action_from_json(json.loads(spec)), state)
                for aid, rule, step, spec, state in self.db.execute(
                    "SELECT id, rule, step, action, state FROM actions WHERE event_key = ? ORDER BY step", (key,)))
            out.append(OpenAlert(StreamEvent.model_validate_json(payload), actions))
        return out

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest events with what became of their actions (for the dashboard)."""
        out = []
        for key, etype, received, finished in self.db.execute(
                "SELECT key, type, received, finished FROM events ORDER BY received DESC LIMIT ?", (limit,)):
            states = [s for (s,) in self.db.execute("SELECT state FROM actions WHERE event_key = ? ORDER BY step",
                                                    (key,))]
            out.append({"key": key, "type": etype, "received": received, "finished": finished, "actions": states})
        return out

    def _prune(self) -> None:
        (count,) = self.db.execute("SELECT COUNT(*) FROM events WHERE finished IS NOT NULL").fetchone()
        if count > self.keep * 1.1:
            with self._tx():
                self.db.execute(
                    "DELETE FROM events WHERE key IN (SELECT key FROM events WHERE finished IS NOT NULL "
                    "ORDER BY received LIMIT ?)", (count - self.keep,))

    def _tx(self) -> _Tx:
        return _Tx(self.db)


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")
