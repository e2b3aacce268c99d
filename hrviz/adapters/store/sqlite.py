"""The embedded store: one SQLite file, so a newcomer needs no server at all.

A session is staged in temporary tables of a connection of its own (the readings, as they come)
and copied into the file by ``commit`` in one short ``BEGIN IMMEDIATE`` transaction (summary,
readings, anomalies), so it is either all there or not there: a crash, Ctrl-C or bad input
mid-way leaves nothing behind, and the file's single write lock is held for the copy only (about
0.3 s for 4.5M readings), not for the whole ingest: a big ``hrviz ingest`` never stalls a
``serve`` on the same file. WAL mode lets readers read while a writer writes; writers that find
the lock taken wait up to ``busy_timeout`` and then fail with one sentence.

Readings are stored in blocks — one row per batch of up to 5,000, the batch as a JSON array
written by ``json.dumps`` in C — because one SQL row per reading made the insert the slowest part
of ingest (about 2 µs a row in executemany). In a block, a reading is ``[ts - t0, bpm]``, plus
``filled, [kinds]`` only when it has them; seq is the block's first seq plus the position. Times
are stored relative to the block's ``t0`` because short numbers encode faster, and the subtraction
is exact (Sterbenz: t0 <= ts <= 2·t0), so ``t0 + dt`` gives back every bit. The ``readings`` view
shows one row per reading for anyone querying the file (docs/schema.md).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from hrviz.adapters.store.listing import browse_sql, check, delete_statements, like, listed_from_row
from hrviz.adapters.store.rows import (
    SESSION_FIELDS,
    anomaly_from_row,
    anomaly_rows,
    mark_params,
    mark_published_sql,
    outbox_from_row,
    session_from_row,
    session_row,
)
from hrviz.adapters.store.summaries import SQLITE_DDL
from hrviz.adapters.store.summaries_mixins import SqliteSummaries, sqlite_write
from hrviz.core.errors import AlreadyStored, BackendUnavailable
from hrviz.core.model import Reading, ReadingBatch, Session
from hrviz.core.ports import Listing, Outbox, QueuePosition

SCHEMA_VERSION = 1
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
    t0 REAL NOT NULL,
    data TEXT NOT NULL, -- JSON: [[ts - t0, bpm], [ts - t0, bpm, filled, [kinds...]], ...]
    PRIMARY KEY (session_id, first_seq)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS readings AS
    SELECT b.session_id AS session_id, b.first_seq + r.key AS seq, b.t0 + (r.value ->> 0) AS ts,
           r.value ->> 1 AS bpm, coalesce(r.value ->> 2, 0) AS filled, coalesce(r.value ->> 3, '[]') AS kinds
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


BLOCK_SQL = "INSERT INTO reading_blocks VALUES (?, ?, ?, ?, ?)"
STAGED_BLOCK_SQL = "INSERT INTO temp.staged_blocks VALUES (?, ?, ?, ?, ?)"  # a writer's, until commit
STAGE_SQL = "CREATE TEMP TABLE staged_blocks (session_id TEXT, first_seq INTEGER, last_seq INTEGER, t0 REAL, data TEXT)"
SCHEMA_OBJECTS = set(re.findall(r"CREATE (?:TABLE|VIEW|INDEX) IF NOT EXISTS (\w+)", SCHEMA + SQLITE_DDL))
BUSY_TIMEOUT = 20.0  # seconds a writer waits for another one's (short) write transaction
SQLITE_BUSY, SQLITE_LOCKED = 5, 6


def block_row(session_id: str, batch: ReadingBatch) -> tuple[object, ...]:
    """One block: mostly ``[dt, bpm]`` pairs made by zip in C, the marked readings patched in."""
    ts = batch.ts
    t0 = ts[0]
    items: list[object] = list(zip([t - t0 for t in ts], batch.bpm, strict=True))
    for i, (filled, kinds) in batch.marks.items():
        items[i] = (ts[i] - t0, batch.bpm[i], filled, kinds)
    data = json.dumps(items, separators=(",", ":"))
    return (session_id, batch.first_seq, batch.first_seq + len(ts) - 1, t0, data)


class SqliteStore(SqliteSummaries):
    """:class:`hrviz.core.ports.SessionStore` on a SQLite file."""

    def __init__(self, path: Path | str, busy_timeout: float = BUSY_TIMEOUT) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()  # one reading connection shared by the server's worker threads
        self._db = self.connect()
        try:
            with self.busy("open"):
                self._wal()
                self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _wal(self) -> None:
        """Put the file in WAL mode (readers never wait for a writer).

        Switching a new file takes it exclusively, and SQLite does not wait for that (no busy
        handler): when several open a new file at once (serve's worker threads, two commands) the
        others are told "locked" at once, so they retry here for as long as a writer would wait.
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                busy = getattr(err, "sqlite_errorcode", None) in (SQLITE_BUSY, SQLITE_LOCKED)
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(0.005)

    def connect(self) -> sqlite3.Connection:
        """A new connection to the file, in autocommit mode (transactions are explicit)."""
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def busy(self, doing: str) -> Iterator[None]:
        """SQLite's "database is locked", once ``busy_timeout`` has passed, as one sentence."""
        started = time.monotonic()
        try:
            yield
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorcode", None) not in (SQLITE_BUSY, SQLITE_LOCKED):
                raise
            waited = time.monotonic() - started
            raise BackendUnavailable(
                f"database is busy: another hrviz is writing to {self.path} (waited {waited:.0f} s to {doing}); "
                "try again"
            ) from err

    def _migrate(self) -> None:
        """Create the schema in a new file, or what a file of this version still lacks (a table added
        since it was written: every statement is ``IF NOT EXISTS``); another version is refused.

        A file that has every table and view already is only read: opening a store never waits
        for a writer.
        """
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            present = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master")}
            if version == SCHEMA_VERSION and present >= SCHEMA_OBJECTS:
                return
            if version not in (0, SCHEMA_VERSION):
                raise BackendUnavailable(
                    f"{self.path} was written by another hrviz (schema {version}, this one reads {SCHEMA_VERSION}); "
                    "choose another file with --db"
                )
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in (SCHEMA + SQLITE_DDL).split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._db.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    # -- writing ----------------------------------------------------------------------------------

    def find(self, fingerprint: str) -> Session | None:
        return self._one("WHERE fingerprint = ?", (fingerprint,))

    def begin(self, session: Session) -> _SqliteWriter:
        """A writer on a connection of its own; if this raises, nothing is held."""
        return _SqliteWriter(self, session)

    # -- reading ----------------------------------------------------------------------------------

    def get(self, session_id: str) -> Session | None:
        session = self._one("WHERE id = ?", (session_id,))
        if session is not None:
            with self._lock:  # row by row: 44,000 anomalies fetched all at once were +10 MB of tuples first
                rows = self._db.execute(
                    "SELECT kind, start_ts, end_ts, bpm, baseline, delta FROM anomalies "
                    "WHERE session_id = ? ORDER BY idx",
                    (session_id,),
                )
                session.anomalies = [anomaly_from_row(r) for r in rows]
        return session

    def list_sessions(self, limit: int = 100) -> list[Session]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY created_at DESC, id LIMIT ?", (limit,)
            ).fetchall()
        return [session_from_row(r) for r in rows]

    def browse(self, offset: int = 0, limit: int = 20, query: str = "", order: str = "uploaded") -> Listing:
        offset, limit = check(offset, limit, order)
        page, count = browse_sql(SESSION_COLUMNS, "?", "created_at", order)
        pattern = like(query)
        with self._lock:
            rows = self._db.execute(page, (pattern, pattern, limit, offset)).fetchall()
            total = self._db.execute(count, (pattern, pattern)).fetchone()[0]
        return Listing([listed_from_row(r) for r in rows], int(total))

    def delete(self, session_id: str) -> bool:
        with self._lock:
            with self.busy(f"delete session {session_id}"):
                self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql in delete_statements("?", "reading_blocks"):
                    deleted = self._db.execute(sql, (session_id,)).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
        return deleted > 0

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        """One block at a time, so that neither memory nor the lock is held for a whole session."""
        seq = from_seq
        while True:
            with self._lock:  # blocks are contiguous: the one holding seq is the last starting at or before it
                row = self._db.execute(
                    "SELECT first_seq, last_seq, t0, data FROM reading_blocks WHERE session_id = ? AND first_seq <= ? "
                    "ORDER BY first_seq DESC LIMIT 1",
                    (session_id, seq),
                ).fetchone()
            if row is None or row[1] < seq:
                return
            first_seq, last_seq, t0, data = row
            for i, item in enumerate(json.loads(data)):
                if first_seq + i >= seq:
                    if len(item) == 2:
                        yield Reading(first_seq + i, t0 + item[0], item[1], False, ())
                    else:
                        yield Reading(first_seq + i, t0 + item[0], item[1], item[2], tuple(item[3]))
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
        with self._lock, self.busy("record a publication"):
            self._db.execute(MARK_SQL, mark_params(session_id, upto_seq, position))

    def position(self, session_id: str) -> QueuePosition | None:
        with self._lock:
            row = self._db.execute(
                "SELECT queue_partition, queue_offset FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        return None if row is None or row[0] is None or row[1] is None else QueuePosition(row[0], row[1])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, where: str, args: tuple[object, ...]) -> Session | None:
        with self._lock:
            row = self._db.execute(f"SELECT {SESSION_COLUMNS} FROM sessions {where}", args).fetchone()
        return None if row is None else session_from_row(row)


class _SqliteWriter:
    """Stages one session in temporary tables of its own connection; ``commit`` copies it in.

    The temporary tables live in the connection's temp database, so staging takes no lock on the
    file. Every way out — commit, abort, an error anywhere — closes the connection, which drops
    them and ends any transaction: nothing a failed ingest did can hold the file.
    """

    def __init__(self, store: SqliteStore, session: Session) -> None:
        self._store = store
        self._id = session.id
        self._db: sqlite3.Connection | None = store.connect()
        try:
            self._db.execute(STAGE_SQL)
            # a value the file cannot take fails begin(), as MySQL's INSERT of the row does
            self._db.execute("SELECT " + ", ".join("?" * len(SESSION_FIELDS)), session_row(session))
        except BaseException:
            self.abort()
            raise

    def add_readings(self, batch: ReadingBatch) -> None:
        if batch:
            assert self._db is not None, "add_readings after commit or abort"
            try:
                self._db.execute(STAGED_BLOCK_SQL, block_row(self._id, batch))
            except BaseException:
                self.abort()
                raise

    def commit(self, session: Session) -> None:
        """One short write transaction; :class:`AlreadyStored` if a racing ingest committed it first."""
        db = self._db
        assert db is not None, "commit after commit or abort"
        try:
            with self._store.busy(f"store session {self._id}"):
                db.execute("BEGIN IMMEDIATE")
            found = db.execute("SELECT id FROM sessions WHERE fingerprint = ?", (session.fingerprint,)).fetchone()
            if found is not None:
                raise AlreadyStored(found[0])
            marks = ", ".join("?" * len(SESSION_FIELDS))
            db.execute(f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({marks})", session_row(session))
            db.execute("INSERT INTO main.reading_blocks SELECT * FROM temp.staged_blocks ORDER BY first_seq")
            db.executemany(
                "INSERT INTO anomalies VALUES (?, ?, ?, ?, ?, ?, ?, ?)", anomaly_rows(self._id, session.anomalies)
            )
            sqlite_write(db, session.summary)  # the insights summary, same transaction
            with self._store.busy(f"store session {self._id}"):
                db.execute("COMMIT")
        finally:
            self.abort()

    def abort(self) -> None:
        """Close the connection: rolls back whatever is open and drops the staged readings. Never raises."""
        db, self._db = self._db, None
        if db is not None:
            with suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            with suppress(sqlite3.Error):
                db.close()
