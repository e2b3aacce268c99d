"""The reader half of a two-process ingest, run as ``python -m hrviz.adapters.ingest.reader_worker``.

A fresh interpreter that imports the reader and nothing else (about 15 MB, where a fork of the
CLI would carry its 30): it parses PATH and writes frames to stdout — one byte of kind, eight of
length, then the payload: ``C`` a chunk (ts then bpm, raw doubles), ``P`` progress (bytes read),
``L`` the file's UTC offset (JSON, before any chunk: the queue encodes records in it while ingest
stores them), ``D`` done (JSON rows, duplicates, tz offset, skipped rows and their first lines), ``E`` an input
error (JSON source, message, line), ``W`` "read it whole" (several subjects, or a row going back
in time: such files are sorted by one reader holding them whole).
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from pathlib import Path
from typing import BinaryIO

from hrviz.core.errors import InputError
from hrviz.core.reader import Unstreamable, read_series

CHUNK, PROGRESS, DONE, ERROR, WHOLE, LAYOUT = b"C", b"P", b"D", b"E", b"W", b"L"
HEADER = struct.Struct("<cQ")


def frame(out: BinaryIO, kind: bytes, payload: bytes = b"") -> None:
    out.write(HEADER.pack(kind, len(payload)))
    out.write(payload)
    out.flush()


def run(path: Path, interval: float, chunk_rows: int, out: BinaryIO) -> None:
    def send(ts: array, bpm: array) -> None:
        frame(out, CHUNK, ts.tobytes() + bpm.tobytes())

    def progress(done: int) -> None:
        frame(out, PROGRESS, struct.pack("<q", done))

    def layout(tz_offset_min: int | None) -> None:
        frame(out, LAYOUT, json.dumps(tz_offset_min).encode())

    try:
        with path.open("rb") as stream:
            series = read_series(
                stream,
                str(path),
                interval=interval,
                on_chunk=send,
                on_progress=progress,
                chunk_rows=chunk_rows,
                on_layout=layout,
            )
    except Unstreamable:
        frame(out, WHOLE)
        return
    except InputError as err:
        frame(out, ERROR, json.dumps([err.source, err.message, err.line]).encode())
        return
    if len(series) != 1 or series[0].subject is not None:
        frame(out, WHOLE)
        return
    (tail,) = series
    if len(tail):
        send(tail.ts, tail.bpm)
    counts = [tail.rows, tail.duplicates, tail.tz_offset_min, tail.skipped, list(tail.skipped_lines), tail.ignored]
    frame(out, DONE, json.dumps(counts).encode())


if __name__ == "__main__":
    run(Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.stdout.buffer)
