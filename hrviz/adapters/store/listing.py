"""Listing and deleting sessions, the same SQL for SQLite and MySQL (only the placeholder, the
upload time's expression and the readings table differ).

Why a module of its own: a page of 20 out of thousands, filtered by name and sorted, is one
indexed query plus a count; the page never holds the whole list. Deleting is the user's right
over their health data: the session, its readings and its events go in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from hrviz.adapters.store import summaries
from hrviz.adapters.store.rows import session_from_row
from hrviz.core.ports import ORDERS, Listed

ORDER_BY = {
    "uploaded": "created_at DESC, id",
    "start": "start_ts DESC, id",
    "name": "source, subject, id",
    "readings": "readings DESC, id",
    "anomalies": "n_anomalies DESC, id",
}
MAX_LIMIT = 100


def check(offset: int, limit: int, order: str) -> tuple[int, int]:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    return max(0, int(offset)), min(MAX_LIMIT, max(1, int(limit)))


def like(query: str) -> str:
    """``query`` as a LIKE pattern matched anywhere, its own % and _ taken literally."""
    return "%" + query.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def browse_sql(columns: str, mark: str, created: str, order: str) -> tuple[str, str]:
    """The page query and the count query; parameters: like, like[, limit, offset]."""
    where = f"(source LIKE {mark} ESCAPE '!' OR subject LIKE {mark} ESCAPE '!')"
    page = (
        f"SELECT {columns}, {created} AS uploaded_at, "
        "(SELECT COUNT(*) FROM anomalies a WHERE a.session_id = sessions.id) AS n_anomalies "
        f"FROM sessions WHERE {where} ORDER BY {ORDER_BY[order]} LIMIT {mark} OFFSET {mark}"
    )
    return page, f"SELECT COUNT(*) FROM sessions WHERE {where}"


def listed_from_row(row: Sequence[object]) -> Listed:
    *summary, uploaded_at, n = row
    when = None if uploaded_at is None else float(uploaded_at)  # type: ignore[arg-type]
    return Listed(session_from_row(summary), when, int(n))  # type: ignore[call-overload]


def delete_statements(mark: str, readings_table: str) -> list[str]:
    """Children first, the session last (no foreign keys are declared in either schema)."""
    return [
        *summaries.delete_sql(mark),
        f"DELETE FROM {readings_table} WHERE session_id = {mark}",
        f"DELETE FROM anomalies WHERE session_id = {mark}",
        f"DELETE FROM sessions WHERE id = {mark}",
    ]
