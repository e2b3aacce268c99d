"""The live path: CSV lines one at a time (core/reader/lines) and the live session use case (core/live)."""

from __future__ import annotations

import io
import math

import pytest

from hrviz.core.errors import InputError
from hrviz.core.ingest import ingest, publish_pending
from hrviz.core.live import FLUSH_SECONDS, LiveIngest
from hrviz.core.reader.lines import BadRow, LineReader
from tests.unit.fakes import MemoryLive, MemoryStore, RecordingQueue

VALUES = [70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 115, 118, 72, 70, "", "", 71, 70, 69, 70, 70, 70, 71, 69, 150, 70]
LINES = ["timestamp,bpm\n"] + [f"2024-05-01T10:00:{i:02d}Z,{v}\n" for i, v in enumerate(VALUES)]


def test_a_header_alone_waits_then_each_line_is_a_sample() -> None:
    reader = LineReader("-")
    assert reader.line("timestamp,bpm\n") == []
    assert reader.layout is None
    assert reader.line("2024-05-01T10:00:00Z,70\n") == [(1714557600.0, 70.0)]
    assert reader.line("2024-05-01T10:00:01Z,71") == [(1714557601.0, 71.0)]  # no line break yet: still a line
    assert reader.tz_offset_min == 0


def test_a_bad_line_is_reported_with_its_number_and_the_input_goes_on() -> None:
    reader = LineReader("-")
    reader.line("timestamp,bpm\n")
    reader.line("2024-05-01T10:00:00Z,70\n")
    (bad,) = reader.line("half a li\n")
    assert isinstance(bad, BadRow) and bad.line == 3 and "cannot read the time" in bad.why
    (back,) = reader.line("2024-05-01T09:00:00Z,70\n")
    assert isinstance(back, BadRow) and back.line == 4 and "back in time" in back.why
    (mixed,) = reader.line("2024-05-01T10:00:05,70\n")
    assert isinstance(mixed, BadRow) and "UTC offset" in mixed.why
    assert reader.line("2024-05-01T10:00:00Z,71\n") == []  # a duplicate time: counted, like a file's
    assert reader.duplicates == 1
    (blank,) = reader.line("2024-05-01T10:00:01Z,x\n")  # no usable value: a sample without one (filled later)
    assert isinstance(blank, tuple) and math.isnan(blank[1])
    assert reader.rows == 3  # rows before de-duplication, as a file's: the duplicate is one


def test_a_repeated_header_is_skipped_and_resumed_lines_are_passed_over() -> None:
    reader = LineReader("f.csv")
    reader.after = 1714557601.0
    out = [reader.line(line) for line in LINES[:4]]
    assert out == [[], [], [], [(1714557602.0, 70.0)]]
    assert reader.line("timestamp,bpm\n") == []  # the file was replaced by one with the same header


def test_several_subjects_need_subject() -> None:
    reader = LineReader("-")
    reader.line("time,user,bpm\n")
    with pytest.raises(InputError, match="--subject"):
        reader.line("2024-05-01T10:00:00Z,ann,70\n")
    chosen = LineReader("-", subject="bob")
    chosen.line("time,user,bpm\n")
    assert chosen.line("2024-05-01T10:00:00Z,ann,70\n") == []
    assert chosen.line("2024-05-01T10:00:01Z,bob,71\n") == [(1714557601.0, 71.0)]


def _rows(store: MemoryStore, sid: str) -> list[tuple[object, ...]]:
    return [(r.seq, r.ts, r.bpm if not math.isnan(r.bpm) else None, r.filled, r.kinds) for r in store.readings(sid)]


def test_a_live_session_stores_what_a_file_ingest_stores() -> None:
    store, live_store = MemoryStore(), MemoryLive(MemoryStore())
    live = LiveIngest(live_store.store, live_store, "k", "-")
    for i, line in enumerate(LINES):
        live.line(line, float(i))
        if live.due(float(i) + FLUSH_SECONDS):
            live.flush()
    session = live.finish()
    (batch,) = ingest(io.BytesIO("".join(LINES).encode()), "a.csv", store)
    assert _rows(live_store.store, session.id) == _rows(store, batch.id)
    assert session.anomalies == batch.anomalies and session.anomalies
    assert session.stats == batch.stats
    assert (session.readings, session.filled, session.rows) == (batch.readings, batch.filled, batch.rows)
    assert live_store.live == set()
    assert len(live_store.appends) > 5 and all(n <= 3 for n in live_store.appends)  # small transactions


def test_nothing_is_stored_before_it_is_due() -> None:
    live_store = MemoryLive(MemoryStore())
    live = LiveIngest(live_store.store, live_store, "k", "-")
    live.line(LINES[0], 0.0)
    live.line(LINES[1], 10.0)
    assert live.pending == 1 and not live.due(10.5) and live.due(11.0)
    assert live.flush() == 1
    assert live_store.live == {live.session.id}  # created, and flagged live, at its first reading
    assert live_store.store.sessions[live.session.id].readings == 1


@pytest.mark.parametrize("cut", [3, 12, 13, 16, 26])
def test_a_restart_continues_the_session_without_duplicate_or_hole(cut: int) -> None:
    """The first run stores up to ``cut`` lines and dies with one more read but not flushed; the
    second run reads the whole file again (tail -F from the start) and continues."""
    whole_store = MemoryLive(MemoryStore())
    whole = LiveIngest(whole_store.store, whole_store, "file:/a.csv", "a.csv")
    for line in LINES:
        whole.line(line, 0.0)
    whole.flush()
    expected = whole.finish()

    live_store = MemoryLive(MemoryStore())
    first = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    for line in LINES[:cut]:
        first.line(line, 0.0)
    first.flush()
    first.line(LINES[cut], 0.0)  # read, never stored: the crash loses it, the restart reads it again
    second = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    assert second.resumed and second.session.id == first.session.id
    for line in LINES:
        second.line(line, 0.0)
    session = second.finish()
    assert _rows(live_store.store, session.id) == _rows(whole_store.store, expected.id)
    assert session.anomalies == expected.anomalies
    assert session.stats == expected.stats
    assert second.bad == []


def test_a_finished_session_reopens_live_on_restart() -> None:
    live_store = MemoryLive(MemoryStore())
    first = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    for line in LINES[:5]:
        first.line(line, 0.0)
    first.finish()
    assert live_store.live == set()
    again = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    assert live_store.live == {again.session.id}


def test_a_live_session_is_published_from_the_outbox_as_it_grows() -> None:
    store = MemoryStore()
    live_store, queue = MemoryLive(store), RecordingQueue()
    live = LiveIngest(store, live_store, "k", "-")
    for line in LINES[:6]:
        live.line(line, 0.0)
    live.flush()
    publish_pending(store, queue)
    assert queue.records == [(live.session.id, i) for i in range(5)]
    for line in LINES[6:10]:
        live.line(line, 0.0)
    live.flush()
    publish_pending(store, queue)
    assert queue.records == [(live.session.id, i) for i in range(9)]  # each once, in order


def test_a_store_that_fails_keeps_the_readings_for_the_next_flush() -> None:
    store = MemoryStore()
    live_store = MemoryLive(store, fail=True)
    live = LiveIngest(store, live_store, "k", "-")
    for line in LINES[:4]:
        live.line(line, 0.0)
    with pytest.raises(ConnectionError):
        live.flush()
    live_store.fail = False
    assert live.flush() == 3
    assert [r.seq for r in store.readings(live.session.id)] == [0, 1, 2]


def test_the_anomalies_found_so_far_are_stored_with_each_flush() -> None:
    """A viewer opening a live session mid-way sees what was found so far, not only after finish."""
    store = MemoryStore()
    live_store = MemoryLive(store)
    live = LiveIngest(store, live_store, "k", "-")
    seen_live: list[list[str]] = []
    for line in LINES:
        live.line(line, 0.0)
        if not live.flush():
            continue  # the header
        held = store.sessions[live.session.id].anomalies
        assert held == live.anomalies  # each flush stores the events found since the last one
        seen_live.append([str(a.kind) for a in held])
    assert "spike" in seen_live[-1] and live_store.live == {live.session.id}  # found while live
    assert seen_live[0] == []  # none before there was one
    final = live.finish()
    assert store.sessions[final.id].anomalies == final.anomalies  # finish stores the final list (sorted)


def test_a_flush_the_store_refused_stores_its_anomalies_on_the_retry() -> None:
    store = MemoryStore()
    live_store = MemoryLive(store)
    live = LiveIngest(store, live_store, "k", "-")
    for line in LINES[:12]:
        live.line(line, 0.0)
    live.flush()
    assert store.sessions[live.session.id].anomalies == []
    for line in LINES[12:16]:  # the 115, 118 excursion comes back: an event
        live.line(line, 0.0)
    assert live.anomalies
    live_store.fail = True
    with pytest.raises(ConnectionError):
        live.flush()
    live_store.fail = False
    live.flush()
    assert store.sessions[live.session.id].anomalies == live.anomalies


def test_a_restart_replaces_the_last_runs_anomalies_at_its_first_flush() -> None:
    """The first run's finish closed a flat run still going as a flatline; restarted, the detector
    rebuilds its events from the stored readings (the run is open again: no event yet), and the
    first flush replaces the stored list with that, not a stale flatline that later grows."""
    varied = [70, 72, 69, 71, 70, 73, 68, 71, 70, 72] * 2
    lines = ["timestamp,bpm\n"] + [f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z,{v}\n" for i, v in enumerate(varied)]
    lines += [f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z,75\n" for i in range(20, 100)]  # stuck for 80 s
    live_store = MemoryLive(MemoryStore())
    first = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    for line in lines:
        first.line(line, 0.0)
    done = first.finish()
    assert [str(a.kind) for a in done.anomalies] == ["flatline"]  # closed by finish
    lines.append("2024-05-01T10:01:40Z,75\n")  # the recorder went on
    second = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    assert second.resumed and second.anomalies == []  # the flat run is open again
    for line in lines:
        second.line(line, 0.0)
    assert second.flush() == 1
    assert live_store.store.sessions[second.session.id].anomalies == []
