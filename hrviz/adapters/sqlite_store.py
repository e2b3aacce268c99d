"""The embedded store: one SQLite file, so a newcomer needs no server at all.

A session is written inside one transaction (readings, anomalies, summary), so it is either all
there or not there: a crash, Ctrl-C or bad input mid-way leaves nothing behind. WAL mode lets a
``serve`` process read while an ``ingest`` writes.

Readings are stored in blocks — one row per batch of up to 5,000, the batch as a JSON array
written by ``json.dumps`` in C — because one SQL row per reading made the insert the slowest part
of ingest (about 2 µs a row in executemany). The ``readings`` view shows one row per reading for
anyone querying the file (docs/schema.md).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from hrviz.adapters.rows import (
    anomaly_from_row,
    anomaly_rows,
    mark_params,
    mark_published_sql,
    outbox_from_row,
    session_from_row,
    session_row,
)
from hrviz.core.model import Reading, ReadingRow, Session
from hrviz.core.ports import Outbox, QueuePosition

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    subject TEXT,
    rows INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    filled INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    start_ts REAL,
    end_ts REAL,
    tz_offset_min INTEGER,
    stat_count INTEGER NOT NULL,
    stat_min REAL,
    stat_mean REAL,
    stat_max REAL,
    created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    published_upto INTEGER NOT NULL DEFAULT -1,
    queue_partition INTEGER,
    queue_offset INTEGER
);
CREATE TABLE IF NOT EXISTS reading_blocks (
    session_id TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    data TEXT NOT NULL, -- JSON: [[seq, ts, bpm, filled, [kinds...]], ...]
    PRIMARY KEY (session_id, first_seq)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS readings AS
    SELECT b.session_id AS session_id, r.value ->> 0 AS seq, r.value ->> 1 AS ts, r.value ->> 2 AS bpm,
           r.value ->> 3 AS filled, r.value ->> 4 AS kinds
    FROM reading_blocks AS b, json_each(b.data) AS r;
CREATE TABLE IF NOT EXISTS anomalies (
    session_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start_ts REAL NOT NULL,
    end_ts REAL NOT NULL,
    bpm REAL,
    baseline REAL,
    delta REAL,
    PRIMARY KEY (session_id, idx)
);
"""
SESSION_COLUMNS = (
    "id, fingerprint, source, subject, rows, readings, filled, duplicates, start_ts, end_ts, "
    "tz_offset_min, stat_count, stat_min, stat_mean, stat_max"
)
MARK_SQL = mark_published_sql("?", "MAX")  # keeps the first position: replay must find seq 0


class SqliteStore:
    """:class:`hrviz.core.ports.SessionStore` on a SQLite file."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._lock = threading.RLock()  # one connection shared by the server's worker threads
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        """Version 1 kept one row per reading; move them into blocks of one (rare: early files only)."""
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            kind = self._db.execute("SELECT type FROM sqlite_master WHERE name = 'readings'").fetchone()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if version == 1 and kind == ("table",):
                    self._db.execute("ALTER TABLE readings RENAME TO readings_v1")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                if version == 1 and kind == ("table",):
                    self._db.execute(
                        "INSERT INTO reading_blocks SELECT session_id, seq, seq, json_array(json_array(seq, ts, bpm, "
                        "json(CASE filled WHEN 1 THEN 'true' ELSE 'false' END), "
                        "json(CASE kinds WHEN '' THEN '[]' ELSE '[\"' || replace(kinds, ',', '\",\"') || '\"]' END))) "
                        "FROM readings_v1"
                    )
                    self._db.execute("DROP TABLE readings_v1")
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- writing ----------------------------------------------------------------------------------

    def find(self, fingerprint: str) -> Session | None:
        return self._one("WHERE fingerprint = ?", (fingerprint,))

    def begin(self, session: Session) -> _SqliteWriter:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return _SqliteWriter(self, session)

    # -- reading ----------------------------------------------------------------------------------

    def get(self, session_id: str) -> Session | None:
        session = self._one("WHERE id = ?", (session_id,))
        if session is not None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT kind, start_ts, end_ts, bpm, baseline, delta FROM anomalies "
                    "WHERE session_id = ? ORDER BY idx",
                    (session_id,),
                ).fetchall()
            session.anomalies = [anomaly_from_row(r) for r in rows]
        return session

    def list_sessions(self, limit: int = 100) -> list[Session]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY created_at DESC, id LIMIT ?", (limit,)
            ).fetchall()
        return [session_from_row(r) for r in rows]

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        """One block at a time, so that neither memory nor the lock is held for a whole session."""
        seq = from_seq
        while True:
            with self._lock:
                row = self._db.execute(
                    "SELECT last_seq, data FROM reading_blocks WHERE session_id = ? AND last_seq >= ? "
                    "ORDER BY first_seq LIMIT 1",
                    (session_id, seq),
                ).fetchone()
            if row is None:
                return
            last_seq, data = row
            for s, ts, bpm, filled, kinds in json.loads(data):
                if s >= seq:
                    yield Reading(s, ts, bpm, filled, tuple(kinds))
            seq = last_seq + 1

    # -- the outbox -------------------------------------------------------------------------------

    def unpublished(self) -> list[Outbox]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, published_upto, readings, queue_partition, queue_offset FROM sessions "
                "WHERE published_upto < readings - 1 ORDER BY created_at, id"
            ).fetchall()
        return [outbox_from_row(r) for r in rows]

    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        with self._lock:
            self._db.execute(MARK_SQL, mark_params(session_id, upto_seq, position))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, where: str, args: tuple[object, ...]) -> Session | None:
        with self._lock:
            row = self._db.execute(f"SELECT {SESSION_COLUMNS} FROM sessions {where}", args).fetchone()
        return None if row is None else session_from_row(row)


class _SqliteWriter:
    """Holds the store's lock and an open transaction until commit or abort."""

    def __init__(self, store: SqliteStore, session: Session) -> None:
        self._store = store
        self._db = store._db
        self._id = session.id
        marks = ", ".join("?" * 15)
        self._db.execute(f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({marks})", session_row(session))

    def add_readings(self, batch: Sequence[ReadingRow]) -> None:
        if batch:
            self._db.execute(
                "INSERT INTO reading_blocks VALUES (?, ?, ?, ?)",
                (self._id, batch[0][0], batch[-1][0], json.dumps(batch, separators=(",", ":"))),
            )

    def commit(self, session: Session) -> None:
        row = session_row(session)
        self._db.execute(
            "UPDATE sessions SET rows=?, readings=?, filled=?, duplicates=?, start_ts=?, end_ts=?, tz_offset_min=?, "
            "stat_count=?, stat_min=?, stat_mean=?, stat_max=? WHERE id=?",
            (*row[4:], self._id),
        )
        self._db.executemany(
            "INSERT INTO anomalies VALUES (?, ?, ?, ?, ?, ?, ?, ?)", anomaly_rows(self._id, session.anomalies)
        )
        self._db.execute("COMMIT")
        self._store._lock.release()

    def abort(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        finally:
            self._store._lock.release()
