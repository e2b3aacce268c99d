"""Reading a big file in a second process while this one detects and stores: ingest on two cores.

Parsing (about 1.3 s per million rows) and detection plus storage (about the same) are both
CPU-bound Python, so a thread would not help; a lean child interpreter
(:mod:`hrviz.adapters.ingest.reader_worker`) parses and streams the (ts, bpm) columns back through a pipe
as raw doubles, chunk by chunk, and the core's :func:`hrviz.core.ingest.ingest_chunks` consumes
them as they come. The result is the same session as a single-process ingest (a test holds them
equal). Files that cannot be streamed — several subjects, rows out of time order — are read the
ordinary way instead, as they are if the child cannot be started or dies.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import hrviz
from hrviz.adapters.ingest.reader_worker import CHUNK, DONE, ERROR, HEADER, LAYOUT, PROGRESS, WHOLE
from hrviz.core.errors import InputError
from hrviz.core.ingest import IngestOptions, existing, file_digest, fingerprint, ingest, ingest_chunks
from hrviz.core.model import Session
from hrviz.core.ports import SessionStore
from hrviz.core.reader.formats import CSV, PEEK, kind_of
from hrviz.core.series import Series

STREAM_FROM_BYTES = 8_000_000  # below this, a second process costs more than it saves


def ingest_file(
    path: Path,
    store: SessionStore,
    options: IngestOptions,
    on_progress: Callable[[int], None] | None = None,
    parallel: bool = True,
    stream_from_bytes: int = STREAM_FROM_BYTES,
    chunk_rows: int = 16_384,
    source: str | None = None,
) -> list[Session]:
    """Ingest one file, on two processes when it is big enough to gain from it.

    ``source`` names the sessions (the path by default; serve passes the uploaded file's name)."""
    source = str(path) if source is None else source
    small = path.stat().st_size < stream_from_bytes
    with path.open("rb") as peek:
        kind = kind_of(peek.read(PEEK))  # FIT, XML, JSON and gzip files are read whole, in this process
    windowed = options.since is not None or options.until is not None
    if not parallel or options.subject is not None or small or windowed or kind != CSV:
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
        while first[0] == PROGRESS:  # the layout (its UTC offset) comes before the first chunk
            if on_progress is not None:
                on_progress(struct.unpack("<q", first[1])[0])
            first = child.next_message()
        if first[0] in (WHOLE, None):  # several subjects or out of order: read it the ordinary way
            child.close()
            with path.open("rb") as stream:
                return ingest(stream, source, store, options, on_progress)
        child.push_back(first)
        chunks = child.chunks(on_progress)
        session = ingest_chunks(chunks, child.totals, source, digest, store, options, child.tz_offset_min)
        return [session]
    except _Fallback:
        with path.open("rb") as stream:
            return ingest(stream, source, store, options, on_progress)
    finally:
        child.close()


class _Fallback(Exception):
    """The child found the file unstreamable after chunks were already stored: start again."""


class _Child:
    """The parsing process and our end of its pipe."""

    def __init__(self, path: Path, options: IngestOptions, chunk_rows: int) -> None:
        package_root = str(Path(hrviz.__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        command = [
            sys.executable,
            "-m",
            "hrviz.adapters.ingest.reader_worker",
            str(path),
            repr(options.interval),
            str(chunk_rows),
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        self._pipe = self._process.stdout
        self._pushed: tuple[bytes | None, bytes] | None = None
        self._totals: Series | None = None
        self.tz_offset_min: int | None = None  # as the child told it (LAYOUT), before its first chunk

    def next_message(self) -> tuple[bytes | None, bytes]:
        if self._pushed is not None:
            message, self._pushed = self._pushed, None
            return message
        assert self._pipe is not None
        while True:
            header = self._pipe.read(HEADER.size)
            if len(header) < HEADER.size:
                return (None, b"")  # the child died: let the caller read the file itself
            kind, size = HEADER.unpack(header)
            body = self._pipe.read(size)
            if len(body) != size:
                return (None, b"")
            if kind != LAYOUT:
                return (kind, body)
            self.tz_offset_min = json.loads(body)

    def push_back(self, message: tuple[bytes | None, bytes]) -> None:
        self._pushed = message

    def chunks(self, on_progress: Callable[[int], None] | None) -> Iterator[tuple[array, array]]:
        while True:
            kind, body = self.next_message()
            if kind == CHUNK:
                half, view = len(body) // 2, memoryview(body)  # copied once, into the arrays
                ts, bpm = array("d"), array("d")
                ts.frombytes(view[:half])
                bpm.frombytes(view[half:])
                yield ts, bpm
            elif kind == PROGRESS:
                if on_progress is not None:
                    on_progress(struct.unpack("<q", body)[0])
            elif kind == DONE:
                rows, duplicates, tz, skipped, lines, ignored = json.loads(body)
                self._totals = Series(
                    None,
                    rows=rows,
                    duplicates=duplicates,
                    tz_offset_min=tz,
                    skipped=skipped,
                    skipped_lines=tuple(lines),
                    ignored=ignored,
                )
                return
            elif kind == ERROR:
                source, message, line = json.loads(body)
                raise InputError(source, message, line)
            else:  # out of order after chunks, or the child died
                raise _Fallback()

    def totals(self) -> Series:
        assert self._totals is not None, "totals() before the last chunk"
        return self._totals

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._pipe is not None:
            self._pipe.close()
