"""Viewer memory: who the regulars are and what they told the avatar, in SQLite.

It listens to the chat flow (every message that passed moderation counts; blocked
ones never reach it) and answers the brain with a short note on the viewer who is
asking. Everything is bounded: facts and topics per viewer, viewers in all. A viewer
who types !forgetme is erased and not remembered again (only a hash of their login is
kept, to honour that) until they type !rememberme.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.brain.context import Asker
from bot.chat.message import ChatMessage

from .facts import Fact, extract_facts, topics

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS viewers (
    login TEXT PRIMARY KEY, display TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS viewers_last_seen ON viewers(last_seen);
CREATE TABLE IF NOT EXISTS facts (
    login TEXT NOT NULL REFERENCES viewers(login) ON DELETE CASCADE, kind TEXT NOT NULL, text TEXT NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (login, kind, text));
CREATE TABLE IF NOT EXISTS topics (
    login TEXT NOT NULL REFERENCES viewers(login) ON DELETE CASCADE, word TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (login, word));
CREATE TABLE IF NOT EXISTS opted_out (hash TEXT PRIMARY KEY, at REAL NOT NULL);
"""
SOURCES = ("twitch", "script")
# held back only to pace prompts: the content passed every check, so it counts
THROTTLED = ("cooldown", "rate")
PRUNE_EVERY = 100  # messages between checks of the viewer count (so it may overshoot by this many)  # real viewers; the console is the streamer, alerts are not chat


class ViewerMemoryError(RuntimeError):
    """The viewer database cannot be used; the message names the file and the fix."""


@dataclass(frozen=True, slots=True)
class ViewerNote:
    login: str
    display: str
    first_seen: float
    last_seen: float
    messages: int
    facts: list[str] = field(default_factory=list)  # newest first
    topics: list[str] = field(default_factory=list)  # newest first


def _ago(seconds: float) -> str:
    days = seconds / 86400
    if days < 1:
        return "today"
    if days < 2:
        return "yesterday"
    if days < 14:
        return f"{int(days)} days ago"
    if days < 60:
        return f"{int(days // 7)} weeks ago"
    return f"{int(days // 30)} months ago"


class ViewerMemory:
    name = "viewer notes"

    def __init__(self, db_path: Path, *, max_facts: int = 8, max_topics: int = 5, max_viewers: int = 20000,
                 max_prompt_chars: int = 300, exclude_words: set[str] | None = None,
                 clock=time.time):
        self.db_path = Path(db_path)
        self.max_facts = max_facts
        self.max_topics = max_topics
        self.max_viewers = max_viewers
        self.max_prompt_chars = max_prompt_chars
        self.exclude = {w.lower() for w in (exclude_words or set())}
        self.clock = clock
        self._lock = threading.Lock()
        self._since_prune = 0
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.db_path, check_same_thread=False)
            self._db.executescript(SCHEMA)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, cheap commits
        except (sqlite3.DatabaseError, OSError) as e:
            raise ViewerMemoryError(f"viewer memory {self.db_path} cannot be opened ({e}): fix or delete the file "
                                    "(viewers.db in your config)") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _hash(login: str) -> str:
        return hashlib.sha256(f"vtbot-optout:{login.lower()}".encode()).hexdigest()

    def opted_out(self, login: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM opted_out WHERE hash = ?", (self._hash(login),)).fetchone() is not None

    # -- writing -------------------------------------------------------------------------

    def observe(self, login: str, display: str, text: str) -> list[Fact]:
        """Count one chat line and keep what it says about the viewer; returns the new facts."""
        login = login.lower()
        now = self.clock()
        facts = extract_facts(text) if self.max_facts else []
        words = topics(text, self.exclude | {login}) if self.max_topics else []
        with self._lock:
            db = self._db
            if db.execute("SELECT 1 FROM opted_out WHERE hash = ?", (self._hash(login),)).fetchone():
                return []
            db.execute("INSERT INTO viewers VALUES (?, ?, ?, ?, 1) ON CONFLICT(login) DO UPDATE SET "
                       "display = excluded.display, last_seen = excluded.last_seen, messages = messages + 1",
                       (login, display, now, now))
            for i, f in enumerate(facts):
                if f.single:
                    db.execute("DELETE FROM facts WHERE login = ? AND kind = ?", (login, f.kind))
                db.execute("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)",
                           (login, f.kind, f.text[:120], now - i * 1e-6))  # in the order they were said
            if facts:
                db.execute("DELETE FROM facts WHERE login = ? AND rowid NOT IN (SELECT rowid FROM facts "
                           "WHERE login = ? ORDER BY at DESC, rowid DESC LIMIT ?)", (login, login, self.max_facts))
            for i, w in enumerate(words[:self.max_topics]):
                db.execute("INSERT OR REPLACE INTO topics VALUES (?, ?, ?)", (login, w, now - i * 1e-6))  # first word first
            if words:
                db.execute("DELETE FROM topics WHERE login = ? AND rowid NOT IN (SELECT rowid FROM topics "
                           "WHERE login = ? ORDER BY at DESC LIMIT ?)", (login, login, self.max_topics))
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._since_prune = 0
                self._prune()
            db.commit()
        return facts

    def prune(self) -> None:
        with self._lock:
            self._prune()
            self._db.commit()

    def _prune(self) -> None:
        """Forget the longest-unseen viewers beyond ``max_viewers``."""
        count = self._db.execute("SELECT COUNT(*) FROM viewers").fetchone()[0]
        if count > self.max_viewers:
            self._db.execute("DELETE FROM viewers WHERE login IN (SELECT login FROM viewers "
                             "ORDER BY last_seen LIMIT ?)", (count - self.max_viewers,))

    def forget(self, login: str, *, opt_out: bool) -> bool:
        """Erase everything about a viewer; with ``opt_out`` they are not remembered again."""
        login = login.lower().lstrip("@")
        with self._lock:
            gone = self._db.execute("DELETE FROM viewers WHERE login = ?", (login,)).rowcount > 0
            if opt_out:
                self._db.execute("INSERT OR REPLACE INTO opted_out VALUES (?, ?)", (self._hash(login), self.clock()))
            self._db.commit()
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the erased rows leave the WAL file too
        log.info("viewer memory: forgot a viewer%s", " (opted out)" if opt_out else "")
        return gone

    def remember_again(self, login: str) -> bool:
        with self._lock:
            n = self._db.execute("DELETE FROM opted_out WHERE hash = ?", (self._hash(login),)).rowcount
            self._db.commit()
        return n > 0

    # -- reading -------------------------------------------------------------------------

    def note(self, login: str) -> ViewerNote | None:
        login = login.lower()
        with self._lock:
            row = self._db.execute("SELECT login, display, first_seen, last_seen, messages FROM viewers "
                                   "WHERE login = ?", (login,)).fetchone()
            if row is None:
                return None
            facts = [t for (t,) in self._db.execute(
                "SELECT text FROM facts WHERE login = ? ORDER BY at DESC, rowid DESC", (login,))]
            words = [w for (w,) in self._db.execute(
                "SELECT word FROM topics WHERE login = ? ORDER BY at DESC", (login,))]
        return ViewerNote(*row, facts=facts, topics=words)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM viewers").fetchone()[0]

    def describe(self, note: ViewerNote) -> str:
        """The note as the brain reads it, within ``max_prompt_chars``."""
        now = self.clock()
        if note.messages <= 1 and now - note.first_seen < 86400:
            head = f"About {note.display}: new here, this is their first message."
        else:
            head = (f"About {note.display}: first chatted {_ago(now - note.first_seen)}, "
                    f"{note.messages} messages so far.")
        parts = [head]
        if note.facts:
            parts.append("What they told you: " + "; ".join(note.facts) + ".")
        if note.topics:
            parts.append("Lately they talked about " + ", ".join(note.topics) + ".")
        text = " ".join(parts)
        if len(text) > self.max_prompt_chars:
            text = text[:self.max_prompt_chars - 1].rsplit(" ", 1)[0] + "…"
        return text

    async def context(self, asker: Asker) -> str | None:
        if not asker.login:
            return None
        note = self.note(asker.login)
        return self.describe(note) if note is not None else None

    # -- the chat flow's observer -----------------------------------------------------------

    def on_received(self, msg: ChatMessage, got, moderation_s: float) -> None:
        verdict = getattr(got, "verdict", None)
        if verdict is None or msg.source not in SOURCES:
            return
        if not verdict.allowed and verdict.reason not in THROTTLED:
            return
        self.observe(msg.user_login, msg.user_name, verdict.text)

    def on_answer_start(self, prompt) -> None:
        pass

    def on_answer_end(self, prompt, stats, outcome: str) -> None:
        pass
