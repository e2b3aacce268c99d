"""The MySQL/MariaDB schema as an ordered list of migrations, applied by hrviz itself on connect;
also the connection URL and the SQL/error codes the store shares with it.

``schema_version`` records every migration applied; a new release appends to :data:`MIGRATIONS`
and never edits an applied one. A named lock serialises concurrent first starts. Table and column
meanings, for analysts: docs/schema.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pymysql.connections import Connection

from hrviz.adapters.store.summaries import MYSQL_DDL
from hrviz.core.errors import BackendUnavailable, SettingsError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions, readings and anomalies",
        (
            """CREATE TABLE IF NOT EXISTS sessions (
                id VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
                fingerprint CHAR(64) CHARACTER SET ascii NOT NULL,
                source VARCHAR(1024) NOT NULL,
                subject VARCHAR(255) NULL,
                file_rows INT NOT NULL,
                readings INT NOT NULL,
                filled INT NOT NULL,
                duplicates INT NOT NULL,
                start_ts DOUBLE NULL,
                end_ts DOUBLE NULL,
                tz_offset_min INT NULL,
                stat_count INT NOT NULL,
                stat_min DOUBLE NULL,
                stat_mean DOUBLE NULL,
                stat_max DOUBLE NULL,
                created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
                published_upto INT NOT NULL DEFAULT -1,
                queue_partition INT NULL,
                queue_offset BIGINT NULL,
                UNIQUE KEY sessions_fingerprint (fingerprint),
                KEY sessions_created (created_at)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
            """CREATE TABLE IF NOT EXISTS readings (
                session_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
                seq INT NOT NULL,
                ts DOUBLE NOT NULL,
                bpm DOUBLE NOT NULL,
                filled TINYINT(1) NOT NULL,
                kinds VARCHAR(128) CHARACTER SET ascii NOT NULL DEFAULT '',
                PRIMARY KEY (session_id, seq)
            ) ENGINE=InnoDB""",
            """CREATE TABLE IF NOT EXISTS anomalies (
                session_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
                idx INT NOT NULL,
                kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
                start_ts DOUBLE NOT NULL,
                end_ts DOUBLE NOT NULL,
                bpm DOUBLE NULL,
                baseline DOUBLE NULL,
                delta DOUBLE NULL,
                PRIMARY KEY (session_id, idx),
                KEY anomalies_kind (kind)
            ) ENGINE=InnoDB""",
        ),
    ),
)
MIGRATIONS += (
    Migration(2, "insights summaries: session_summaries, session_bpm_seconds (back-filled on first use)", MYSQL_DDL),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INT NOT NULL PRIMARY KEY,
    description VARCHAR(255) NOT NULL,
    applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB"""


class SchemaTooNew(BackendUnavailable):
    """The database was migrated by a newer hrviz: refuse rather than misread it."""


def migrate(conn: Connection, lock_timeout: int = 30) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; returns how many migrations were applied.

    DDL commits implicitly in MySQL, so each migration's statements are idempotent
    (``IF NOT EXISTS``) and its version row is written only after them: a crash mid-way is
    re-run safely on the next start.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(CONCAT('hrviz.schema.', DATABASE()), %s)", (lock_timeout,))
        (got,) = cur.fetchone() or (0,)
        if got != 1:
            raise BackendUnavailable("another hrviz process has held the schema lock for 30 s")
        try:
            cur.execute(_VERSION_TABLE)
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            row = cur.fetchone()
            current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"the database has schema version {current}, newer than this hrviz knows ({SCHEMA_VERSION}); "
                    "upgrade hrviz"
                )
            applied = 0
            for m in MIGRATIONS:
                if m.version <= current:
                    continue
                for statement in m.statements:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_version (version, description) VALUES (%s, %s)", (m.version, m.description)
                )
                conn.commit()
                applied += 1
            return applied
        finally:
            cur.execute("SELECT RELEASE_LOCK(CONCAT('hrviz.schema.', DATABASE()))")


# client error codes that mean "the connection is gone": reconnect (reads) or give up (a transaction)
LOST = {2006, 2013, 2055, 0}
CANT_CONNECT = {2002, 2003, 2005}
NO_LOCAL_INFILE = {1148, 2068, 3948, 4166}
DUPLICATE_KEY, LOCK_WAIT_TIMEOUT = 1062, 1205  # what a racing ingest of the same file gets


def server_error(err: Exception, what: str, where: str, user: str, database: str) -> BackendUnavailable:
    """A server's error as one sentence; ``what`` says what happened unless the code says better."""
    code = err.args[0] if err.args else None
    if code == 1045:
        what = f"refused the login of user {user!r} (wrong password?)"
    elif code in (1044, 1049):
        what = f"refused access to database {database!r} for user {user!r}"
    elif code in CANT_CONNECT:
        what = "is unreachable (connection refused or timed out)"
    elif code == LOCK_WAIT_TIMEOUT:  # InnoDB's lock wait timeout: the other ingest holds the session's row
        return BackendUnavailable(f"database is busy: another hrviz is writing the same session to {where}; try again")
    return BackendUnavailable(f"MySQL server at {where} {what}: {err.args[1] if len(err.args) > 1 else err}")


def parse_url(url: str) -> dict[str, Any]:
    """``mysql://user:pass@host:3306/db`` → PyMySQL connect() arguments (password URL-decoded)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mysql+pymysql", "mariadb"):
        raise SettingsError(f"not a MySQL URL (mysql://user:pass@host:3306/db): {url}")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise SettingsError("the MySQL URL names no database (mysql://user:pass@host:3306/db)")
    args: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": database,
    }
    query = parse_qs(parts.query)
    if "unix_socket" in query:
        args["unix_socket"] = query["unix_socket"][0]
    return args


PAGE_SQL = (
    "SELECT COUNT(*), GROUP_CONCAT(seq, ',', ts, ',', bpm, ',', filled, ',', kinds ORDER BY seq SEPARATOR '\\n') "
    "FROM (SELECT seq, ts, bpm, filled, kinds FROM readings WHERE session_id = %s AND seq >= %s "
    "ORDER BY seq LIMIT %s) page"
)
