"""Ingest on two processes (a forked reader streaming chunks) must store exactly what one process stores."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest

from hrviz.adapters.ingest import reader_process
from hrviz.adapters.ingest.reader_process import ingest_file
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.errors import InputError
from hrviz.core.ingest import IngestOptions
from hrviz.core.reader import Unstreamable, read_series


def recording(rows: int, seed: int = 3) -> str:
    """1 Hz with wobble, spikes, blanks, holes and a gap: every path of the detector gets used."""
    rng = random.Random(seed)
    lines, t, bpm = ["timestamp,bpm"], 1_700_000_000, 70.0
    for _ in range(rows):
        t += 1 if rng.random() > 0.002 else rng.choice([3, 7, 200])
        bpm = min(180.0, max(45.0, bpm + rng.uniform(-1.5, 1.5)))
        value = f"{bpm:.0f}"
        if rng.random() < 0.002:
            value = f"{bpm + 45:.0f}"
        elif rng.random() < 0.002:
            value = ""
        lines.append(f"{t},{value}")
    return "\n".join(lines) + "\n"


def both_ways(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expect_fallback: bool, chunk_rows: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    one = SqliteStore(tmp_path / "one.db")
    two = SqliteStore(tmp_path / "two.db")
    sequential = ingest_file(path, one, IngestOptions(), parallel=False)
    calls: list[str] = []
    one_process = reader_process.ingest

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("one process")
        return one_process(*args, **kwargs)

    monkeypatch.setattr(reader_process, "ingest", spy)
    streamed = ingest_file(path, two, IngestOptions(), stream_from_bytes=0, chunk_rows=chunk_rows)
    assert calls == (["one process"] if expect_fallback else [])
    result = [s.as_dict() for s in sequential], [s.as_dict() for s in streamed]
    for store, sessions in ((one, sequential), (two, streamed)):
        for s in sessions:
            assert len(list(store.readings(s.id))) == s.readings
    one.close()
    two.close()
    return result


def test_streamed_chunks_store_the_same_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.csv"
    path.write_text(recording(90_000))
    sequential, streamed = both_ways(path, tmp_path, monkeypatch, False, chunk_rows=7_000)
    assert streamed == sequential
    anomalies = streamed[0]["anomalies"]
    assert isinstance(anomalies, list)
    kinds = {a["kind"] for a in anomalies}
    assert {"spike", "missing", "gap"} <= kinds


def test_rows_out_of_order_after_a_chunk_fall_back_to_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = recording(30_000).splitlines()
    lines.append(lines[20_000])  # a row from the past, after chunks were handed out
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n")
    sequential, streamed = both_ways(path, tmp_path, monkeypatch, True, chunk_rows=5_000)
    assert streamed == sequential and streamed[0]["duplicates"] == 1


def test_several_subjects_are_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "user,time,bpm\n" + "".join(f"{u},{1_700_000_000 + i},{60 + i % 5}\n" for u in "ab" for i in range(3_000))
    )
    sequential, streamed = both_ways(path, tmp_path, monkeypatch, True, chunk_rows=500)
    assert streamed == sequential and [s["subject"] for s in streamed] == ["a", "b"]


def test_bad_input_found_late_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(recording(20_000) + "".join(f"garbage-{i},70\n" for i in range(2_000)))
    store = SqliteStore(tmp_path / "s.db")
    with pytest.raises(InputError, match="cannot read the time 'garbage-0'"):
        ingest_file(path, store, IngestOptions(), stream_from_bytes=0, chunk_rows=1_000)
    assert store.list_sessions() == []
    store.close()


def test_reingest_reports_the_stored_session_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "again.csv"
    path.write_text(recording(20_000))
    store = SqliteStore(tmp_path / "s.db")
    (first,) = ingest_file(path, store, IngestOptions(), stream_from_bytes=0, chunk_rows=4_000)
    (again,) = ingest_file(path, store, IngestOptions(), stream_from_bytes=0, chunk_rows=4_000)
    assert again.existing and again.id == first.id and len(store.list_sessions()) == 1
    store.close()


def test_reader_chunks_plus_tail_are_the_whole_file() -> None:
    text = recording(25_000).encode()
    (whole,) = read_series(io.BytesIO(text), "x.csv")
    chunks: list[float] = []
    (tail,) = read_series(io.BytesIO(text), "x.csv", on_chunk=lambda ts, bpm: chunks.extend(ts), chunk_rows=3_000)
    assert chunks + list(tail.ts) == list(whole.ts) and (tail.rows, tail.duplicates) == (whole.rows, whole.duplicates)
    multi = b"user,time,bpm\na,1,70\nb,1,71\n"
    with pytest.raises(Unstreamable):
        read_series(io.BytesIO(multi), "m.csv", on_chunk=lambda ts, bpm: None)


def test_a_skipped_stray_row_is_reported_the_same_on_two_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = recording(30_000).splitlines()
    lines[25_001] = "1700000000000," + lines[25_001].split(",")[1]  # milliseconds, after chunks went out
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(lines) + "\n")
    sequential, streamed = both_ways(path, tmp_path, monkeypatch, False, chunk_rows=5_000)
    assert streamed == sequential
    assert (streamed[0]["skipped_rows"], streamed[0]["skipped_lines"]) == (1, [25_002])
