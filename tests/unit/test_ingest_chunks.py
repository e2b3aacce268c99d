"""ingest_chunks (the path of a file read in another process, chunk by chunk) stores exactly what ingest stores."""

from __future__ import annotations

import hashlib
import io
from array import array

from hrviz.core.ingest import IngestOptions, file_digest, ingest, ingest_chunks
from hrviz.core.reader import read_series
from hrviz.core.series import Series
from tests.unit.fakes import MemoryStore

ROWS = [f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+02:00,{70 + i % 3}" for i in range(200) if i not in range(50, 55)]
ROWS[100] = ROWS[100].rsplit(",", 1)[0] + ",120"  # a spike
CSV = ("time,bpm\n" + "\n".join(ROWS) + "\n2026-01-01T00:03:00+02:00,71\n").encode()  # and a duplicate time


def test_chunks_store_what_the_whole_file_stores() -> None:
    options = IngestOptions()
    whole_store, chunk_store = MemoryStore(), MemoryStore()
    (whole,) = ingest(io.BytesIO(CSV), "a.csv", whole_store, options)
    (series,) = read_series(io.BytesIO(CSV), "a.csv")
    totals = Series(None, rows=series.rows, duplicates=series.duplicates, tz_offset_min=series.tz_offset_min)
    chunks = iter([(series.ts[i : i + 40], series.bpm[i : i + 40]) for i in range(0, len(series), 40)])
    digest = file_digest(hashlib.sha256(CSV), options)
    chunked = ingest_chunks(chunks, lambda: totals, "a.csv", digest, chunk_store, options, series.tz_offset_min)
    assert chunked.as_dict() == whole.as_dict()
    assert (chunked.id, chunked.rows, chunked.duplicates, chunked.tz_offset_min) == (whole.id, 196, 1, 120)
    assert [str(a.kind) for a in chunked.anomalies] == ["missing", "spike"]
    assert list(chunk_store.readings(chunked.id)) == list(whole_store.readings(whole.id))
    assert isinstance(series.ts, array)
