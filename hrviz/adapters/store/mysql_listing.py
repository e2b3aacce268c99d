"""MysqlStore's listing and delete (a mixin: mysql.py is at the 400-line limit of a module)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymysql
from pymysql.connections import Connection

from hrviz.adapters.store.listing import browse_sql, check, delete_statements, like, listed_from_row
from hrviz.adapters.store.rows import SESSION_FIELDS
from hrviz.core.errors import BackendUnavailable
from hrviz.core.ports import Listing

SESSION_COLUMNS = ", ".join(("file_rows" if f == "rows" else f) for f in SESSION_FIELDS)  # "rows" is reserved


class MysqlNeeds:
    """What the MySQL store's mixins (listing, summaries) call on the store itself; :class:`MysqlStore`
    provides each. Declared once here so the mixins type-check alone."""

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def connect(self, autocommit: bool) -> Connection:
        raise NotImplementedError

    def release(self, conn: Connection) -> None:
        raise NotImplementedError

    def _error(self, err: Exception, what: str) -> BackendUnavailable:
        raise NotImplementedError


class MysqlListing(MysqlNeeds):
    """Listing, browsing and deleting sessions; needs :class:`MysqlNeeds`."""

    def browse(self, offset: int = 0, limit: int = 20, query: str = "", order: str = "uploaded") -> Listing:
        offset, limit = check(offset, limit, order)
        page, count = browse_sql(SESSION_COLUMNS, "%s", "UNIX_TIMESTAMP(created_at)", order)
        pattern = like(query)
        rows = self._query(page, (pattern, pattern, limit, offset))
        ((total,),) = self._query(count, (pattern, pattern))
        return Listing([listed_from_row(r) for r in rows], int(total))

    def delete(self, session_id: str) -> bool:
        """One transaction on a connection of its own, so a failure leaves nothing half-deleted."""
        conn = self.connect(autocommit=False)
        try:
            with conn.cursor() as cur:
                for sql in delete_statements("%s", "readings"):
                    deleted = cur.execute(sql, (session_id,))
            conn.commit()
            return bool(deleted)
        except pymysql.err.MySQLError as err:
            conn.rollback()
            raise self._error(err, "could not delete the session") from err
        finally:
            self.release(conn)
