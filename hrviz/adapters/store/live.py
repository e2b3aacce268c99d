"""Live sessions on the SQL stores: :class:`hrviz.core.ports.LiveStore` for SQLite and MySQL.

A live session is written as it grows, each flush one small transaction (the readings, the
running summary), so it is listed and readable from its first reading on. Which sessions are live
is kept in a table of its own, ``live_sessions`` (created if missing, on both stores; docs/schema.md),
so the sessions table and every reader of it stay as they are.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from contextlib import suppress

import pymysql
from pymysql.connections import Connection

from hrviz.adapters.store.mysql import SESSION_COLUMNS as MYSQL_COLUMNS
from hrviz.adapters.store.mysql import MysqlStore
from hrviz.adapters.store.rows import SUMMARY_FIELDS, anomaly_rows, reading_row, session_row
from hrviz.adapters.store.sqlite import BLOCK_SQL, SESSION_COLUMNS, SqliteStore, block_row
from hrviz.adapters.store.summaries import delete_sql
from hrviz.core.model import Anomaly, ReadingBatch, Session
from hrviz.core.ports import LiveMark

_SQLITE_TABLE = "CREATE TABLE IF NOT EXISTS live_sessions (session_id TEXT PRIMARY KEY, live INTEGER NOT NULL)"
_MYSQL_TABLE = (
    "CREATE TABLE IF NOT EXISTS live_sessions (session_id VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY, "
    "live TINYINT(1) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) "
    "ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"
)
_SQLITE_SUMMARY = ", ".join(f"{f}=?" for f in SUMMARY_FIELDS)
_MYSQL_SUMMARY_COLUMNS = ["file_rows" if f == "rows" else f for f in SUMMARY_FIELDS]
_MYSQL_SUMMARY = ", ".join(f"{c}=%s" for c in _MYSQL_SUMMARY_COLUMNS)
# the session row created or its running summary updated in one statement, which takes the row's
# exclusive lock at once: INSERT IGNORE then UPDATE took a shared lock first and upgraded it, a
# deadlock (1213) with the publisher thread's outbox mark on the same row waiting in between
_MYSQL_UPSERT = (
    f"INSERT INTO sessions ({MYSQL_COLUMNS}) VALUES ({', '.join(['%s'] * (MYSQL_COLUMNS.count(',') + 1))}) "
    "ON DUPLICATE KEY UPDATE " + ", ".join(f"{c}=VALUES({c})" for c in _MYSQL_SUMMARY_COLUMNS)
)


_MYSQL_ANOMALY = (
    "INSERT INTO anomalies (session_id, idx, kind, start_ts, end_ts, bpm, baseline, delta) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
# the anomaly count as the last idx + 1 (idx counts from 0 without hole): one primary-key lookup
# per live session, where COUNT(*) would read every anomaly row of each, 20 times a second. With 500
# live sessions of 40 anomalies: MySQL 2.2 ms a look (1.3 without the count; MAX(idx) 4.6), SQLite 0.4 (0.24)
_LIVE_SQL = (
    "SELECT l.session_id, s.readings, "
    "(SELECT a.idx + 1 FROM anomalies AS a WHERE a.session_id = l.session_id ORDER BY a.idx DESC LIMIT 1) "
    "FROM live_sessions AS l JOIN sessions AS s ON s.id = l.session_id WHERE l.live = 1"
)


def live_ids_of(store: SqliteStore | MysqlStore) -> dict[str, LiveMark]:
    """The live sessions and how many readings and anomalies each has stored, in one query on the
    store's own connection (a server following 500 live sessions asks 20 times a second); empty
    until the table exists."""
    if isinstance(store, SqliteStore):
        with store._lock:
            try:
                rows = store._db.execute(_LIVE_SQL).fetchall()
            except sqlite3.OperationalError:  # no live session was ever written in this file
                return {}
    else:
        try:
            rows = list(store._query(_LIVE_SQL))
        except pymysql.err.ProgrammingError:  # 1146: no such table yet
            return {}
    return {str(r[0]): LiveMark(int(r[1]), int(r[2] or 0)) for r in rows}


class SqliteLive:
    """Live sessions in the embedded store's file (its connection and lock)."""

    def __init__(self, store: SqliteStore) -> None:
        self._db, self._lock, self._busy = store._db, store._lock, store.busy
        with self._lock:
            self._db.execute(_SQLITE_TABLE)

    def append(
        self, session: Session, batch: ReadingBatch, events: Sequence[Anomaly] = (), events_from: int | None = None
    ) -> None:
        row = session_row(session)
        with self._lock, self._busy(f"write live session {session.id}"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    f"INSERT OR IGNORE INTO sessions ({SESSION_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row
                )
                self._db.execute(f"UPDATE sessions SET {_SQLITE_SUMMARY} WHERE id=?", (*row[4:], session.id))
                if batch:
                    self._db.execute(BLOCK_SQL.replace("INSERT", "INSERT OR REPLACE"), block_row(session.id, batch))
                if events_from is not None:
                    self._db.execute("DELETE FROM anomalies WHERE session_id=? AND idx>=?", (session.id, events_from))
                    self._db.executemany(
                        "INSERT INTO anomalies VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        anomaly_rows(session.id, events, events_from),
                    )
                self._db.execute("INSERT OR REPLACE INTO live_sessions VALUES (?, 1)", (session.id,))
                for sql in delete_sql("?"):  # an insights summary of fewer readings is stale now
                    self._db.execute(sql, (session.id,))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already; never mask the error
                    self._db.execute("ROLLBACK")
                raise

    def reopen(self, session_id: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO live_sessions VALUES (?, 1)", (session_id,))

    def finish(self, session: Session) -> None:
        row = session_row(session)
        with self._lock, self._busy(f"write live session {session.id}"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(f"UPDATE sessions SET {_SQLITE_SUMMARY} WHERE id=?", (*row[4:], session.id))
                self._db.execute("DELETE FROM anomalies WHERE session_id=?", (session.id,))
                self._db.executemany(
                    "INSERT INTO anomalies VALUES (?, ?, ?, ?, ?, ?, ?, ?)", anomaly_rows(session.id, session.anomalies)
                )
                self._db.execute("UPDATE live_sessions SET live=0 WHERE session_id=?", (session.id,))
                for sql in delete_sql("?"):
                    self._db.execute(sql, (session.id,))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already; never mask the error
                    self._db.execute("ROLLBACK")
                raise

    def live_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT session_id FROM live_sessions WHERE live=1")}


class MysqlLive:
    """Live sessions on MySQL: one connection of its own, one transaction per flush."""

    def __init__(self, store: MysqlStore) -> None:
        self._store = store
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        with self._transaction() as cur:
            cur.execute(_MYSQL_TABLE)

    def _transaction(self) -> _Txn:
        return _Txn(self)

    def append(
        self, session: Session, batch: ReadingBatch, events: Sequence[Anomaly] = (), events_from: int | None = None
    ) -> None:
        row = session_row(session)
        with self._transaction() as cur:
            cur.execute(_MYSQL_UPSERT, row)
            if batch:
                cur.executemany(  # a retried append whose first commit did go through: the same rows again
                    "INSERT INTO readings (session_id, seq, ts, bpm, filled, kinds) VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON DUPLICATE KEY UPDATE seq = seq",
                    [reading_row(session.id, r) for r in batch.rows()],
                )
            if events_from is not None:
                cur.execute("DELETE FROM anomalies WHERE session_id=%s AND idx>=%s", (session.id, events_from))
                if events:
                    cur.executemany(_MYSQL_ANOMALY, anomaly_rows(session.id, events, events_from))
            cur.execute(
                "INSERT INTO live_sessions (session_id, live) VALUES (%s, 1) ON DUPLICATE KEY UPDATE live=1",
                (session.id,),
            )
            for sql in delete_sql("%s"):  # an insights summary of fewer readings is stale now
                cur.execute(sql, (session.id,))

    def reopen(self, session_id: str) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO live_sessions (session_id, live) VALUES (%s, 1) ON DUPLICATE KEY UPDATE live=1",
                (session_id,),
            )

    def finish(self, session: Session) -> None:
        row = session_row(session)
        with self._transaction() as cur:
            cur.execute(f"UPDATE sessions SET {_MYSQL_SUMMARY} WHERE id=%s", (*row[4:], session.id))
            cur.execute("DELETE FROM anomalies WHERE session_id=%s", (session.id,))
            rows = anomaly_rows(session.id, session.anomalies)
            if rows:
                cur.executemany(_MYSQL_ANOMALY, rows)
            cur.execute("UPDATE live_sessions SET live=0 WHERE session_id=%s", (session.id,))
            for sql in delete_sql("%s"):
                cur.execute(sql, (session.id,))

    def live_ids(self) -> set[str]:
        with self._transaction() as cur:
            cur.execute("SELECT session_id FROM live_sessions WHERE live=1")
            return {str(r[0]) for r in cur.fetchall()}


class _Txn:
    """One transaction on the live connection; a lost connection is dropped (the next one reconnects)
    and reported as one BackendUnavailable sentence."""

    def __init__(self, live: MysqlLive) -> None:
        self._live = live

    def __enter__(self) -> pymysql.cursors.Cursor:
        live = self._live
        live._lock.acquire()
        try:
            if live._conn is None or not live._conn.open:
                live._conn = live._store.connect(autocommit=False)
            self._cur = live._conn.cursor()
        except BaseException:
            live._lock.release()
            raise
        return self._cur

    def __exit__(self, kind: object, err: BaseException | None, tb: object) -> None:
        live = self._live
        conn = live._conn
        try:
            self._cur.close()
            if err is None and conn is not None:
                try:
                    conn.commit()
                except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as lost:
                    self._drop()
                    raise live._store._error(lost, "closed the connection of a live session") from lost
                return
            with suppress(Exception):
                if conn is not None:
                    conn.rollback()
            if isinstance(err, pymysql.err.OperationalError | pymysql.err.InterfaceError):
                self._drop()
                raise live._store._error(err, "closed the connection of a live session") from err
        finally:
            live._lock.release()

    def _drop(self) -> None:
        if self._live._conn is not None:
            self._live._store.release(self._live._conn)
        self._live._conn = None


__all__ = ["SqliteLive", "MysqlLive", "live_ids_of"]
