"""Where a session's records sit in the queue, looked up in the store (state never in memory).

Any ``serve`` process must be able to replay any session, so the position is read from the store,
where ``mark_published`` recorded it. The ``SessionStore`` port has no reader for it yet: a store
with a ``position(session_id)`` method is asked directly; otherwise this reads the column both
stores keep (``sessions.queue_partition`` / ``queue_offset``). Remove the fallback once the port
grows ``position()``.
"""

from __future__ import annotations

from typing import Any

from hrviz.core.ports import QueuePosition, SessionStore

SQL = "SELECT queue_partition, queue_offset FROM sessions WHERE id = {mark}"


def queue_position(store: SessionStore, session_id: str) -> QueuePosition | None:
    lookup = getattr(store, "position", None)
    if callable(lookup):
        found: QueuePosition | None = lookup(session_id)
        return found
    row = _row(store, session_id)
    if row is None or row[0] is None or row[1] is None:
        return None
    return QueuePosition(int(row[0]), int(row[1]))


def _row(store: Any, session_id: str) -> tuple[Any, ...] | None:
    query = getattr(store, "_query", None)
    if callable(query):  # MysqlStore: its per-thread connection, with reconnect
        rows = query(SQL.format(mark="%s"), (session_id,))
        return tuple(rows[0]) if rows else None
    db, lock = getattr(store, "_db", None), getattr(store, "_lock", None)
    if db is not None and lock is not None:  # SqliteStore
        with lock:
            row = db.execute(SQL.format(mark="?"), (session_id,)).fetchone()
        return None if row is None else tuple(row)
    return None
