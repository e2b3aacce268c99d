"""What ingest reads of a file and how it names the result: the --since/--until window, --interval, --subject,
the progress callback, and the fingerprint that makes the same file with the same settings the same session."""

from __future__ import annotations

import io
import json

import pytest

from hrviz.core.errors import InputError
from hrviz.core.ingest import IngestOptions, ingest
from tests.unit.fakes import MemoryStore

BASE = 1_714_557_600.0  # 2024-05-01T10:00:00Z
CSV = b"time,bpm\n" + b"".join(b"2024-05-01T10:00:%02dZ,%d\n" % (i, 70 + i) for i in range(10))  # 70..79 bpm
TAKEOUT = json.dumps(
    [{"dateTime": f"05/01/24 10:00:{i:02d}", "value": {"bpm": 70 + i, "confidence": 2}} for i in range(10)]
).encode()  # the same ten readings as Google Takeout's Fitbit JSON


def window(since: float | None, until: float | None, data: bytes = CSV, name: str = "a.csv") -> tuple:
    (s,) = ingest(io.BytesIO(data), name, MemoryStore(), IngestOptions(since=since, until=until))
    assert s.start is not None and s.end is not None
    return s.rows, s.readings, s.start - BASE, s.end - BASE, s.stats.min, s.stats.max


@pytest.mark.parametrize(
    ("since", "until", "kept"),
    [
        (None, None, (10, 10, 0.0, 9.0, 70.0, 79.0)),
        (BASE + 3, None, (7, 7, 3.0, 9.0, 73.0, 79.0)),  # since: from that second on, inclusive
        (None, BASE + 5, (5, 5, 0.0, 4.0, 70.0, 74.0)),  # until: up to that second, exclusive
        (BASE + 2, BASE + 6, (4, 4, 2.0, 5.0, 72.0, 75.0)),
    ],
)
def test_the_window_keeps_since_inclusive_until_exclusive(
    since: float | None, until: float | None, kept: tuple
) -> None:
    assert window(since, until) == kept  # (rows, readings, first s, last s, min, max)


def test_a_structured_file_is_clipped_by_its_reader_as_read() -> None:
    assert window(None, None, TAKEOUT, "hr.json") == (10, 10, 0.0, 9.0, 70.0, 79.0)
    assert window(BASE + 3, None, TAKEOUT, "hr.json") == (7, 7, 3.0, 9.0, 73.0, 79.0)


def test_a_window_with_no_readings_is_refused_in_words() -> None:
    with pytest.raises(InputError) as csv_refused:
        window(BASE + 20, None)
    assert str(csv_refused.value) == "a.csv: no readings in the --since/--until window"
    with pytest.raises(InputError) as json_refused:  # the structured readers say it themselves
        window(BASE + 20, None, TAKEOUT, "hr.json")
    assert str(json_refused.value) == "hr.json: no heart-rate readings in the --since/--until window"


def test_each_window_is_its_own_session_and_the_same_window_is_found_again() -> None:
    store = MemoryStore()

    def session(since: float | None, until: float | None) -> tuple[str, bool]:
        (s,) = ingest(io.BytesIO(CSV), "a.csv", store, IngestOptions(since=since, until=until))
        return s.id, s.existing

    whole = session(None, None)
    from_3 = session(BASE + 3, None)
    to_5 = session(None, BASE + 5)
    both = session(BASE + 3, BASE + 5)
    assert len({whole[0], from_3[0], to_5[0], both[0]}) == 4 and not any(e for _, e in (whole, from_3, to_5, both))
    assert session(BASE + 3, None) == (from_3[0], True)
    assert session(None, None) == (whole[0], True)


def test_interval_spaces_a_file_without_times() -> None:
    values = b"bpm\n" + b"".join(b"%d\n" % (70 + i % 3) for i in range(10))
    (s,) = ingest(io.BytesIO(values), "untimed.csv", MemoryStore(), IngestOptions(interval=5.0))
    assert (s.start, s.end, s.readings) == (0.0, 45.0, 10)


def test_subject_keeps_one_subject_of_a_multi_subject_file() -> None:
    two = b"subject,time,bpm\nann,2024-05-01T10:00:00Z,70\nbob,2024-05-01T10:00:00Z,80\nbob,2024-05-01T10:00:01Z,81\n"
    (s,) = ingest(io.BytesIO(two), "two.csv", MemoryStore(), IngestOptions(subject="bob"))
    assert (s.subject, s.readings, s.stats.min, s.stats.max) == ("bob", 2, 80.0, 81.0)


def test_progress_is_told_in_bytes_up_to_the_whole_file() -> None:
    told: list[int] = []
    ingest(io.BytesIO(CSV), "a.csv", MemoryStore(), on_progress=told.append)
    assert told and told[-1] == len(CSV) == 249  # 9 + 10 × 24 bytes
