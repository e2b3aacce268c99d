"""The per-row loop (hrviz/core/reader/parse.py) at its edges: what a heart-rate cell becomes, the
plausible window's ends, how many bad rows a file may hold, the exact messages, subjects, metric
types and the chunks handed out while reading (docs/formats.md, "Bad rows")."""

from __future__ import annotations

import io
import math
from array import array
from datetime import datetime

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import Unstreamable, read_series
from hrviz.core.reader.parse import _offset_suffix, parse_rows
from hrviz.core.reader.sniff import sniff
from hrviz.core.series import Series

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
TEN_AM = 1_704_103_200  # 2024-01-01T10:00:00Z


def read(text: str, **kwargs: object) -> list[Series]:
    return read_series(io.BytesIO(text.encode()), "t.csv", **kwargs)  # type: ignore[arg-type]


def one(text: str) -> Series:
    (series,) = read(text)
    return series


def refused(text: str, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as info:
        read(text, **kwargs)
    return info.value


def seconds_file(n: int, stray: dict[int, str]) -> str:
    """``n`` rows of unix seconds at 1 Hz; row ``i`` (0-based) replaced by ``stray[i]`` when given."""
    return "time,bpm\n" + "".join(f"{stray.get(i, T0 + i)},70\n" for i in range(n))


def nan_aware(values: array) -> list[float | str]:
    return ["nan" if math.isnan(v) else v for v in values]


# --- the heart-rate cell ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "bpm", "ignored"),
    [
        ("72", 72.0, {}),
        ("72,5", 72.5, {}),  # a decimal comma
        ("0.5", 0.5, {}),  # any positive number is a reading; the detector judges it
        ("0,5", 0.5, {}),
        ("0", "nan", {"placeholder 0": 1}),  # 0 while paused: missing, and counted
        ("-1", "nan", {"placeholder -1": 1}),  # a sentinel
        ("inf", "nan", {"placeholder inf": 1}),
        ("nan", "nan", {}),  # not a number: missing, not a placeholder
        ("0,0", "nan", {}),
        ("-1,5", "nan", {}),
        ("1,5e999", "nan", {}),  # infinite with a decimal comma
        ("abc", "nan", {}),
        ("", "nan", {}),
    ],
)
def test_what_a_heart_rate_cell_becomes(cell: str, bpm: float | str, ignored: dict[str, int]) -> None:
    s = one("time;bpm\n" + "".join(f"{T0 + i};70\n" for i in range(4)) + f"{T0 + 4};{cell}\n")
    assert nan_aware(s.bpm) == [70.0] * 4 + [bpm]
    assert s.ignored == ignored and s.rows == 5


def test_a_row_without_its_heart_rate_cell_is_a_missing_reading() -> None:
    s = one(f"time,bpm\n{T0},70\n{T0 + 1}\n{T0 + 2},72\n")
    assert nan_aware(s.bpm) == [70.0, "nan", 72.0] and s.rows == 3


def test_quoted_cells_after_a_space_are_read() -> None:
    s = one(f'time, bpm\n{T0}, "70"\n{T0 + 1}, "71"\n')
    assert list(s.bpm) == [70.0, 71.0]


# --- times: the window and the rows that have none -----------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "skipped"),
    [
        ("315532800", 0),  # 1980-01-01T00:00:00Z: the first plausible second
        ("315532799", 1),
        ("100000000", 1),  # 1973: a unix time before 1980 is no heart-rate time
        ("4102444799", 0),  # 2099-12-31T23:59:59Z: the last
        ("4102444800", 1),  # 2100-01-01
    ],
)
def test_the_plausible_window_1980_to_2099_includes_its_first_second_only(cell: str, skipped: int) -> None:
    s = one(seconds_file(30, {10: cell}))
    assert (s.skipped, s.rows, s.skipped_lines) == (skipped, 30 - skipped, (12,) if skipped else ())


def test_elapsed_seconds_may_start_at_zero() -> None:
    s = one("time,bpm\n0,70\n1,71\n")
    assert list(s.ts) == [0.0, 1.0]


def test_an_unreadable_dotted_date_among_many_is_skipped() -> None:
    rows = [f"02.01.2024 10:00:{i:02d}" for i in range(30)]
    rows[20] = "31.02.2024 10:00:20"  # no 31 February
    s = one("time,bpm\n" + "".join(f"{t},70\n" for t in rows))
    assert (s.skipped, s.skipped_lines, s.rows) == (1, (22,), 29)
    assert s.ts[0] == 1_704_189_600.0  # 2024-01-02T10:00:00, as if UTC


def test_a_row_of_empty_cells_is_passed_over_silently() -> None:
    s = one(f"time,bpm\n{T0},70\n,\n{T0 + 2},72\n")
    assert (list(s.ts), s.skipped, s.rows) == ([T0, T0 + 2], 0, 2)


def test_a_row_too_short_to_hold_its_time_is_a_bad_row() -> None:
    rows = "".join(f"70,{T0 + i}\n" if i != 7 else "71\n" for i in range(30))
    s = one("bpm,time\n" + rows)
    assert (s.skipped, s.skipped_lines, s.rows) == (1, (9,), 29)


@pytest.mark.parametrize("date", ["1/2/2024", "2024-01-02"])
def test_a_time_of_day_column_before_its_date_column(date: str) -> None:
    s = one("Time,Date,HR\n" + "".join(f"10:00:0{i},{date},{70 + i}\n" for i in range(3)))
    assert list(s.ts) == [1_704_189_600.0, 1_704_189_601.0, 1_704_189_602.0]  # 2024-01-02T10:00:00..02


# --- ISO times with an offset: the file's own offset is cut off without a full parse ----------------------


@pytest.mark.parametrize(
    ("suffix", "fraction", "shift"),
    [
        ("Z", "", 0),
        ("+01:00", "", -3_600),
        ("-0500", "", 18_000),
        ("Z", ".123456", 0),
        ("-0500", ".123", 18_000),
        ("+01:00:00", "", -3_600),  # an offset written with its seconds
    ],
)
def test_every_row_with_the_files_offset_reads_to_the_same_utc_time(suffix: str, fraction: str, shift: int) -> None:
    cells = [f"2024-01-01T10:00:0{i}{fraction}{suffix}" for i in (0, 1, 2, 0, 3)]  # the first one again
    s = one("time,bpm\n" + "".join(f"{c},70\n" for c in cells))
    step = float(fraction or "0")
    expected = [TEN_AM + shift + i + step for i in range(4)]
    assert list(s.ts) == pytest.approx(expected, abs=1e-7)
    assert (s.rows, s.duplicates, s.skipped) == (5, 1, 0)


@pytest.mark.parametrize(
    ("cell", "suffix"),
    [
        ("2024-01-01T10:00:00Z", ("Z", 0.0)),
        ("2024-01-01T10:00:00+01:00", ("+01:00", 3_600.0)),
        ("2024-01-01T10:00:00-0500", ("-0500", -18_000.0)),
        ("2024-01-01T10:00:00.120-0500", ("-0500", -18_000.0)),  # not "0-0500"
        ("2024-01-01T10:00:00+01:00:00", ("", 0.0)),  # unusual: every row takes the full parse
        ("2024/01/01T10:00:00+01:00", ("", 0.0)),  # slashes: the text before the offset is no ISO time
        ("2024-01-01T10:00:00", ("", 0.0)),  # naive: no offset
    ],
)
def test_the_offset_text_cut_off_later_rows_without_a_full_parse(cell: str, suffix: tuple[str, float]) -> None:
    assert _offset_suffix(cell, datetime.fromisoformat(cell.replace("/", "-"))) == suffix


def test_a_fraction_ending_in_zero_before_a_short_offset_is_not_taken_for_the_offset() -> None:
    # "…:00.120-0500" also reads as "…:00.12" plus "0-0500": cut that off "…:10-0500" and "…:1" is left
    cells = ["00.120", "01.500", "10", "20", "30.25"]
    s = one("time,bpm\n" + "".join(f"2024-01-01T10:00:{c}-0500,70\n" for c in cells))
    expected = [TEN_AM + 18_000 + x for x in (0.12, 1.5, 10, 20, 30.25)]
    assert (list(s.ts), s.skipped) == (pytest.approx(expected, abs=1e-7), 0)


# --- how many bad rows a file may hold -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "bad", "kept"),
    [
        (100, 5, True),  # 5 %: the most ever tolerated
        (100, 6, False),
        (200, 10, True),  # ten strays, and 5 %
        (1_000, 10, True),  # ten strays, and 1 %
        (1_000, 11, False),
        (2_000, 20, True),  # over ten, but 1 %
        (2_000, 21, False),
    ],
)
def test_bad_rows_are_tolerated_up_to_ten_or_1_percent_and_never_over_5_percent(
    rows: int, bad: int, kept: bool
) -> None:
    text = seconds_file(rows, {i: "1e300" for i in range(1, bad + 1)})
    if kept:
        s = one(text)
        assert (s.skipped, s.rows) == (bad, rows - bad)
    else:
        err = refused(text)
        assert err.line == 3
        assert err.message == (
            "the time '1e300' in column 'time' is out of range (read as unix seconds, far outside any calendar; "
            f"times must fall in 1980–2099) ({bad} of {rows} rows have unusable times)"
        )


# --- messages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "time,bpm\n1975-01-01T00:00:00,70\n",
            2,
            "the time '1975-01-01T00:00:00' in column 'time' of the first data row is out of range "
            "(year 1975; times must fall in 1980–2099)",
        ),
        (
            "time,bpm\n100000000,70\n" + "".join(f"{T0 + i},70\n" for i in range(1, 10)),
            2,
            "the time '100000000' in column 'time' of the first data row is out of range "
            "(read as unix seconds, year 1973; times must fall in 1980–2099)",
        ),
        (
            "time,bpm\n1e300,70\n1,71\n2,72\n3,73\n4,74\n",
            2,
            "the time '1e300' in column 'time' of the first data row is out of range "
            "(far outside any calendar; times must fall before 2100)",
        ),
        (
            "time,bpm\n" + "".join(f"2024-01-01T10:00:{i:02d}{'+01:00' if i < 50 else ''},70\n" for i in range(60)),
            52,
            "the time '2024-01-01T10:00:50' in column 'time' has no UTC offset, unlike the first data row "
            "(10 of 60 rows have unusable times)",
        ),
        (
            "Date,Time,HR\n"
            + "".join(f"02.01.2024,10:{i // 60:02d}:{i % 60:02d},70\n" for i in range(300))
            + "02.01.2024,25:00:00,70\n" * 50,
            302,
            "cannot read the time '02.01.2024 25:00:00' in column 'Date' + 'Time' (50 of 350 rows have unusable times)",
        ),
    ],
    ids=["iso-1975", "unix-1973", "elapsed-beyond-2100", "aware-then-naive", "date-plus-time"],
)
def test_a_refused_file_names_the_time_the_column_and_why(text: str, line: int, message: str) -> None:
    err = refused(text)
    assert (err.source, err.line, err.message) == ("t.csv", line, message)


def test_one_subject_read_alone_is_held_to_the_files_first_row_offset() -> None:
    text = (
        "time,bpm,user\n2024-01-01T10:00:00Z,70,a\n2024-01-01T10:00:01,71,b\n"
        "2024-01-01T10:00:02Z,72,a\n2024-01-01T10:00:03,73,b\n"
    )
    err = refused(text, subject="b")
    assert err.line == 3
    assert err.message == (
        "the time '2024-01-01T10:00:01' in column 'time' of the first data row has no UTC offset, "
        "unlike the first data row"
    )


# --- subjects and metric types ----------------------------------------------------------------------------


def test_interleaved_subjects_each_keep_all_their_rows() -> None:
    a, b = read(f"time,bpm,user\n{T0},70,a\n{T0 + 1},71,b\n{T0 + 2},72,a\n{T0 + 3},73,b\n")
    assert (a.subject, list(a.ts), list(a.bpm)) == ("a", [T0, T0 + 2], [70.0, 72.0])
    assert (b.subject, list(b.ts), list(b.bpm)) == ("b", [T0 + 1, T0 + 3], [71.0, 73.0])


def test_rows_with_an_empty_or_missing_subject_are_the_subject_named_empty() -> None:
    unnamed, alice = read(f"time,bpm,user\n{T0},70,\n{T0 + 1},71,alice\n{T0 + 2},72\n")
    assert (unnamed.subject, list(unnamed.ts)) == ("", [T0, T0 + 2])
    assert (alice.subject, list(alice.ts)) == ("alice", [T0 + 1])


def parse(lines: list[str], subject: str | None = None) -> tuple[list[str | None], list[str]]:
    """parse_rows on these lines (header first), sniffed from the first 20: (collector keys, subjects seen)."""
    layout = sniff(lines[:20], "t.csv", 1.0)
    collectors, seen = parse_rows(lines[:20], iter(lines[20:]), layout, "t.csv", subject)
    return list(collectors), seen


def test_a_subject_column_first_gives_one_collector_per_subject_and_none_unnamed() -> None:
    lines = ["user,time,bpm"] + [f"{'ab'[i % 2]},{T0 + i},70" for i in range(30)]
    assert parse(lines) == (["a", "b"], ["a", "b"])
    assert parse(lines, subject="b") == (["b"], ["a", "b"])


def test_ten_thousand_subjects_are_read_and_one_more_is_refused() -> None:
    lines = ["time,bpm,user"] + [f"{T0 + i},70,s{i // 2}" for i in range(20_000)]  # two rows each
    keys, seen = parse(lines)
    assert len(keys) == len(seen) == 10_000 and seen[-1] == "s9999"
    with pytest.raises(InputError) as info:
        parse([*lines, f"{T0 + 20_000},70,s10000"])
    err = info.value
    assert (err.source, err.line) == ("t.csv", 20_002)
    assert err.message == "more than 10,000 subjects: each would be a session of its own"


def test_other_metrics_of_a_mixed_log_are_counted_and_a_row_without_a_type_is_passed_over() -> None:
    s = one(
        f"time,type,value\n{T0},heart_rate,70\n{T0},steps,12\n{T0 + 1}\n{T0 + 2},heart_rate,72\n{T0 + 3},steps,13\n"
    )
    assert (list(s.ts), list(s.bpm), s.rows) == ([T0, T0 + 2], [70.0, 72.0], 2)
    assert s.ignored == {"metric steps": 2}


# --- chunks handed out while reading -------------------------------------------------------------------------


def test_a_file_in_time_order_is_handed_out_every_chunk_rows_rows() -> None:
    chunks: list[tuple[list[float], list[float]]] = []
    (rest,) = read(seconds_file(8, {}), on_chunk=lambda ts, bpm: chunks.append((list(ts), list(bpm))), chunk_rows=3)
    assert chunks == [([T0, T0 + 1, T0 + 2], [70.0] * 3), ([T0 + 3, T0 + 4, T0 + 5], [70.0] * 3)]
    assert (list(rest.ts), rest.rows) == ([T0 + 6, T0 + 7], 8)


def test_a_row_back_in_time_while_chunking_says_where() -> None:
    with pytest.raises(Unstreamable) as info:
        read(seconds_file(8, {3: str(T0)}), on_chunk=lambda ts, bpm: None, chunk_rows=3)
    assert str(info.value) == "t.csv: line 5 goes back in time"


@pytest.mark.parametrize(
    ("lines", "subject"),
    [
        (["time,bpm,user", f"{T0},70,a", f"{T0 + 1},71,b"], None),  # a subject column
        (["time,bpm", f"{T0},70"], "a"),  # a subject asked for
    ],
)
def test_chunks_are_for_single_subject_layouts_only(lines: list[str], subject: str | None) -> None:
    layout = sniff(lines, "t.csv", 1.0)
    with pytest.raises(ValueError) as info:
        parse_rows(lines, iter(()), layout, "t.csv", subject, on_chunk=lambda ts, bpm: None)
    assert str(info.value) == "chunks are for single-subject layouts"
