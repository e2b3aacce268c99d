"""How :func:`hrviz.core.reader.sniff.sniff` reads a file's layout from its first lines, edge by edge:
the delimiter, the header, the heart-rate column by content, the time column(s), and the exact
words of each refusal (users read those)."""

from __future__ import annotations

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader.sniff import EXPECTED, Layout, sniff

T0, T1, T2 = "2024-01-01 00:00:00", "2024-01-01 00:00:01", "2024-01-01 00:00:02"


def layout(text: str) -> Layout:
    return sniff(text.splitlines(keepends=True), "t.csv", 1.0)


def refusal(text: str | list[str]) -> str:
    lines = text.splitlines(keepends=True) if isinstance(text, str) else text
    with pytest.raises(InputError) as err:
        sniff(lines, "t.csv", 1.0)
    return str(err.value)


# --- the delimiter ---------------------------------------------------------------------------------------

DELIMITERS = [
    ("a ';' inside a text cell of a comma file", f"time,bpm,note\n{T0},60,ok\n{T1},61,a;b\n", ","),
    ("a file of one row is split too", f"{T0};60\n", ";"),
    ("decimal commas: ';' ties with ',' and wins", f"{T0};72,5\n{T1};73,5\n", ";"),
    ("tabs", f"time\tbpm\n{T0}\t60\n", "\t"),
    ("pipes", f"time|bpm\n{T0}|60\n", "|"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in DELIMITERS], ids=[c[0] for c in DELIMITERS])
def test_delimiter(text: str, expected: str) -> None:
    assert layout(text).delimiter == expected


def test_a_delimiter_that_makes_a_field_over_the_csv_limit_is_passed_over() -> None:
    """Split by ';' the long line is one field over the csv module's limit (131,072): ';' is not it,
    and the candidates after it are still tried."""
    note = "x" * 70_000
    found = layout(f"time\tbpm\tnote\n{T0}\t60\t{note}\t{note}\n{T1}\t61\tok\n")
    assert (found.delimiter, found.hr_col, found.columns) == ("\t", 1, ["time", "bpm", "note", "column 4"])


# --- Empatica E4 ------------------------------------------------------------------------------------------


def test_an_e4_file_is_one_value_column_at_its_rate_from_its_start() -> None:
    assert layout("1644227584.0\n4.0\n70\n71\n") == Layout(
        ",", 2, 0, ["value"], start=1644227584.0, interval=0.25, tz_offset_min=0
    )


# --- refusals, word for word -------------------------------------------------------------------------------

REFUSALS = [
    ("blank lines only", "\n  \n\n", "t.csv: empty file: no data rows"),
    ("empty fields only", ",,\n , \n", "t.csv: empty file: no data rows (only blank lines and empty fields)"),
    ("a header and nothing under it", "\n\ntime,bpm\n", "t.csv, line 3: header only: no data rows after the header"),
    (
        "no header, no column of heart rates",
        f"{T0},abc,300\n{T1},def,310\n",
        f"t.csv, line 1: no heart-rate column found: columns are column 1 (e.g. '{T0}'), column 2 (e.g. 'abc'), "
        f"column 3 (e.g. '300') (no header) ({EXPECTED})",
    ),
    (
        "a header of unknown names over numbers out of range",
        f"\ntime,speed\n{T0},300\n{T1},310\n",
        f"t.csv, line 2: no heart-rate column found: columns are 'time', 'speed' ({EXPECTED})",
    ),
    (
        "a named time column empty in every row",
        "bpm,time\n60\n61,\n",
        "t.csv, line 2: the time column 'time' is empty in every row read",
    ),
    (
        "two rows under 'bpm', one of them a typo: not most, so no named header",
        f"time,bpm\n{T0},oops\n{T1},60\n",
        f"t.csv, line 1: no heart-rate column found: columns are 'time', 'bpm' ({EXPECTED})",
    ),
    (
        "an unreadable time, under a row cut short before it",
        "bpm,time\n60\n61,soon\n62,later\n",
        "t.csv, line 3: cannot read the time 'soon' in column 'time'",
    ),
    (
        "1,001 fields in a row",
        "time,bpm\n" + ",".join(["1"] * 1001) + "\n",
        "t.csv, line 2: 1,001 fields in one row: not a heart-rate table (at most 1,000)",
    ),
    (
        "a runaway quote: the record that starts on line 3 never ends",
        "time,bpm\n" + f"{T0},60\n" + '"note\n' + ("x" * 1000 + "\n") * 140,
        "t.csv, line 3: malformed CSV: a field longer than 131,072 characters",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refusal(text: str, expected: str) -> None:
    assert refusal(text) == expected


def test_a_row_of_1000_fields_is_still_a_table() -> None:
    found = layout(f"time,bpm\n{T0},60," + ",".join(["1"] * 998) + "\n")
    assert (found.hr_col, len(found.columns), found.columns[:3], found.columns[-1]) == (
        1,
        1000,
        ["time", "bpm", "column 3"],
        "column 1000",
    )


# --- the header -------------------------------------------------------------------------------------------

HEADERS: list[tuple[str, str, int, list[str], int]] = [
    # (id, file, data_index, columns, hr_col)
    ("no header: columns are numbered", f"{T0},60\n{T1},61\n", 0, ["column 1", "column 2"], 1),
    (
        "rows wider than the header: the rest numbered",
        f"time,bpm\n{T0},60,7,8\n",
        1,
        ["time", "bpm", "column 3", "column 4"],
        1,
    ),
    ("a header of unknown words above one row", f"a,b\n{T0},60\n", 1, ["a", "b"], 1),
    (
        "a space, then a quoted name holding the delimiter",
        f'time, "heart rate, bpm"\n{T0}, 72\n',
        1,
        ["time", "heart rate, bpm"],
        1,
    ),
    (
        "a preamble line naming HR above text is not the header",
        f"Sensor,HR\nBrand,Polar\ntime,bpm\n{T0},60\n{T1},61\n",
        3,
        ["time", "bpm"],
        1,
    ),
    (
        "the header is judged on the three rows under it: 2 of them values is most ('n.a.' is no value)",
        f"time,bpm\n{T0},60\n{T1},n.a.\n{T2},62\n2024-01-01 00:00:03,n.a.\n2024-01-01 00:00:04,n.a.\n",
        1,
        ["time", "bpm"],
        1,
    ),
    (
        "a units row under the names is the header: it names bpm right above the numbers",
        "Time,HR\ns,bpm\n1,60\n2,61\n3,62\n",
        2,
        ["s", "bpm"],
        1,
    ),
    (
        "decimal commas under a named header (another column reads as heart rates)",
        "cadence;bpm\n80;72,5\n81;73,5\n82;74,5\n",
        1,
        ["cadence", "bpm"],
        1,
    ),
]


@pytest.mark.parametrize(
    ("text", "data_index", "columns", "hr_col"), [c[1:] for c in HEADERS], ids=[c[0] for c in HEADERS]
)
def test_header(text: str, data_index: int, columns: list[str], hr_col: int) -> None:
    found = layout(text)
    assert (found.data_index, found.columns, found.hr_col) == (data_index, columns, hr_col)


def test_the_sample_is_the_200_rows_under_the_header() -> None:
    """The layout is chosen from 200 rows: a wider row 200 counts, a wider row 201 does not."""
    rows = [f"{i},60" for i in range(1, 200)] + ["200,60,1", "201,60,1,2"]
    assert layout("time,bpm\n" + "\n".join(rows) + "\n").columns == ["time", "bpm", "column 3"]


# --- the heart-rate column by content (no name to go by) -----------------------------------------------

BY_CONTENT: list[tuple[str, str, int | None]] = [
    ("25 bpm is a heart rate", "x,25\ny,25\nz,25\n", 1),
    ("250 bpm is a heart rate", "x,250\ny,250\nz,250\n", 1),
    ("60 % of the cells from 25 to 250 is enough", "x,60\ny,61\nz,62\nw,300\nv,300\n", 1),
    ("a third is not (a power column)", "x,60\ny,300\nz,300\n", None),
    ("80 % numbers is enough", "x,60\ny,61\nz,62\nw,63\nv,n.a.\n", 1),
    ("75 % numbers is not", "x,60\ny,61\nz,62\nw,n.a.\n", None),
    ("decimal commas", f"{T0};72,5\n{T1};73,5\n", 1),
    ("two columns alike: the first", "60,70\n61,71\n", 0),
    ("the better of two", "60,70\n61,71\n300,72\n", 1),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BY_CONTENT], ids=[c[0] for c in BY_CONTENT])
def test_heart_rate_by_content(text: str, expected: int | None) -> None:
    if expected is None:
        assert "no heart-rate column found" in refusal(text)
    else:
        assert layout(text).hr_col == expected


# --- the time column(s) ----------------------------------------------------------------------------------

TIMES: list[tuple[str, str, tuple[int, ...], str | None, int | None]] = [
    # (id, file, time_cols, format name, tz_offset_min)
    ("by name", f"bpm,time\n60,{T0}\n", (1,), "ISO-8601", None),
    ("Date and Time columns joined", "Date,Time,HR\n2024-01-01,10:00:00,60\n", (0, 1), "ISO-8601", None),
    (
        "Date and Time joined past a row cut after its date",
        "Date,Time,HR\n2024-01-01,10:00:00,60\n2024-01-01\n2024-01-01,10:00:02,62\n",
        (0, 1),
        "ISO-8601",
        None,
    ),
    (
        "a US date and an AM/PM time of day",
        "Date,Time,HR\n1/2/2024,10:00 AM,60\n1/2/2024,1:30 PM,61\n",
        (0, 1),
        "M/D/YYYY h:mm:ss [AM/PM]",
        None,
    ),
    (
        "a time of day with its UTC offset",
        "Date,Time,HR\n2024-01-02,10:00:00+02:00,60\n2024-01-02,10:00:05+02:00,61\n",
        (0, 1),
        "ISO-8601",
        120,
    ),
    (
        "the offset of the first row that has a time",
        "bpm,time\n60\n61,2024-01-01T00:00:00+01:00\n62,2024-01-01T00:00:01+01:00\n",
        (1,),
        "ISO-8601",
        60,
    ),
    (
        "dates and times never on one row: joined, no offset to read",
        "Date,Time,HR\n2024-01-01,,60\n2024-01-01,,61\n2024-01-01,,62\n2024-01-01,,63\n,10:00:00,64\n",
        (0, 1),
        "ISO-8601",
        None,
    ),
    ("no name: by content", f"{T0},60\n{T1},61\n", (0,), "ISO-8601", None),
    ("unix seconds are UTC", "ts,bpm\n1644227584,60\n", (0,), "unix seconds", 0),
    ("no time at all", "bpm\n60\n61\n", (), None, None),
]


@pytest.mark.parametrize(("text", "time_cols", "name", "offset"), [c[1:] for c in TIMES], ids=[c[0] for c in TIMES])
def test_time_columns(text: str, time_cols: tuple[int, ...], name: str | None, offset: int | None) -> None:
    found = layout(text)
    fmt = found.time_format
    assert (found.time_cols, fmt.name if fmt else None, found.tz_offset_min) == (time_cols, name, offset)


def test_a_subject_column_is_neither_time_nor_heart_rate() -> None:
    found = layout("user,bpm\n1700000001,60\n1700000002,61\n1700000001,62\n")
    assert (found.subject_col, found.hr_col, found.time_cols) == (0, 1, ())


# --- long files: one metric per row ------------------------------------------------------------------------


def test_a_row_cut_short_before_its_metric_type_is_left_out_of_the_sample() -> None:
    found = layout(
        "2019-10-16T12:08:58+02:00;STEPS;299\n2019-10-16T12:08:59+02:00\n2019-10-16T12:09:00+02:00;HEART_RATE;79\n"
    )
    assert (found.type_col, found.hr_col, found.time_cols, found.tz_offset_min) == (1, 2, (0,), 120)
