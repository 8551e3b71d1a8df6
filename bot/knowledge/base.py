"""The knowledge base: the streamer's lore files, chunked, embedded and kept in SQLite.

Files live in a folder the streamer edits (Markdown or text). ``sync`` re-embeds only
the files whose content changed (size and mtime first, then a hash), drops the chunks
of deleted files, and rebuilds everything when the embedding model changed. Search is
a dot product over the unit vectors held in memory: a few thousand chunks take well
under a millisecond, so no vector extension is needed.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import Chunk, chunk_document
from .encoder import SentenceEncoder

log = logging.getLogger(__name__)

SUFFIXES = (".md", ".markdown", ".txt")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
    ord INTEGER NOT NULL, heading TEXT NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
"""


class KnowledgeError(RuntimeError):
    """A knowledge-base problem the streamer can fix; the message says how."""


@dataclass(frozen=True, slots=True)
class Hit:
    score: float  # cosine similarity, -1..1
    path: str  # relative to the folder
    heading: str
    text: str


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    rebuilt: bool = False  # the model changed (or rebuild was asked for)
    errors: list[str] = field(default_factory=list)  # files skipped, with why (the rest is indexed)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed",
                 f"{self.unchanged} unchanged", f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f} s"]
        if self.errors:
            parts.append(f"{len(self.errors)} skipped")
        return ("rebuilt: " if self.rebuilt else "") + ", ".join(parts)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


class KnowledgeBase:
    def __init__(self, folder: Path, db_path: Path, encoder: SentenceEncoder | Callable[[], SentenceEncoder],
                 *, max_chunk_tokens: int = 160):
        self.folder = Path(folder)
        self.db_path = Path(db_path)
        self._encoder = encoder
        self.max_chunk_tokens = max_chunk_tokens
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows: list[tuple[str, str, str]] = []  # (path, heading, text) per matrix row
        self._bad: dict[str, tuple[int, float]] = {}  # files that failed, as they were: not retried until changed

    # -- plumbing ------------------------------------------------------------------------

    @property
    def encoder(self) -> SentenceEncoder:
        if not isinstance(self._encoder, SentenceEncoder):
            self._encoder = self._encoder()
        return self._encoder

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.db_path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.db_path, check_same_thread=False)
                db.executescript(SCHEMA)
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.DatabaseError as e:
                raise KnowledgeError(f"knowledge index {self.db_path} cannot be opened ({e}): "
                                     "delete it and run `vtbot kb rebuild`") from None
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def files(self) -> list[Path]:
        """The lore files, sorted; hidden files and folders are skipped."""
        if not self.folder.is_dir():
            raise KnowledgeError(f"knowledge folder {self.folder} does not exist: create it and put Markdown "
                                 "or text files in it (knowledge.folder in your config)")
        return sorted(p for p in self.folder.rglob("*")
                      if p.is_file() and p.suffix.lower() in SUFFIXES
                      and not any(part.startswith(".") for part in p.relative_to(self.folder).parts))

    # -- indexing ------------------------------------------------------------------------

    def sync(self, *, rebuild: bool = False) -> SyncReport:
        """Bring the index in line with the folder, embedding only what changed."""
        t0 = time.perf_counter()
        report = SyncReport()
        with self._lock:
            db = self._conn()
            identity = {"model": self.encoder.name, "folder": str(self.folder.resolve()),
                        "chunk_tokens": str(self.max_chunk_tokens)}
            stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if rebuild or any(k in stored and stored[k] != v for k, v in identity.items()):
                report.rebuilt = True  # another model, folder or chunk size: nothing stored fits
                db.execute("DELETE FROM chunks")
                db.execute("DELETE FROM files")
                self._bad.clear()
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", identity.items())
            known = {p: (sha, size, mtime) for p, sha, size, mtime in
                     db.execute("SELECT path, sha256, size, mtime FROM files")}
            present = set()
            for path in self.files():
                rel = path.relative_to(self.folder).as_posix()
                present.add(rel)
                st = path.stat()
                old = known.get(rel)
                if old is not None and old[1] == st.st_size and old[2] == st.st_mtime:
                    report.unchanged += 1
                    continue
                if self._bad.get(rel) == (st.st_size, st.st_mtime):
                    continue  # still broken as before: reported already
                sha = _sha256(path)
                if old is not None and old[0] == sha:  # touched, not changed
                    db.execute("UPDATE files SET mtime = ?, size = ? WHERE path = ?", (st.st_mtime, st.st_size, rel))
                    report.unchanged += 1
                    continue
                try:
                    report.chunks_embedded += self._index_file(db, path, rel, sha, st.st_size, st.st_mtime)
                except KnowledgeError as e:
                    self._bad[rel] = (st.st_size, st.st_mtime)
                    report.errors.append(str(e))
                    log.error("knowledge base: %s (its old passages, if any, are kept)", e)
                    continue
                self._bad.pop(rel, None)
                (report.updated if old is not None else report.added).append(rel)
            for rel in sorted(set(known) - present):
                db.execute("DELETE FROM files WHERE path = ?", (rel,))
                report.removed.append(rel)
            db.commit()
            self._load_matrix(db)
        report.seconds = time.perf_counter() - t0
        if report.changed or report.rebuilt:
            log.info("knowledge base %s: %s", self.folder, report.summary())
        return report

    def _index_file(self, db: sqlite3.Connection, path: Path, rel: str, sha: str, size: int, mtime: float) -> int:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise KnowledgeError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}): save it as UTF-8") from None
        except OSError as e:
            raise KnowledgeError(f"{path} cannot be read: {e.strerror}") from None
        chunks = chunk_document(text, path.stem.replace("_", " ").replace("-", " "),
                                self.encoder.count_tokens, max_tokens=self.max_chunk_tokens)
        vectors = self.encoder.encode([c.embed_text() for c in chunks])
        db.execute("DELETE FROM files WHERE path = ?", (rel,))  # cascades to its chunks
        db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?)", (rel, sha, size, mtime, time.time()))
        db.executemany("INSERT INTO chunks (path, ord, heading, text, vector) VALUES (?, ?, ?, ?, ?)",
                       [(rel, i, c.heading, c.text, v.astype(np.float32).tobytes())
                        for i, (c, v) in enumerate(zip(chunks, vectors))])
        return len(chunks)

    def _load_matrix(self, db: sqlite3.Connection) -> None:
        rows = db.execute("SELECT path, heading, text, vector FROM chunks ORDER BY path, ord").fetchall()
        self._rows = [(p, h, t) for p, h, t, _ in rows]
        dim = self.encoder.dim
        self._matrix = (np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), dim)
                        if rows else np.zeros((0, dim), dtype=np.float32))

    def add(self, sources: Iterable[Path], *, overwrite: bool = False) -> tuple[list[Path], SyncReport]:
        """Copy files into the folder, then index them."""
        self.folder.mkdir(parents=True, exist_ok=True)
        copied = []
        for src in sources:
            src = Path(src)
            if not src.is_file():
                raise KnowledgeError(f"{src} is not a file")
            if src.suffix.lower() not in SUFFIXES:
                raise KnowledgeError(f"{src}: only {', '.join(SUFFIXES)} files are indexed")
            dest = self.folder / src.name
            if dest.exists() and not overwrite and dest.resolve() != src.resolve():
                raise KnowledgeError(f"{dest} already exists: use --overwrite to replace it")
            if dest.resolve() != src.resolve():
                shutil.copyfile(src, dest)
            copied.append(dest)
        return copied, self.sync()

    # -- search --------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._rows)

    def search(self, query: str, k: int = 3, min_score: float = -1.0) -> list[Hit]:
        """The ``k`` chunks closest to ``query`` with a score of at least ``min_score``."""
        if not query.strip() or not self._rows:
            return []
        q = self.encoder.encode(query)
        with self._lock:
            scores = self._matrix @ q
            top = np.argsort(-scores)[:k]
            return [Hit(float(scores[i]), *self._rows[i]) for i in top if scores[i] >= min_score]

    @staticmethod
    def quote(hits: list[Hit], max_chars: int) -> list[str]:
        """The hits as prompt lines, best first, within ``max_chars`` in all."""
        lines, used = [], 0
        for h in hits:
            line = f"- ({h.heading}) {h.text}" if h.heading else f"- {h.text}"
            if used + len(line) > max_chars:
                if not lines:
                    lines.append(line[:max_chars].rstrip() + "…")
                break
            lines.append(line)
            used += len(line)
        return lines


__all__ = ["Chunk", "Hit", "KnowledgeBase", "KnowledgeError", "SyncReport"]
