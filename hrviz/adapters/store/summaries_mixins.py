"""SqliteStore's and MysqlStore's :class:`hrviz.core.insights.stored.SummaryStore` (mixins: both
store modules are near the 400-line limit). The SQL is in :mod:`hrviz.adapters.store.summaries`."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import pymysql
from pymysql.cursors import Cursor

from hrviz.adapters.store.mysql_listing import MysqlNeeds
from hrviz.adapters.store.summaries import (
    bin_params,
    days_from_rows,
    delete_sql,
    insert_sql,
    summary_params,
    trends_sql,
    unsummarised_sql,
    zone_params,
)
from hrviz.core.insights.stored import Day
from hrviz.core.model import StoredSummary

if TYPE_CHECKING:  # the MySQL store imports this module too, and needs no sqlite3
    import sqlite3

_SQLITE_INSERT, _SQLITE_BINS = insert_sql("?")
_MYSQL_INSERT, _MYSQL_BINS = insert_sql("%s")


def sqlite_write(db: sqlite3.Connection, row: StoredSummary | None) -> None:
    """Inside the caller's transaction: replace the session's summary and bins (None: nothing)."""
    if row is None:
        return
    for sql in delete_sql("?"):
        db.execute(sql, (row.session_id,))
    db.execute(_SQLITE_INSERT, summary_params(row))
    db.executemany(_SQLITE_BINS, bin_params(row))


def mysql_write(cur: Cursor, row: StoredSummary | None) -> None:
    if row is None:
        return
    for sql in delete_sql("%s"):
        cur.execute(sql, (row.session_id,))
    cur.execute(_MYSQL_INSERT, summary_params(row))
    bins = bin_params(row)
    if bins:
        cur.executemany(_MYSQL_BINS, bins)


class SqliteSummaries:
    """Needs the store's ``_db`` and ``_lock``."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def summary(self, session_id: str) -> str | None:
        with self._lock:
            sql = "SELECT summary FROM session_summaries WHERE session_id = ?"
            row = self._db.execute(sql, (session_id,)).fetchone()
        return None if row is None else str(row[0])

    def busy(self, doing: str) -> AbstractContextManager[None]:
        raise NotImplementedError  # the store's: "database is busy" as one sentence

    def save_summary(self, row: StoredSummary) -> None:
        with self._lock, self.busy(f"save the summary of session {row.session_id}"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._db.execute("SELECT 1 FROM sessions WHERE id = ?", (row.session_id,)).fetchone():
                    sqlite_write(self._db, row)  # a session deleted meanwhile gets no orphan summary
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def unsummarised(self, limit: int = 1000) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute(unsummarised_sql("?"), (limit,))]

    def trends(self, edges: tuple[float, ...], since_day: str | None = None) -> list[Day]:
        days_sql, zones_sql = trends_sql("?", since_day is not None)
        tail = [] if since_day is None else [since_day]
        with self._lock:
            days = self._db.execute(days_sql, tail).fetchall()
            zones = self._db.execute(zones_sql, [*zone_params(edges), *tail]).fetchall()
        return days_from_rows(days, zones)


class MysqlSummaries(MysqlNeeds):
    """Stored summaries and trends on MySQL; needs :class:`MysqlNeeds`."""

    def summary(self, session_id: str) -> str | None:
        rows = self._query("SELECT summary FROM session_summaries WHERE session_id = %s", (session_id,))
        return None if not rows else str(rows[0][0])

    def save_summary(self, row: StoredSummary) -> None:
        conn = self.connect(autocommit=False)
        try:
            with conn.cursor() as cur:
                if cur.execute("SELECT 1 FROM sessions WHERE id = %s FOR UPDATE", (row.session_id,)):
                    mysql_write(cur, row)
            conn.commit()
        except pymysql.err.MySQLError as err:
            conn.rollback()
            raise self._error(err, "could not store the session's summary") from err
        finally:
            self.release(conn)

    def unsummarised(self, limit: int = 1000) -> list[str]:
        return [str(r[0]) for r in self._query(unsummarised_sql("%s"), (limit,))]

    def trends(self, edges: tuple[float, ...], since_day: str | None = None) -> list[Day]:
        days_sql, zones_sql = trends_sql("%s", since_day is not None)
        tail = [] if since_day is None else [since_day]
        return days_from_rows(self._query(days_sql, tail), self._query(zones_sql, [*zone_params(edges), *tail]))
