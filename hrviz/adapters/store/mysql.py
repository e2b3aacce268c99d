"""The MySQL/MariaDB store (``--mysql URL``), with the same semantics as the SQLite one.

* A session is written in one InnoDB transaction on a connection of its own: readers (other
  connections, autocommit) never see it half-written, and a killed client or server leaves nothing
  behind (the server rolls back), so a re-ingest just works.
* Readings go in with ``LOAD DATA LOCAL INFILE`` (about 5x PyMySQL's ``executemany``, see
  docs/schema.md); servers without LOCAL INFILE get multi-row INSERTs.
* Readers use one autocommit connection per thread (``serve`` calls from several threads); one
  the server dropped (idle timeout, restart) is reopened and the read retried once.
* An unreachable server is one :class:`BackendUnavailable` sentence, within a few seconds.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import pymysql
from pymysql.connections import Connection

from hrviz.adapters.store import mysql_schema as schema
from hrviz.adapters.store.mysql_listing import SESSION_COLUMNS, MysqlListing
from hrviz.adapters.store.mysql_schema import CANT_CONNECT, LOST, NO_LOCAL_INFILE, PAGE_SQL, migrate, parse_url
from hrviz.adapters.store.rows import (
    SUMMARY_FIELDS,
    anomaly_from_row,
    anomaly_rows,
    mark_params,
    mark_published_sql,
    next_seq_after,
    outbox_from_row,
    reading_row,
    readings_from_text,
    session_from_row,
    session_row,
    tsv_lines,
)
from hrviz.adapters.store.summaries_mixins import MysqlSummaries, mysql_write
from hrviz.core.errors import AlreadyStored, BackendUnavailable
from hrviz.core.model import Reading, ReadingBatch, Session
from hrviz.core.ports import Outbox, QueuePosition

_SUMMARY_SET = ", ".join(f"{('file_rows' if f == 'rows' else f)} = %s" for f in SUMMARY_FIELDS)
MARK_SQL = mark_published_sql("%s", "GREATEST")
PAGE = 10_000  # readings per keyset page: bounded memory, few round trips
LOAD_ROWS = 50_000  # readings per LOAD DATA statement (~2 MB): fewer, larger statements
CONNECT_TIMEOUT = 5  # seconds: an unreachable server is reported quickly
IO_TIMEOUT = 120  # seconds a single statement may take (a big COMMIT) before we call the server gone


class MysqlStore(MysqlListing, MysqlSummaries):
    """:class:`hrviz.core.ports.SessionStore` on MySQL or MariaDB (InnoDB), via PyMySQL."""

    def __init__(self, url: str) -> None:
        self._args = parse_url(url)
        self.where = f"{self._args['host']}:{self._args['port']}"
        self.database = str(self._args["database"])
        self._local = threading.local()
        self._all: list[Connection] = []  # every connection opened, closed by close()
        self._all_lock = threading.Lock()
        self.load_data = True  # LOAD DATA LOCAL INFILE until the server refuses it
        conn = self._reader()
        try:
            migrate(conn)
        except pymysql.err.OperationalError as err:
            raise self._error(err, "could not create or migrate the hrviz tables") from err
        with suppress(pymysql.err.MySQLError):  # a server without LOCAL INFILE gets multi-row INSERTs
            self.load_data = bool(self._query("SELECT @@GLOBAL.local_infile")[0][0])

    def connect(self, autocommit: bool) -> Connection:
        """A new connection; BackendUnavailable (one sentence) if the server cannot be reached."""
        try:
            conn = pymysql.connect(
                **self._args,
                charset="utf8mb4",
                autocommit=autocommit,
                local_infile=True,
                connect_timeout=CONNECT_TIMEOUT,
                init_command=f"SET SESSION group_concat_max_len = {PAGE * 256}",
                read_timeout=IO_TIMEOUT,
                write_timeout=IO_TIMEOUT,
            )
        except pymysql.err.OperationalError as err:
            raise self._error(err, "is unreachable") from err
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _reader(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or not conn.open:
            conn = self._local.conn = self.connect(autocommit=True)
        return conn

    def _error(self, err: Exception, what: str) -> BackendUnavailable:
        return schema.server_error(err, what, self.where, str(self._args["user"]), self.database)

    def release(self, conn: Connection) -> None:
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        with suppress(Exception):  # already dead: nothing to release
            conn.close()

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on this thread's connection; reconnect and retry once if it was lost."""
        for attempt in (1, 2):
            conn = self._reader()
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, args)
                    return list(cur.fetchall())
            except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as err:
                code = err.args[0] if err.args else 0
                if code not in LOST:
                    raise
                self._local.conn = None
                self.release(conn)
                if attempt == 2:
                    raise self._error(err, "closed the connection twice in a row") from err
        raise AssertionError("unreachable")  # pragma: no cover

    def find(self, fingerprint: str) -> Session | None:
        rows = self._query(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE fingerprint = %s", (fingerprint,))
        return session_from_row(rows[0]) if rows else None

    def begin(self, session: Session) -> MysqlWriter:
        return MysqlWriter(self, session)

    def get(self, session_id: str) -> Session | None:
        rows = self._query(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = %s", (session_id,))
        if not rows:
            return None
        session = session_from_row(rows[0])
        anomalies = self._query(
            "SELECT kind, start_ts, end_ts, bpm, baseline, delta FROM anomalies WHERE session_id = %s ORDER BY idx",
            (session_id,),
        )
        session.anomalies = [anomaly_from_row(r) for r in anomalies]
        return session

    def list_sessions(self, limit: int = 100) -> list[Session]:
        rows = self._query(
            f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY created_at DESC, id LIMIT %s", (int(limit),)
        )
        return [session_from_row(r) for r in rows]

    def readings(self, session_id: str, from_seq: int = 0) -> Iterator[Reading]:
        """Keyset pages, so memory stays bounded and the connection is free between pages.

        Each page comes back as ONE text value (``GROUP_CONCAT``) split in Python: PyMySQL decodes
        every column of every row in pure Python, which made this the slowest step of publishing
        a large session (about 4x slower). The server prints doubles in their shortest
        round-trip form, so values come back exactly (the contract tests compare them). After a
        full first page, a thread with its own connection fetches the next pages ahead (at most
        two), so the server's work overlaps the caller's (encoding and producing to Kafka).
        """
        kinds_of: dict[str, tuple[str, ...]] = {"": ()}
        ((count, text),) = self._query(PAGE_SQL, (session_id, from_seq, PAGE))
        yield from readings_from_text(session_id, count, text, kinds_of)
        if count < PAGE:
            return
        pages: queue.Queue[tuple[int, str] | BaseException] = queue.Queue(maxsize=2)
        stop = threading.Event()
        fetcher = threading.Thread(
            target=self._prefetch,
            args=(session_id, next_seq_after(text), pages, stop),
            name="hrviz-mysql-pages",
            daemon=True,
        )
        fetcher.start()
        try:
            while True:
                item = pages.get()
                if isinstance(item, BaseException):
                    raise item
                count, text = item
                yield from readings_from_text(session_id, count, text, kinds_of)
                if count < PAGE:
                    return
        finally:
            stop.set()
            with suppress(queue.Empty):
                while True:
                    pages.get_nowait()  # unblock a fetcher waiting to put

    def _prefetch(
        self, session_id: str, seq: int, pages: queue.Queue[tuple[int, str] | BaseException], stop: threading.Event
    ) -> None:
        conn: Connection | None = None
        try:
            conn = self.connect(autocommit=True)
            while not stop.is_set():
                with conn.cursor() as cur:
                    cur.execute(PAGE_SQL, (session_id, seq, PAGE))
                    count, text = cur.fetchone()  # type: ignore[misc]
                while not stop.is_set():
                    try:
                        pages.put((count, text or ""), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if count < PAGE:
                    return
                seq = next_seq_after(text)
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as err:
            pages.put(self._error(err, f"closed the connection while reading session {session_id}"))
        except BaseException as err:  # noqa: BLE001 — handed to the reading thread
            pages.put(err)
        finally:
            if conn is not None:
                self.release(conn)

    def unpublished(self) -> list[Outbox]:
        rows = self._query(
            "SELECT id, published_upto, readings, queue_partition, queue_offset FROM sessions "
            "WHERE published_upto < readings - 1 ORDER BY created_at, id"
        )
        return [outbox_from_row(r) for r in rows]

    def mark_published(self, session_id: str, upto_seq: int, position: QueuePosition | None) -> None:
        self._query(MARK_SQL, mark_params(session_id, upto_seq, position))  # idempotent: safe to retry

    def position(self, session_id: str) -> QueuePosition | None:
        """Where the session's first record is in the queue (for replay), once publishing began."""
        rows = self._query("SELECT queue_partition, queue_offset FROM sessions WHERE id = %s", (session_id,))
        part, off = rows[0] if rows else (None, None)
        return None if part is None or off is None else QueuePosition(int(part), int(off))

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            self.release(conn)
        self._local = threading.local()


class MysqlWriter:
    """One session's open transaction, on a connection of its own (readers never see it).

    Batches are loaded (50,000 rows per statement) by a background thread while the caller
    computes the next ones, so the server's insert work overlaps the detector's. At most two
    statements wait (bounded memory); the first error is raised by ``add_readings`` or ``commit``.
    """

    def __init__(self, store: MysqlStore, session: Session) -> None:
        self._store = store
        self._id, self._fingerprint = session.id, session.fingerprint
        self._conn = store.connect(autocommit=False)
        self._file: str | None = None
        self._jobs: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._loader: threading.Thread | None = None
        self._pending: list[bytes] = []  # formatted batches (TSV) not yet handed to the loader
        self._pending_rows = 0
        with self._guard(abort=True), self._conn.cursor() as cur:
            marks = ", ".join(["%s"] * (SESSION_COLUMNS.count(",") + 1))
            cur.execute(f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({marks})", session_row(session))

    def add_readings(self, batch: ReadingBatch) -> None:
        if not batch:
            return
        with self._guard(abort=False):
            self._raise_loader_error()
            if not self._store.load_data:
                return self._insert(batch)
            self._pending.append(tsv_lines(batch))
            self._pending_rows += len(batch)
            if self._pending_rows >= LOAD_ROWS:
                self._dispatch()

    def _dispatch(self) -> None:
        """Hand the accumulated batches to the loader thread as one LOAD DATA statement."""
        if not self._pending_rows:
            return
        if self._loader is None:
            self._loader = threading.Thread(target=self._load_jobs, name="hrviz-mysql-load", daemon=True)
            self._loader.start()
        self._jobs.put((b"".join(self._pending), self._pending_rows))
        self._pending, self._pending_rows = [], 0

    def _insert(self, batch: ReadingBatch) -> None:
        """The fallback for servers without LOCAL INFILE: multi-row INSERTs (PyMySQL rewrites them)."""
        with self._conn.cursor() as cur:
            sid = self._id
            cur.executemany(
                "INSERT INTO readings (session_id, seq, ts, bpm, filled, kinds) VALUES (%s, %s, %s, %s, %s, %s)",
                [reading_row(sid, r) for r in batch.rows()],
            )

    def _load_jobs(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:
                try:
                    self._load(*job)
                except AttributeError as err:  # PyMySQL wrote to the socket it dropped: the server went away
                    self._error = pymysql.err.OperationalError(2013, f"Lost connection during LOAD DATA ({err})")
                except BaseException as err:  # noqa: BLE001 — handed to the caller's thread
                    self._error = err

    def _raise_loader_error(self) -> None:
        if (err := self._error) is None:
            return
        if isinstance(err, pymysql.err.MySQLError) and err.args and err.args[0] in NO_LOCAL_INFILE:
            raise BackendUnavailable(
                f"the MySQL server at {self._store.where} refuses LOAD DATA LOCAL INFILE; "
                "enable local_infile on the server (SET GLOBAL local_infile = 1) and ingest again"
            ) from err
        raise err

    def _finish_loading(self) -> None:
        self._dispatch()
        if self._loader is not None:
            self._jobs.put(None)
            self._loader.join()
            self._loader = None
        self._raise_loader_error()

    def _load(self, data: bytes, count: int) -> None:
        if self._file is None:
            shm = "/dev/shm"
            where = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
            fd, self._file = tempfile.mkstemp(prefix="hrviz-", suffix=".tsv", dir=where)
            os.close(fd)
        with open(self._file, "wb") as f:
            f.write(data)
        with self._conn.cursor() as cur:
            loaded = cur.execute(
                "LOAD DATA LOCAL INFILE %s INTO TABLE readings CHARACTER SET ascii "
                "FIELDS TERMINATED BY '\\t' ESCAPED BY '' LINES TERMINATED BY '\\n' "
                "(seq, ts, bpm, filled, kinds) SET session_id = %s",
                (self._file, self._id),
            )
        if loaded != count:  # LOCAL turns duplicate keys and bad values into warnings: refuse them
            raise BackendUnavailable(f"MySQL loaded {loaded} of {count} readings of session {self._id}")

    def commit(self, session: Session) -> None:
        with self._guard(abort=True):
            self._finish_loading()
            with self._conn.cursor() as cur:
                cur.execute(f"UPDATE sessions SET {_SUMMARY_SET} WHERE id = %s", (*session_row(session)[4:], self._id))
                rows = anomaly_rows(self._id, session.anomalies)
                if rows:
                    cur.executemany(
                        "INSERT INTO anomalies (session_id, idx, kind, start_ts, end_ts, bpm, baseline, delta) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        rows,
                    )
                mysql_write(cur, session.summary)  # the insights summary, same transaction
            self._conn.commit()
        self._cleanup()

    def abort(self) -> None:
        """Roll back; never raises, because it runs while another error is being reported."""
        if self._loader is not None:  # let the batch in flight end (the connection is its) and stop
            self._error = self._error or RuntimeError("aborted")
            with suppress(Exception):
                self._jobs.put(None, timeout=IO_TIMEOUT)
            self._loader.join(IO_TIMEOUT)
            self._loader = None
        with suppress(Exception):  # a dead connection: the server rolls back on its own
            self._conn.rollback()
        self._cleanup()

    def _cleanup(self) -> None:
        self._store.release(self._conn)
        if self._file is not None:
            with suppress(OSError):
                os.unlink(self._file)
            self._file = None

    @contextmanager
    def _guard(self, abort: bool) -> Iterator[None]:
        """A lost connection becomes one BackendUnavailable sentence; ``abort`` rolls back first."""
        try:
            yield
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError, pymysql.err.IntegrityError) as err:
            if abort:
                self.abort()
            code = err.args[0] if err.args else 0
            if code == schema.DUPLICATE_KEY and (found := self._store.find(self._fingerprint)) is not None:
                raise AlreadyStored(found.id) from err  # a racing ingest of the same file committed first
            if code in LOST or code in CANT_CONNECT or code == schema.LOCK_WAIT_TIMEOUT:
                what = f"closed the connection while session {self._id} was being written (nothing of it was kept)"
                raise self._store._error(err, what) from err
            raise
        except BaseException:
            if abort:
                self.abort()
            raise
