"""LiveIngest's session, flush by flush: when a flush is due, what each flush stores (counts, offset,
bad rows), which input is the same live session again, and what a restart and the end store."""

from __future__ import annotations

import io
import math

import pytest

from hrviz.core.detector import DetectorConfig
from hrviz.core.ingest import ingest
from hrviz.core.live import FLUSH_READINGS, FLUSH_SECONDS, LiveIngest, LiveOptions, live_fingerprint
from hrviz.core.model import Session
from tests.unit.fakes import MemoryLive, MemoryStore

T0 = 1_714_557_600  # 2024-05-01T10:00:00Z


def line(s: int, bpm: object, zone: str = "Z") -> str:
    return f"2024-05-01T10:{s // 60:02d}:{s % 60:02d}{zone},{bpm}\n"


def started(key: str = "k", source: str = "-", options: LiveOptions | None = None) -> tuple[LiveIngest, MemoryLive]:
    live_store = MemoryLive(MemoryStore())
    return LiveIngest(live_store.store, live_store, key, source, options), live_store


def test_flush_limits_are_a_second_and_5000_readings() -> None:
    assert (FLUSH_SECONDS, FLUSH_READINGS) == (1.0, 5000)


@pytest.mark.parametrize(
    ("arrived", "now", "due"),
    [
        (10.0, 10.0, False),
        (10.0, 10.999, False),
        (10.0, 11.0, True),  # a second after the oldest pending reading arrived
        (10.0, 25.0, True),
    ],
)
def test_a_flush_is_due_a_second_after_the_oldest_pending_reading(arrived: float, now: float, due: bool) -> None:
    live, _ = started()
    assert not live.due(0.0)  # nothing pending: never due
    live.line("time,bpm\n", 0.0)
    live.line(line(0, 70), arrived)
    live.line(line(1, 71), arrived + 0.5)  # a later reading does not restart the second
    assert live.due(now) is due


def test_a_full_batch_is_due_at_once() -> None:
    live, _ = started()
    live.line("time,bpm\n", 0.0)
    for s in range(FLUSH_READINGS - 1):
        live.line(f"{T0 + s},70\n", 5.0)
    assert live.pending == 4999 and not live.due(5.0)
    live.line(f"{T0 + 4999},70\n", 5.0)
    assert live.pending == 5000 and live.due(5.0)


def test_readings_pending_at_the_end_are_due_whenever_asked() -> None:
    live, _ = started()
    live.line("time,bpm\n", 0.0)
    live.line(line(0, 70), 0.0)
    live.line(line(1, 71), 0.0)
    live._take(live.detector.finish(), None)  # the end: readings taken without a clock
    live2, _ = started("k2")
    live2.line("time,bpm\n", 0.0)
    assert live2.pending == 0 and not live2.due(100.0)


def test_each_flush_stores_the_running_counts_and_bad_rows() -> None:
    live, live_store = started("k", "strap\x1b.csv")
    live.line("time,bpm\n", 0.0)
    live.line(line(0, 70, "+02:00"), 0.0)
    live.line(line(0, 75, "+02:00"), 0.0)  # a duplicate time
    live.line("garbage\n", 0.0)  # a bad row, line 4
    live.line(line(1, "", "+02:00"), 0.0)  # a sample without a value: filled
    live.line(line(2, 72, "+02:00"), 0.0)
    assert live.flush() == 3 and live.flush() == 0  # nothing pending: nothing stored
    s = live_store.store.sessions[live.session.id]
    assert (s.source, s.readings, s.filled) == ("strap\\x1b.csv", 3, 1)
    assert (s.rows, s.duplicates, s.skipped, s.skipped_lines) == (4, 1, 1, [4])  # rows: before de-duplication
    assert (s.start, s.end, s.tz_offset_min) == (T0 - 7200, T0 - 7200 + 2, 120)
    assert (s.stats.count, s.stats.min, s.stats.max) == (2, 70.0, 72.0)
    live.line(line(3, 74, "+02:00"), 0.0)
    assert live.flush() == 1
    s = live_store.store.sessions[live.session.id]
    assert (s.readings, s.filled, s.rows, s.start, s.end) == (4, 1, 5, T0 - 7200, T0 - 7200 + 3)
    assert live_store.appends == [3, 1]


def test_only_the_first_ten_bad_rows_are_named() -> None:
    live, live_store = started()
    live.line("time,bpm\n", 0.0)
    live.line(line(0, 70), 0.0)
    for _ in range(12):
        live.line("garbage\n", 0.0)  # lines 3 to 14
    live.line(line(1, 71), 0.0)
    live.flush()
    s = live_store.store.sessions[live.session.id]
    assert (s.skipped, s.skipped_lines) == (12, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12])


@pytest.mark.parametrize(
    "other",
    [
        LiveOptions(interval=2.0),
        LiveOptions(subject="bob"),
        LiveOptions(detector=DetectorConfig(delta=60)),
    ],
)
def test_an_input_is_the_same_live_session_only_with_the_same_settings(other: LiveOptions) -> None:
    same = live_fingerprint("file:/a.csv", LiveOptions())
    assert same == live_fingerprint("file:/a.csv", LiveOptions()) and len(same) == 64
    assert live_fingerprint("file:/b.csv", LiveOptions()) != same
    assert live_fingerprint("file:/a.csv", other) != same


def test_a_subject_is_kept_printable_and_a_session_without_readings_is_never_created() -> None:
    live, live_store = started(options=LiveOptions(subject="b\nob"))
    assert (live.session.subject, live.resumed) == ("b\\nob", False)
    s = live.finish()
    assert (s.readings, live_store.store.sessions, live_store.live) == (0, {}, set())


def test_a_restart_counts_rows_on_from_the_stored_session() -> None:
    live, live_store = started("file:/a.csv", "a.csv")
    live.line("time,bpm\n", 0.0)
    for s in range(4):
        live.line(line(s, 70 + s), 0.0)
    live.line(line(3, 99), 0.0)  # a duplicate
    live.flush()
    again = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    assert again.resumed and again.session.id == live.session.id
    assert live_store.live == {live.session.id}
    again.line("time,bpm\n", 0.0)
    for s in range(6):  # the file read again from the start: lines up to the last stored time are passed over
        again.line(line(s, 70 + s), 0.0)
    done = again.finish()
    assert (done.readings, done.rows, done.duplicates, done.start, done.end) == (6, 7, 1, T0, T0 + 5)
    assert math.isclose(done.stats.total, sum(70 + s for s in range(6)))
    assert live_store.live == set()


def test_rows_and_duplicates_count_as_a_file_ingest_counts_them() -> None:
    """Rows are counted before de-duplication, live as in a file (the live reader left duplicates out)."""
    lines = ["time,bpm\n", line(0, 70), line(1, 71), line(1, 90), line(2, 72), line(2, 91), line(3, 73)]
    live, _ = started()
    for text in lines:
        live.line(text, 0.0)
    s = live.finish()
    (whole,) = ingest(io.BytesIO("".join(lines).encode()), "a.csv", MemoryStore())
    assert (s.rows, s.duplicates, s.readings) == (whole.rows, whole.duplicates, whole.readings) == (6, 2, 4)


def fed(live: LiveIngest, lines: list[str]) -> Session:
    for text in lines:
        live.line(text, 0.0)
    return live.finish()


def test_the_settings_reach_the_reader_and_the_detector() -> None:
    untimed = ["bpm\n", "70\n", "71\n", "72\n"]
    s = fed(started(options=LiveOptions(interval=5.0))[0], untimed)  # lines without times, 5 s apart
    assert (s.start, s.end, s.readings) == (0.0, 10.0, 3)
    two = ["time,user,bpm\n", "2024-05-01T10:00:00Z,ann,70\n", "2024-05-01T10:00:00Z,bob,80\n"]
    two.append("2024-05-01T10:00:01Z,bob,81\n")
    bob = fed(started(options=LiveOptions(subject="bob"))[0], two)
    assert (bob.subject, bob.readings, bob.stats.min, bob.stats.max) == ("bob", 2, 80.0, 81.0)
    spiky = ["time,bpm\n"] + [line(s, 130 if s == 10 else 70 + s % 3) for s in range(20)]
    assert [str(a.kind) for a in fed(started()[0], spiky).anomalies] == ["spike"]
    calm = fed(started(options=LiveOptions(detector=DetectorConfig(delta=80)))[0], spiky)
    assert calm.anomalies == []


def test_a_live_input_every_5_s_is_filled_on_its_own_grid_from_the_start() -> None:
    times = [0, 5, 10, 25] + [25 + 5 * i for i in range(1, 40)]  # a 15 s hole before the rhythm is learnt
    s = fed(started(options=LiveOptions(interval=5.0))[0], ["time,bpm\n"] + [line(t, 70 + t % 3) for t in times])
    assert (s.readings, s.filled) == (45, 2)
    assert [(str(a.kind), a.start - T0, a.end - T0) for a in s.anomalies] == [("missing", 15.0, 20.0)]
    assert s.cadence == {
        "median_s": 5,
        "segments": [
            {
                "start": "2024-05-01T10:00:00Z",
                "end": "2024-05-01T10:03:40Z",
                "every_s": 5,
                "usual_max_s": 5,
                "notes": [],
            }
        ],
    }


def test_two_inputs_are_two_sessions_each_named_by_its_fingerprint() -> None:
    live_store = MemoryLive(MemoryStore())
    a = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    fed(a, ["time,bpm\n", line(0, 70)])
    b = LiveIngest(live_store.store, live_store, "file:/b.csv", "b.csv")
    assert not b.resumed
    fed(b, ["time,bpm\n", line(0, 70)])
    assert sorted(live_store.store.sessions) == sorted([a.session.id, b.session.id])
    for s in (a.session, b.session):
        assert len(s.id) == 12 and s.id == s.fingerprint[:12]


def test_a_restart_that_reads_nothing_new_still_ends_the_session() -> None:
    live, live_store = started("file:/a.csv", "a.csv")
    lines = ["time,bpm\n", line(0, 70), line(1, 71)]
    fed(live, lines)
    again = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    assert live_store.live == {live.session.id}  # reopened
    done = fed(again, lines)  # the same lines: all passed over
    assert (done.readings, live_store.live) == (2, set())


def test_a_restart_keeps_the_offset_the_session_started_with() -> None:
    live, live_store = started("file:/a.csv", "a.csv")
    fed(live, ["time,bpm\n", line(0, 70, "+02:00"), line(1, 71, "+02:00")])
    again = LiveIngest(live_store.store, live_store, "file:/a.csv", "a.csv")
    done = fed(again, ["time,bpm\n", line(0, 72, "+01:00")])  # an hour later in UTC, written at +01:00
    assert (done.readings, done.tz_offset_min) == (3, 120)
    assert live_store.store.sessions[done.id].tz_offset_min == 120
