"""Timestamp formats one cell at a time (docs/formats.md, "Timestamps" and "Bad rows"): the range of
each field, the share of the sample a format must read to be chosen, the plausible window, and the
words a message uses for a time. Expected epoch values are written out (``calendar.timegm``)."""

from __future__ import annotations

import math

import pytest

from hrviz.core.reader.timestamps import (
    ELAPSED_CLOCK,
    ELAPSED_SECONDS,
    ISO,
    TimeFormat,
    choose_format,
    first_unreadable,
    implausible_number,
    is_clock_only,
    is_date_only,
    parse_clock,
    parse_date,
    shown,
    unit_of,
    year_of,
)

JAN_2_2024 = 1_704_153_600  # 2024-01-02T00:00:00Z


def chosen(*cells: str, named: bool = False) -> TimeFormat:
    fmt = choose_format(list(cells), named=named)
    assert fmt is not None, cells
    return fmt


# --- time of day: h:mm[:ss[.f]] ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [
        ("0:00", 0.0),  # midnight: hour 0 is a valid hour
        ("7:05", 25_500.0),  # h:mm, no seconds
        ("07:05:30", 25_530.0),
        ("1:01:00", 3_660.0),  # a minute is 60 s
        ("12:00:00.25", 43_200.25),
        ("23:59:59", 86_399.0),
        ("23:59:60", 86_400.0),  # a leap second is a time of day
        ("23:59:60.5", 86_400.5),
    ],
)
def test_a_time_of_day_reads_to_seconds_since_midnight(cell: str, seconds: float) -> None:
    assert parse_clock(cell) == seconds


@pytest.mark.parametrize("cell", ["24:00", "-1:00", "10:60", "10:00:61", "10", "1:2:3:4", "ab:cd", ""])
def test_a_time_of_day_outside_its_fields_ranges_is_no_time(cell: str) -> None:
    assert parse_clock(cell) is None


@pytest.mark.parametrize(
    ("cells", "clock_only"),
    [
        (["10:00", "10:00:01"], True),
        (["0:00"], True),  # midnight is a time of day too
        (["10:00", ""], True),  # blanks are left out
        (["", " "], False),  # ... but a column of blanks is no time column
        (["10:00", "ten"], False),
        (["2024-01-01 10:00"], False),
    ],
)
def test_a_column_of_bare_times_of_day(cells: list[str], clock_only: bool) -> None:
    assert is_clock_only(cells) is clock_only


# --- dates: the US, day-first and dotted families ---------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "name", "epoch"),
    [
        ("1/2/2024 1:00 PM", "M/D/YYYY h:mm:ss [AM/PM]", 1_704_200_400),  # 2024-01-02T13:00
        ("1/2/2024 12:00 PM", "M/D/YYYY h:mm:ss [AM/PM]", 1_704_196_800),  # noon stays noon
        ("1/2/2024 12:00 AM", "M/D/YYYY h:mm:ss [AM/PM]", JAN_2_2024),  # 12 AM is midnight
        ("1/2/2024 12:30 am", "M/D/YYYY h:mm:ss [AM/PM]", 1_704_155_400),  # 00:30, either case
        ("1/2/2024 13:00", "M/D/YYYY h:mm:ss [AM/PM]", 1_704_200_400),  # 24-hour, no AM/PM
        ("1/2/24", "M/D/YYYY h:mm:ss [AM/PM]", JAN_2_2024),  # a two-digit year is 20YY
        ("13/1/2024 10:00:00", "D/M/YYYY hh:mm:ss", 1_705_140_000),  # 13 is no month: day first
        ("06.09.2015 10:01:07", "DD.MM.YYYY hh:mm:ss", 1_441_533_667),
        ("31-12-2024 23:59:59", "D-M-YYYY hh:mm:ss", 1_735_689_599),
    ],
)
def test_a_dated_cell_is_read_by_the_format_that_fits(cell: str, name: str, epoch: int) -> None:
    fmt = chosen(cell)
    assert (fmt.name, fmt.parse(cell), fmt.relative) == (name, float(epoch), False)
    assert fmt.offset_min(cell) is None  # wall times, stored as if UTC


def test_only_a_two_digit_year_is_completed() -> None:
    assert parse_date("1/2/124") == -58_254_076_800.0  # year 124 as written (refused later as implausible)


@pytest.mark.parametrize("cell", ["1/2/2024 1:00 PM UTC", "1/2/2024 1:00 XM", "13/45/2024", "noon", ""])
def test_a_date_with_extra_words_or_impossible_fields_is_no_date(cell: str) -> None:
    assert parse_date(cell) is None


@pytest.mark.parametrize(
    ("cell", "epoch"),
    [("2024-01-02", JAN_2_2024), ("1/2/2024", JAN_2_2024), ("2/1/2024 ", 1_706_745_600), ("13/1/2024", 1_705_104_000)],
)
def test_a_lone_date_from_a_summary_table(cell: str, epoch: int) -> None:
    assert parse_date(cell) == float(epoch)


def test_elapsed_time_is_never_a_start_date() -> None:
    assert parse_date("1:02:03") is None


@pytest.mark.parametrize(
    ("cells", "date_only"),
    [
        (["1/2/2024", "1/3/2024"], True),  # a Date column that wants its Time partner
        (["1/2/2024 0:00"], False),  # a time is written, even if it is midnight
        (["1/2/2024", "13/45/2024"], False),  # unreadable: not a date column
        (["1/2/2024 10:00"], False),
    ],
)
def test_a_column_of_dates_without_times(cells: list[str], date_only: bool) -> None:
    assert is_date_only(chosen("1/2/2024"), cells) is date_only


def test_iso_midnights_with_a_written_time_are_not_a_date_column() -> None:
    assert is_date_only(ISO, ["2024-01-01", "2024-01-02"]) is True
    assert is_date_only(ISO, ["2024-01-01T00:00:00", "2024-01-02T00:00:00"]) is False


def test_unix_and_elapsed_times_at_a_midnight_are_no_date_column() -> None:
    assert is_date_only(chosen("1704153600"), ["1704153600"]) is False  # 2024-01-02T00:00Z, as a unix time
    assert is_date_only(ELAPSED_SECONDS, ["0", "86400"]) is False


@pytest.mark.parametrize(
    ("cell", "epoch", "offset"),
    [
        ("Sun Jun 11 07:34:09 PDT 2017", 1_497_191_649, -420),  # 2017-06-11T07:34:09-07:00
        ("Sunday June 11 07:34:09 pdt 2017", 1_497_191_649, -420),  # names by their first three letters
        ("Sun Jun 11 07:34:09 2017", 1_497_166_449, None),  # no zone: the wall time, as if UTC
    ],
)
def test_times_as_date_and_java_write_them(cell: str, epoch: int, offset: int | None) -> None:
    fmt = chosen(cell)
    assert (fmt.name, fmt.parse(cell), fmt.offset_min(cell)) == ("Www Mmm D hh:mm:ss [ZONE] YYYY", float(epoch), offset)


@pytest.mark.parametrize(
    "cell", ["Xyz Jun 11 07:34:09 2017", "Sun Jux 11 07:34:09 2017", "Sun Jun 11 07:34:09 XYZ 2017", "Sun Jun 11 2017"]
)
def test_a_weekday_time_with_a_name_not_known_is_no_time(cell: str) -> None:
    assert parse_date(cell) is None


# --- ISO-8601 offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "minutes"),
    [
        ("2024-01-01T10:00:00Z", 0),
        ("2024-01-01T10:00:00+01:00", 60),
        ("2024-01-01T10:00:00-0500", -300),
        ("2024/01/01T10:00:00+01:00", 60),  # slashes in the date are read as dashes
        ("2024-01-01T10:00:00-05:30:30", -331),  # an offset with seconds (old local mean times): floored
        ("2024-01-01T10:00:00", None),  # naive: a wall time
        ("ten o'clock", None),
    ],
)
def test_the_utc_offset_of_an_iso_time_in_minutes(cell: str, minutes: int | None) -> None:
    assert ISO.offset_min(cell) == minutes


# --- elapsed [H]H:MM:SS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [("0:00:00", 0.0), ("1:02:03.5", 3_723.5), ("100:00:00", 360_000.0), ("05:30", 330.0), ("0:59:60", 3_600.0)],
)
def test_elapsed_clock_times(cell: str, seconds: float) -> None:
    assert chosen(cell) is ELAPSED_CLOCK
    assert ELAPSED_CLOCK.parse(cell) == seconds


@pytest.mark.parametrize("cell", ["0:60:00", "0:00:61", "-1:00:00", "1:2:3:4", "5"])
def test_elapsed_clock_times_with_a_field_out_of_range_are_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        ELAPSED_CLOCK.parse(cell)


# --- plain numbers: unix times in a unit, or elapsed seconds -----------------------------------------


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("1767225600", "unix seconds"),
        ("1767225600000", "unix milliseconds"),
        ("1767225600000000", "unix microseconds"),
        ("1767225600000000000", "unix nanoseconds"),
    ],
)
def test_each_unix_unit_reads_back_to_seconds(cell: str, name: str) -> None:
    fmt = chosen(cell)
    assert (fmt.name, fmt.parse(cell), fmt.offset_min(cell)) == (name, 1_767_225_600.0, 0)  # 2026-01-01Z


@pytest.mark.parametrize(
    ("cells", "named", "name"),
    [
        (["315532800"], False, "unix seconds"),  # 1980-01-01T00:00Z: the window's first second
        (["4102444799"], False, "unix seconds"),  # 2099-12-31T23:59:59Z: its last
        (["4102444800"], False, None),  # 2100: no unit puts it in the window
        (["1767225600", "1767225601", "1767225602", "1767225603", "5"], False, "unix seconds"),  # 80 %: enough
        (["1767225600", "1767225601", "1767225602", "5", "6"], False, None),  # 60 %: not
        (["0", "1", "2"], True, "elapsed seconds"),  # a column named like a time, from 0
        (["0", "1", "2"], False, None),  # ... but unnamed numbers are no time
        (["99999999"], True, "elapsed seconds"),
        (["100000000"], True, None),  # 1e8 s (over 3 years): no recording's elapsed time
        (["-1", "1", "2", "3", "4"], True, "elapsed seconds"),  # 80 %
        (["-1", "-2", "1", "2", "3"], True, None),  # 60 %
        (["2024-01-01T00:00:00"] * 4 + ["x"], False, "ISO-8601"),  # text formats: 80 % too
        (["2024-01-01T00:00:00"] * 3 + ["x", "y"], False, None),
        (["x", "y"], False, None),
        (["", " "], True, None),
    ],
)
def test_a_format_must_read_80_percent_of_the_sample(cells: list[str], named: bool, name: str | None) -> None:
    fmt = choose_format(cells, named=named)
    assert (fmt.name if fmt is not None else None) == name


@pytest.mark.parametrize(
    ("cells", "found"),
    [
        (["315532800"], None),  # 1980-01-01: plausible
        (["1767225600000"], None),  # plausible as milliseconds
        (["1767225600", "x"], None),  # not all numbers: another message applies
        ([], None),
        (["4102444800"], (0, "as unix seconds year 2100, as milliseconds year 1970")),
        (["1767225600", "5"], (1, "as unix seconds year 1970, as milliseconds year 1970")),
        (["283996800000"], (0, "as unix seconds year 10969, as milliseconds year 1979")),  # ms: 1979-01-01
    ],
)
def test_the_first_implausible_number_and_what_it_would_be(cells: list[str], found: tuple[int, str] | None) -> None:
    assert implausible_number(cells) == found


def test_the_first_cell_the_best_text_format_cannot_read() -> None:
    cells = ["2024-01-01T00:00:00", "2024-01-01T00:00:01", "noon", "2024-01-01T00:00:03"]
    assert first_unreadable(cells) == 2
    assert first_unreadable(cells[:2]) == 0  # all readable: the first row is named


# --- words for messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "width", "text"),
    [
        ("x" * 60, 60, "'" + "x" * 60 + "'"),  # up to the width: whole
        ("x" * 61, 60, "'" + "x" * 59 + "…'"),  # longer: cut to the width, ellipsis included
        ("abcdef", 4, "'abc…'"),
    ],
)
def test_a_cell_shown_in_a_message_is_cut_to_its_width(cell: str, width: int, text: str) -> None:
    assert shown(cell, width) == text


def test_a_cell_is_shown_up_to_60_characters_by_default() -> None:
    assert shown("y" * 61) == "'" + "y" * 59 + "…'"


@pytest.mark.parametrize(
    ("t", "text"),
    [
        (math.nan, "not a number"),
        (315_532_800.0, "year 1980"),
        (-1.0, "year 1969"),
        (315_569_520_000.0, "year 11970"),  # beyond year 9999: in mean Gregorian years (10,000 of them)
        (1e15, "year 31690708"),
        (1e15 + 1, "far outside any calendar"),
        (-1e16, "far outside any calendar"),
    ],
)
def test_the_year_of_a_time_for_messages(t: float, text: str) -> None:
    assert year_of(t) == text


@pytest.mark.parametrize(
    ("cells", "unit"),
    [
        (["1704153600"], 1.0),
        (["1704153600000"], 1e3),
        (["1704153600000000"], 1e6),
        (["1704153600000000000"], 1e9),
        (["2024-01-02T00:00:00"], None),
        (["1/2/2024 10:00"], None),
    ],
)
def test_a_plain_number_format_divides_its_cell_by_its_unit(cells: list[str], unit: float | None) -> None:
    assert unit_of(chosen(*cells)) == unit


def test_elapsed_seconds_are_plain_numbers_and_elapsed_clock_times_are_not() -> None:
    assert (unit_of(ELAPSED_SECONDS), unit_of(ELAPSED_CLOCK), unit_of(ISO)) == (1.0, None, None)
