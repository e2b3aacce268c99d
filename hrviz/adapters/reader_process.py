"""Reading a big file in a second process while this one detects and stores: ingest on two cores.

Parsing (about 1.3 s per million rows) and detection plus storage (about the same) are both
CPU-bound Python, so a thread would not help; a forked child parses and streams the (ts, bpm)
columns back through a pipe as raw doubles, chunk by chunk, and the core's
:func:`hrviz.core.ingest.ingest_chunks` consumes them as they come. The result is the same session
as a single-process ingest (a test holds them equal). Files that cannot be streamed — several
subjects, rows out of time order — are read the ordinary way instead.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import struct
from array import array
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from hrviz.core.errors import InputError
from hrviz.core.ingest import IngestOptions, existing, file_digest, fingerprint, ingest, ingest_chunks
from hrviz.core.model import Session
from hrviz.core.ports import SessionStore
from hrviz.core.reader import Unstreamable, read_series

STREAM_FROM_BYTES = 8_000_000  # below this, a second process costs more than it saves
_CHUNK, _DONE, _ERROR, _WHOLE, _PROGRESS = b"C", b"D", b"E", b"W", b"P"


def ingest_file(
    path: Path,
    store: SessionStore,
    options: IngestOptions,
    on_progress: Callable[[int], None] | None = None,
    parallel: bool = True,
    stream_from_bytes: int = STREAM_FROM_BYTES,
    chunk_rows: int = 65_536,
) -> list[Session]:
    """Ingest one file, on two processes when it is big enough to gain from it."""
    source = str(path)
    small = path.stat().st_size < stream_from_bytes
    if not parallel or options.subject is not None or small or not _can_fork():
        with path.open("rb") as stream:
            return ingest(stream, source, store, options, on_progress)
    content = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            content.update(block)
    digest = file_digest(content, options)
    found = existing(store, fingerprint(digest, None))
    if found is not None:
        return [found]
    child = _Child(path, options, chunk_rows)
    try:
        first = child.next_message()
        if first[0] in (_WHOLE, None):  # several subjects or out of order: read it the ordinary way
            child.close()
            with path.open("rb") as stream:
                return ingest(stream, source, store, options, on_progress)
        child.push_back(first)
        session = ingest_chunks(child.chunks(on_progress), child.totals, source, digest, store, options)
        return [session]
    except _Fallback:
        with path.open("rb") as stream:
            return ingest(stream, source, store, options, on_progress)
    finally:
        child.close()


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class _Fallback(Exception):
    """The child found the file unstreamable after chunks were already stored: start again."""


class _Child:
    """The parsing process and our end of its pipe."""

    def __init__(self, path: Path, options: IngestOptions, chunk_rows: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, child_end = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_parse, args=(child_end, path, options, chunk_rows), daemon=True)
        self._process.start()
        child_end.close()
        self._pushed: tuple[bytes | None, bytes] | None = None
        self._totals: tuple[int, int, int | None] | None = None

    def next_message(self) -> tuple[bytes | None, bytes]:
        if self._pushed is not None:
            message, self._pushed = self._pushed, None
            return message
        try:
            data = self._conn.recv_bytes()
        except EOFError:
            return (None, b"")  # the child died: let the caller read the file itself
        return data[:1], data[1:]

    def push_back(self, message: tuple[bytes | None, bytes]) -> None:
        self._pushed = message

    def chunks(self, on_progress: Callable[[int], None] | None) -> Iterator[tuple[array, array]]:
        while True:
            kind, body = self.next_message()
            if kind == _CHUNK:
                half = len(body) // 2
                ts, bpm = array("d"), array("d")
                ts.frombytes(body[:half])
                bpm.frombytes(body[half:])
                yield ts, bpm
            elif kind == _PROGRESS:
                if on_progress is not None:
                    on_progress(struct.unpack("<q", body)[0])
            elif kind == _DONE:
                rows, duplicates, tz = json.loads(body)
                self._totals = (rows, duplicates, tz)
                return
            elif kind == _ERROR:
                source, message, line = json.loads(body)
                raise InputError(source, message, line)
            else:  # out of order after chunks, or the child died
                raise _Fallback()

    def totals(self) -> tuple[int, int, int | None]:
        assert self._totals is not None, "totals() before the last chunk"
        return self._totals

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._conn.close()


def _parse(conn: Connection, path: Path, options: IngestOptions, chunk_rows: int) -> None:
    """The child: parse, send chunks, then the totals; never returns into the parent's code."""
    try:

        def send(ts: array, bpm: array) -> None:
            conn.send_bytes(_CHUNK + ts.tobytes() + bpm.tobytes())

        def progress(done: int) -> None:
            conn.send_bytes(_PROGRESS + struct.pack("<q", done))

        with path.open("rb") as stream:
            try:
                series = read_series(
                    stream, str(path), interval=options.interval, on_chunk=send, on_progress=progress,
                    chunk_rows=chunk_rows,
                )  # fmt: skip
            except Unstreamable:
                conn.send_bytes(_WHOLE)
                return
        if len(series) != 1 or series[0].subject is not None:
            conn.send_bytes(_WHOLE)
            return
        (tail,) = series
        if len(tail):
            send(tail.ts, tail.bpm)  # type: ignore[arg-type]  # Series columns are array('d')
        conn.send_bytes(_DONE + json.dumps([tail.rows, tail.duplicates, tail.tz_offset_min]).encode())
    except InputError as err:
        conn.send_bytes(_ERROR + json.dumps([err.source, err.message, err.line]).encode())
    except BaseException:  # noqa: BLE001 — the parent falls back to reading the file itself
        pass
    finally:
        conn.close()
        os._exit(0)  # skip the parent's atexit handlers and open connections: they are not ours
