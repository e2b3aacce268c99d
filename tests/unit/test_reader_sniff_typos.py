"""A named heart-rate column stays the heart-rate column when one of the first rows under it is a typo.

Before: one unreadable cell among the three rows under ``bpm`` made the reader ignore the header and refuse
the file with "no heart-rate column found: columns are 'time', 'bpm'", naming the very column it wanted.
"""

from __future__ import annotations

import io
import math

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.series import Series

HEADER = "time,bpm\n"
T = [1767225600.0 + i for i in range(4)]  # 2026-01-01T00:00:00Z and the next three seconds


def read(text: str, name: str = "t.csv") -> Series:
    (series,) = read_series(io.BytesIO(text.encode()), name)
    return series


def test_one_typo_in_the_first_rows_is_a_missing_reading_not_a_lost_header() -> None:
    s = read(
        HEADER + "2026-01-01T00:00:00Z,70\n2026-01-01T00:00:01Z,71\n2026-01-01T00:00:02Z,abc\n2026-01-01T00:00:03Z,72\n"
    )
    assert list(s.ts) == T
    assert list(s.bpm)[:2] == [70.0, 71.0] and math.isnan(s.bpm[2]) and s.bpm[3] == 72.0


def test_the_first_row_below_the_header_a_typo_too() -> None:
    s = read(HEADER + "2026-01-01T00:00:00Z,n/a?\n2026-01-01T00:00:01Z,71\n2026-01-01T00:00:02Z,72\n")
    assert list(s.ts) == T[:3]
    assert math.isnan(s.bpm[0]) and list(s.bpm)[1:] == [71.0, 72.0]


def test_mostly_words_under_the_name_is_still_no_heart_rate_column() -> None:
    with pytest.raises(InputError) as err:
        read(HEADER + "2026-01-01T00:00:00Z,abc\n2026-01-01T00:00:01Z,def\n2026-01-01T00:00:02Z,72\n", "words.csv")
    assert str(err.value).startswith("words.csv, line 1: no heart-rate column found: columns are 'time', 'bpm'")


def test_a_header_with_no_rows_below_is_still_header_only() -> None:
    with pytest.raises(InputError) as err:
        read(HEADER, "empty.csv")
    assert str(err.value) == "empty.csv, line 1: header only: no data rows after the header"
