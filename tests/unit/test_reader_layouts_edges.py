"""The device layouts of :mod:`hrviz.core.reader.layouts`, edge by edge: the Empatica E4 header's
bounds, the start times found in a preamble (Wahoo's key/value line, Polar Flow's summary table)
and the metric-type column of long files."""

from __future__ import annotations

from datetime import datetime

import pytest

from hrviz.core.reader.layouts import e4_header, find_start, find_type_column


def E(text: str) -> float:
    """A naive wall time as the epoch seconds the reader stores for it (wall time taken as UTC)."""
    return (datetime.fromisoformat(text) - datetime(1970, 1, 1)).total_seconds()


# --- Empatica E4 HR.csv: line 1 the start (unix s), line 2 the rate (Hz), then the values -------------

E4_CASES: list[tuple[str, list[str], tuple[float, float, int] | None]] = [
    ("plain", ["1644227584.0", "4.0", "70", "71"], (1644227584.0, 4.0, 2)),
    ("start and rate only: the values would start on the next line", ["1644227584", "4"], (1644227584.0, 4.0, 2)),
    (
        "blank lines are skipped, the index is the first value's line",
        ["1644227584", "", "4", "", "70", "71"],
        (1644227584.0, 4.0, 4),
    ),
    ("trailing commas (a spreadsheet's export)", ["1644227584.0,", "1.0,", "70,"], (1644227584.0, 1.0, 2)),
    # the start must be a unix time of 1973-03-03 (1e8 s) up to, not including, 1e11 s
    ("start 1e8 is the earliest", ["100000000", "1", "70"], (1e8, 1.0, 2)),
    ("start just under 1e8", ["99999999", "1", "70"], None),
    ("start 1e11 is too late", ["100000000000", "1", "70"], None),
    ("start just under 1e11", ["99999999999", "1", "70"], (99999999999.0, 1.0, 2)),
    # the rate: over 0 Hz, at most 1000 Hz
    ("rate 0", ["1644227584", "0", "70"], None),
    ("rate 1000 Hz is the most", ["1644227584", "1000", "70"], (1644227584.0, 1000.0, 2)),
    ("rate 1001 Hz", ["1644227584", "1001", "70"], None),
    ("rate 1000.5 Hz", ["1644227584", "1000.5", "70"], None),
    # a third unix time: E4's tags.csv (one unix time a line), not a heart-rate file
    ("tags.csv: the third line a unix time", ["1644227584", "1", "1644227590"], None),
    ("a third line of exactly 1e8 is a unix time", ["1644227584", "1", "100000000"], None),
    ("a third line just under 1e8 is a value", ["1644227584", "1", "99999999"], (1644227584.0, 1.0, 2)),
    # anything that is not a number on a line of its own is another layout
    ("one line only", ["1644227584"], None),
    ("a CSV header", ["time,bpm", "1644227584,70"], None),
    ("a CSV row of two numbers", ["1644227584,70", "1644227585,71"], None),
    ("semicolons", ["1644227584;70", "1644227585;71"], None),
    ("tabs", ["1644227584\t70", "1644227585\t71"], None),
    ("a unit after the rate", ["1644227584", "4X", "70"], None),
    ("a later line that is text", ["1644227584", "4", "HR"], None),
]


@pytest.mark.parametrize(("lines", "expected"), [c[1:] for c in E4_CASES], ids=[c[0] for c in E4_CASES])
def test_e4_header(lines: list[str], expected: tuple[float, float, int] | None) -> None:
    assert e4_header(lines) == expected


def test_e4_header_looks_at_three_numbers_only() -> None:
    """Only the start, the rate and the first value are checked: a unix time further down is a value
    (to the header), and the first value's line is where the blank lines above it end."""
    assert e4_header(["1644227584", "4", "", "70", "1644227590", "oops"]) == (1644227584.0, 4.0, 3)


# --- start times in a preamble ------------------------------------------------------------------------

START_CASES: list[tuple[str, list[list[str]], float | None]] = [
    (
        "wahoo: every key",
        [["Year", "2016", "Month", "10", "Day", "7", "Hour", "17", "Minute", "24", "Second", "2"]],
        E("2016-10-07 17:24:02"),
    ),
    (
        "wahoo: year, month and day alone are midnight",
        [["Year", "2016", "Month", "10", "Day", "7"]],
        E("2016-10-07 00:00:00"),
    ),
    (
        "wahoo: an empty hour is 0",
        [["Year", "2016", "Month", "10", "Day", "7", "Hour", "", "Minute", "24"]],
        E("2016-10-07 00:24:00"),
    ),
    ("wahoo: no day is no start", [["Year", "2016", "Month", "10", "Hour", "17"]], None),
    ("wahoo: a value that is not a number", [["Year", "2016", "Month", "ten", "Day", "7"]], None),
    ("wahoo: no such date", [["Year", "2016", "Month", "2", "Day", "30"]], None),
    (
        "wahoo: cells pair up as key, value (a key word in a value's place stays a value)",
        [["Year", "2016", "Month", "10", "Day", "7", "Second", "2", "Split", "Day", "Laps", "3"]],
        E("2016-10-07 00:00:02"),
    ),
    (
        "polar: Date and Start time columns",
        [["Name", "Sport", "Date", "Start time", "Duration"], ["Jo", "RUNNING", "06.09.2015", "10:01:07", "02:16:08"]],
        E("2015-09-06 10:01:07"),
    ),
    ("summary: a date alone is midnight", [["Date", "Sport"], ["06.09.2015", "RUNNING"]], E("2015-09-06 00:00:00")),
    (
        "summary: 'Start date' and 'Start' columns",
        [["Start date", "Start"], ["2015-09-06", "10:01:07"]],
        E("2015-09-06 10:01:07"),
    ),
    ("summary: 'Day' and 'Time' columns", [["Day", "Time"], ["2015-09-06", "10:01:07"]], E("2015-09-06 10:01:07")),
    (
        "summary: the start time before the date",
        [["Start time", "Date"], ["10:01:07", "2015-09-06"]],
        E("2015-09-06 10:01:07"),
    ),
    (
        "summary: the first date column wins",
        [["Date", "Day", "Start"], ["2015-09-06", "2015-09-07", "10:00:00"]],
        E("2015-09-06 10:00:00"),
    ),
    (
        "summary: a start time holding date and time",
        [["Start time", "Sport"], ["2015-09-06 10:01:07", "RUNNING"]],
        E("2015-09-06 10:01:07"),
    ),
    (
        "summary: a start time that is neither",
        [["Date", "Start time"], ["2015-09-06", "soon"]],
        E("2015-09-06 00:00:00"),
    ),
    (
        "summary: a value row shorter than its header",
        [["Date", "Start time", "Note"], ["2015-09-06", "10:01:07"]],
        E("2015-09-06 10:01:07"),
    ),
    ("summary: the date column past the value row's end", [["Name", "Date"], ["Jo"]], None),
    ("summary: no date column", [["Start time", "Sport"], ["10:01:07", "RUNNING"]], None),
    (
        "summary: the table below a line of notes",
        [["Export", "v2"], ["Date", "Start time"], ["06.09.2015", "10:01:07"], ["Note", "x"]],
        E("2015-09-06 10:01:07"),
    ),
    (
        "summary: the header and values at the top, notes below",
        [["Date", "Start time"], ["06.09.2015", "10:01:07"], ["Note", "x"]],
        E("2015-09-06 10:01:07"),
    ),
    ("no preamble", [], None),
    ("a preamble with no start", [["Device", "fisica"], ["Sensor", "TICKR"]], None),
    ("a last row never is a summary header (nothing below it)", [["Device", "fisica"], ["Date"]], None),
]


@pytest.mark.parametrize(("rows", "expected"), [c[1:] for c in START_CASES], ids=[c[0] for c in START_CASES])
def test_find_start(rows: list[list[str]], expected: float | None) -> None:
    assert find_start(rows) == expected


# --- the metric-type column of long files (one metric per row) ----------------------------------------

TYPE_CASES: list[tuple[str, list[list[str]], set[int], int | None]] = [
    ("after the time column", [["2024-01-01", "HEART_RATE", "70"], ["2024-01-02", "STEPS", "9"]], set(), 1),
    ("after a numeric column", [["1", "HEART_RATE", "70"], ["2", "STEPS", "9"]], set(), 1),
    ("an excluded column is passed over", [["HEART_RATE", "HEART_RATE", "70"]], {0}, 1),
    ("rows of different lengths", [["x", "STEPS"], ["x"], ["y", "HEART_RATE", "70"]], set(), 1),
    ("a column of numbers is never the type column", [["HEART_RATE", "x"], ["70", "HEART_RATE"]], set(), 1),
    ("empty cells are not looked at", [["", "STEPS"], ["", "HEART_RATE"]], set(), 1),
    ("text, but no cell names heart rate", [["STEPS", "70"], ["SLEEP", "71"]], set(), None),
    ("no rows", [], set(), None),
]


@pytest.mark.parametrize(("rows", "exclude", "expected"), [c[1:] for c in TYPE_CASES], ids=[c[0] for c in TYPE_CASES])
def test_find_type_column(rows: list[list[str]], exclude: set[int], expected: int | None) -> None:
    assert find_type_column(rows, exclude) == expected
