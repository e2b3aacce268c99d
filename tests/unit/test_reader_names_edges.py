"""Column names (core/reader/names.py): which header names are the heart rate and the time, and
how they rank when a header has several. The vocabularies are exact entries; names outside them
count by the words they contain."""

from __future__ import annotations

import pytest

from hrviz.core.reader.names import hr_rank, time_rank

OUTSIDE_HR = 19  # the rank of a heart-rate name that is not in the vocabulary: after every entry
OUTSIDE_TIME = 22

# (header name, rank: lower wins, None = not a heart-rate column)
HR = [
    ("bpm", 0),
    ("heartRate", 2),
    ("Heart Rate (bpm)", 3),
    ("value", 18),
    ("heart_rate_sensor", OUTSIDE_HR),  # holds "heartrate"
    ("chest strap bpm", OUTSIDE_HR),  # holds "bpm"
    ("Pulse (wrist)", OUTSIDE_HR),  # holds "pulse"
    ("Average heart rate (bpm)", None),  # a summary, not the per-sample column
    ("max_heart_rate", None),
    ("HR max", None),
    ("HRV", None),
    ("", None),
    ("---", None),  # nothing left after the spelling is folded
]


@pytest.mark.parametrize("name, rank", HR, ids=[repr(n) for n, _ in HR])
def test_heart_rate_names(name: str, rank: int | None) -> None:
    assert hr_rank(name) == rank


# (header name, rank, None = not a time column)
TIME = [
    ("timestamp", 0),
    ("Time", 3),
    ("Date/Time (UTC)", 2),
    ("gps_timestamp", OUTSIDE_TIME),  # ends with "timestamp"
    ("event_datetime", OUTSIDE_TIME),  # ends with "datetime"
    ("timestamp_local", OUTSIDE_TIME),  # starts with "timestamp"
    ("datetime_start", OUTSIDE_TIME),  # starts with "datetime"
    ("created", None),
    ("stamp", None),
]


@pytest.mark.parametrize("name, rank", TIME, ids=[repr(n) for n, _ in TIME])
def test_time_names(name: str, rank: int | None) -> None:
    assert time_rank(name) == rank
