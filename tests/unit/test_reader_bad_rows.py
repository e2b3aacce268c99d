"""A stray row must not poison a file: bad times are skipped and reported, or the file is refused
naming the line; never a crash, never a time outside 1980–2099 (docs/formats.md, "Bad rows")."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from hrviz.core.errors import InputError
from hrviz.core.model import Session, format_ts
from hrviz.core.reader import read_series
from hrviz.core.reader.timestamps import EARLIEST, LATEST
from hrviz.core.series import Series

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def read(text: str | bytes) -> Series:
    data = text.encode() if isinstance(text, str) else text
    (series,) = read_series(io.BytesIO(data), "t.csv")
    return series


def refused(text: str | bytes) -> InputError:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InputError) as info:
        read_series(io.BytesIO(data), "t.csv")
    return info.value


def seconds_file(n: int, stray: dict[int, str]) -> str:
    """``n`` rows of unix seconds at 1 Hz; row ``i`` (0-based) replaced by ``stray[i]`` when given."""
    return "time,bpm\n" + "".join(f"{stray.get(i, T0 + i)},{60 + i % 7}\n" for i in range(n))


@pytest.mark.parametrize(
    ("stray", "where"),
    [
        (str((T0 + 2) * 1000), 1_500),  # a millisecond time in a seconds file, past the sniffed sample
        (str((T0 + 2) * 1000), 5),  # ... and inside it
        ("1e300", 1_500),
        ("inf", 1_500),
        ("nan", 1_500),
        ("-1767225602", 1_500),
        ("253402300800", 1_500),  # seconds after 9999-12-31: not a millisecond time either
    ],
)
def test_one_stray_unix_time_among_thousands_is_skipped_and_reported(stray: str, where: int) -> None:
    s = read(seconds_file(3_000, {where: stray}))
    assert s.skipped == 1 and s.skipped_lines == (where + 2,)
    assert len(s) == s.rows == 2_999
    assert s.ts[0] >= EARLIEST and s.ts[-1] < LATEST
    assert format_ts(s.ts[-1], s.tz_offset_min) == "2026-01-01T00:49:59Z"


def test_one_stray_iso_time_out_of_range_is_skipped() -> None:
    rows = [f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}" for i in range(2_000)]
    rows[700] = "0001-01-01T00:00:00"  # a placeholder
    s = read("time,bpm\n" + "".join(f"{t},70\n" for t in rows))
    assert s.skipped == 1 and s.skipped_lines == (702,) and len(s) == 1_999


def test_many_out_of_range_times_are_refused_naming_the_first() -> None:
    err = refused(seconds_file(1_000, {i: str((T0 + i) * 1000) for i in range(400, 450)}))
    assert err.line == 402
    assert "'1767226000000' in column 'time' is out of range (read as unix seconds, year 57971" in err.message
    assert "(50 of 1000 rows have unusable times)" in err.message


def test_a_first_row_out_of_range_is_refused() -> None:
    err = refused(seconds_file(1_000, {0: "1e300"}))
    assert err.line == 2 and "of the first data row is out of range" in err.message


@pytest.mark.parametrize("value", ["253402300800", "253402300800.5", "99999999999"])
def test_unix_times_no_unit_reads_are_refused_not_read_as_milliseconds(value: str) -> None:
    err = refused("time,bpm\n" + "".join(f"{float(value) + i:.0f},70\n" for i in range(100)))
    assert err.line == 2 and "is out of range (as unix seconds year" in err.message


def test_naive_and_offset_times_mixed_half_and_half_are_refused() -> None:
    rows = [f"2026-01-01T10:{i // 60:02d}:{i % 60:02d}" for i in range(100)]
    text = "time,bpm\n" + "".join(f"{t}{'+01:00' if i >= 50 else ''},70\n" for i, t in enumerate(rows))
    err = refused(text)
    assert err.line == 52
    assert "'2026-01-01T10:00:50+01:00' in column 'time' has a UTC offset, unlike the first data row" in err.message


def test_an_aware_file_with_a_naive_row_skips_it() -> None:
    rows = [f"2026-01-01T10:{i // 60:02d}:{i % 60:02d}+01:00" for i in range(1_500)]
    rows[1_200] = rows[1_200][:-6]
    s = read("time,bpm\n" + "".join(f"{t},70\n" for t in rows))
    assert s.skipped == 1 and s.skipped_lines == (1_202,) and s.tz_offset_min == 60
    assert format_ts(s.ts[0], 60) == "2026-01-01T10:00:00+01:00"


def test_slash_dates_still_read_and_keep_their_awareness() -> None:
    s = read("time,bpm\n2026/01/01 10:00:00,70\n2026/01/01 10:00:01,71\n")
    assert len(s) == 2 and s.tz_offset_min is None and s.skipped == 0


def test_elapsed_seconds_beyond_2099_are_skipped() -> None:
    s = read("time,bpm\n" + "".join(f"{i},70\n" for i in range(2_000)) + "1e300,70\n")
    assert s.skipped == 1 and len(s) == 2_000


def test_a_huge_interval_is_refused_not_crashing() -> None:
    with pytest.raises(InputError, match="after 2099"):
        read_series(io.BytesIO(b"bpm\n70\n71\n"), "t.csv", interval=1e300)


def test_skipped_lines_are_counted_per_file_and_the_first_few_kept() -> None:
    s = read(seconds_file(5_000, {i: "1e300" for i in range(100, 3_000, 300)}))
    assert s.skipped == 10 and s.skipped_lines == (102, 402, 702, 1002, 1302)


# --- malformed text: bad input, naming the line -----------------------------------------------------


def test_a_ten_megabyte_line_in_the_sniffed_head_is_refused_naming_it() -> None:
    err = refused(seconds_file(100, {}) + "1767225700," + "7" * 10_000_000 + "\n")
    assert err.line == 102 and "line over" in err.message


def test_a_field_over_the_csv_limit_past_the_head_is_refused_naming_it() -> None:
    err = refused(seconds_file(3_000, {}) + "1767229000," + "7" * 200_000 + "\n")
    assert err.line == 3_002 and "a field longer than" in err.message


@pytest.mark.parametrize("where", ["head", "first"])
def test_a_hundred_thousand_columns_are_refused_naming_the_line(where: str) -> None:
    wide = ",".join(["1"] * 100_000) + "\n"
    text = wide + seconds_file(100, {}) if where == "first" else seconds_file(100, {}) + wide
    err = refused(text)
    assert err.line == (1 if where == "first" else 102)
    assert "100,000 fields in one row" in err.message


def test_error_messages_print_undecodable_names_escaped() -> None:
    err = InputError("bad\udcff\udcfe.csv", "oops", 3)
    assert str(err) == "bad\\xff\\xfe.csv, line 3: oops"
    assert str(InputError("a\nb.csv", "oops")) == "a\\nb.csv: oops"


def test_a_runaway_quoted_time_is_shown_cut_short() -> None:
    err = refused('time,bpm\n"2026-01-01T00:00:00,70\n' + "2026-01-01T00:00:01,71\n" * 1_000)
    assert err.line == 2 and len(err.message) < 150 and "…' in column 'time'" in err.message


def test_a_runaway_line_past_the_head_is_refused_without_holding_it() -> None:
    data = (seconds_file(5_000, {}) + "1767235700," + "7" * 50_000_000 + "\n").encode()
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            read_series(stream, "t.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # was the whole 50 MB line, several times over
    assert info.value.line == 5_002 and "a line over 1,048,576 bytes" in info.value.message


def takeout(n: int, bad: set[int]) -> bytes:
    """A Google Takeout Fitbit JSON file; entries in ``bad`` dated 1975 (outside 1980–2099)."""
    entries = [
        {"dateTime": f"{'01/01/75' if i in bad else '03/31/24'} 0{i // 3600}:{i // 60 % 60:02d}:{i % 60:02d}",
         "value": {"bpm": 70, "confidence": 2}}
        for i in range(n)
    ]  # fmt: skip
    return json.dumps(entries).encode()


def test_other_formats_skip_a_stray_implausible_time_and_count_it() -> None:
    s = read(takeout(2_000, {700}))
    assert s.skipped == 1 and s.skipped_lines == () and len(s) == s.rows == 1_999
    assert format_ts(s.ts[0], 0) == "2024-03-31T00:00:00Z"


def test_other_formats_with_many_implausible_times_are_refused() -> None:
    err = refused(takeout(1_000, set(range(100, 200))))
    assert "100 of 1000 readings have a time outside 1980–2099" in err.message


@pytest.mark.parametrize("ts", [1e300, 1_767_225_602_000.0, -1e18, float("inf"), float("nan")])
def test_a_time_stored_by_an_older_hrviz_never_breaks_formatting(ts: float) -> None:
    assert format_ts(ts, None) is None and format_ts(ts, 60) is None
    session = Session(id="x", source="old.csv", subject=None, fingerprint="f", start=0.0, end=ts)
    assert session.as_dict()["end"] is None
