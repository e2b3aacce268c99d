"""The live reader (core/reader/lines.py) line by line: what is held, how lines are numbered, which
line is a sample, which is skipped, which is a bad row and with which words (users read those)."""

from __future__ import annotations

import math

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader.lines import MAX_LINE, SNIFF_LINES, BadRow, LineReader, Parsed

T0 = 1714557600.0  # 2024-05-01T10:00:00Z


def feed(lines: list[str], **kw: object) -> tuple[LineReader, list[list[Parsed]]]:
    reader = LineReader("live.csv", **kw)  # type: ignore[arg-type]
    return reader, [reader.line(line) for line in lines]


def flat(out: list[list[Parsed]]) -> list[Parsed]:
    """Samples as (ts, bpm) with NaN written as the string 'nan' (NaN != NaN), bad rows as they are."""
    return [("nan" if isinstance(p, tuple) and math.isnan(p[1]) else p) for chunk in out for p in chunk]  # type: ignore[misc]


def refused(lines: list[str], **kw: object) -> str:
    reader = LineReader("live.csv", **kw)  # type: ignore[arg-type]
    with pytest.raises(InputError) as err:
        for line in lines:
            reader.line(line)
    return str(err.value)


def test_a_new_reader_knows_nothing_yet() -> None:
    reader = LineReader("live.csv", 0.5, "ann")
    assert (reader.source, reader.interval, reader.subject) == ("live.csv", 0.5, "ann")
    assert (reader.layout, reader.tz_offset_min) == (None, None)
    assert (reader.lines, reader.rows, reader.duplicates) == (0, 0, 0)
    assert reader.last == -math.inf and reader.after == -math.inf


# (case, lines fed, what each line gave). Line numbers count every line read, blank ones included.
HOLDING = [
    (
        "blank lines before the header are counted, not held",
        ["\n", "\n", "timestamp,bpm\n", "2024-05-01T10:00:00Z,70\n", "junk,71\n"],
        [[], [], [], [(T0, 70.0)], [BadRow(5, "cannot read the time 'junk' in column 'timestamp'")]],
    ),
    (
        "a blank line between the header and the data is held and numbered",
        ["timestamp,bpm\n", "\n", "2024-05-01T10:00:00Z,70\n", "junk,71\n"],
        [[], [], [(T0, 70.0)], [BadRow(4, "cannot read the time 'junk' in column 'timestamp'")]],
    ),
    (
        "a line without its break yet is a line",
        ["timestamp,bpm", "2024-05-01T10:00:00Z,70", "2024-05-01T10:00:01Z,71"],
        [[], [(T0, 70.0)], [(T0 + 1, 71.0)]],
    ),
    (
        "a preamble (Polar Flow) is held with the header; the samples come with the first data line",
        [
            "Name,Sport,Date,Start time,Duration\n",
            "Ann,RUNNING,01-05-2024,10:00:00,00:10:00\n",
            "\n",
            "Sample rate,Time,HR (bpm)\n",
            "1,00:00:00,70\n",
            "1,00:00:01,71\n",
            "1,00:00:0x,72\n",
        ],
        [
            [],
            [],
            [],
            [],
            [(T0, 70.0)],
            [(T0 + 1, 71.0)],
            [BadRow(7, "cannot read the time '00:00:0x' in column 'Time'")],
        ],
    ),
    (
        "headerless values: one per interval from 0, a repeated value is a reading",
        ["70\n", "70\n", "71\n"],
        [[(0.0, 70.0)], [(1.0, 70.0)], [(2.0, 71.0)]],
    ),
    (
        "a header whose data line has no value: that line is the header",
        ["2024-05-01T10:00:00Z,\n", "2024-05-01T10:00:01Z,71\n", "2024-05-01T10:00:02Z,72\n"],
        [[], [(T0 + 1, 71.0)], [(T0 + 2, 72.0)]],
    ),
]


@pytest.mark.parametrize("lines, expected", [c[1:] for c in HOLDING], ids=[c[0] for c in HOLDING])
def test_lines_are_held_until_the_layout_is_known_then_each_gives_its_samples(
    lines: list[str], expected: list[list[Parsed]]
) -> None:
    reader, out = feed(lines)
    assert out == expected
    assert reader.lines == len(lines)


def test_held_lines_come_out_in_order_with_their_own_numbers() -> None:
    """A data line with no value cannot tell the columns: it is held, then read with the next one."""
    lines = ["\n", "2024-05-01T10:00:00Z,\n", "\n", "2024-05-01T10:00:01Z,\n", "2024-05-01T10:00:02Z,72\n"]
    reader, out = feed(lines)
    assert out[:4] == [[], [], [], []]
    assert flat(out) == ["nan", (T0 + 2, 72.0)]  # the first line became the header
    assert reader.layout is not None and reader.layout.data_index == 2


def test_a_file_that_never_shows_its_columns_is_refused_after_the_sniffing_window() -> None:
    held = ["timestamp,bpm\n"] + [",70\n"] * (SNIFF_LINES - 2)
    reader, out = feed(held)
    assert out == [[]] * (SNIFF_LINES - 1) and reader.layout is None
    with pytest.raises(InputError) as err:
        reader.line(",71\n")
    assert str(err.value) == "live.csv, line 2: the time column 'timestamp' is empty in every row read"


def test_several_subjects_without_a_choice_are_refused_at_the_header() -> None:
    lines = ["\n", "time,user,bpm\n", "2024-05-01T10:00:00Z,ann,70\n"]
    assert refused(lines) == "live.csv, line 2: live input holds several subjects: choose one with --subject"


def test_the_chosen_subject_only_and_rows_of_others_or_of_nobody_are_skipped() -> None:
    lines = [
        "time,user,bpm\n",
        "2024-05-01T10:00:00Z,ann,70\n",
        "2024-05-01T10:00:01Z, bob ,71\n",
        "2024-05-01T10:00:02Z\n",  # no subject cell
        "2024-05-01T10:00:03Z,bob,72\n",
    ]
    reader, out = feed(lines, subject="bob")
    assert out == [[], [], [(T0 + 1, 71.0)], [], [(T0 + 3, 72.0)]]
    assert reader.rows == 2


def test_the_subject_column_may_end_the_line() -> None:
    lines = ["time,bpm,user\n", "2024-05-01T10:00:00Z,70,ann\n", "2024-05-01T10:00:01Z,71,REX\r\n"]
    assert flat(feed(lines, subject="REX")[1]) == [(T0 + 1, 71.0)]


def test_rows_without_a_subject_cell_are_the_unnamed_subject() -> None:
    """As in a file: a row too short to name its subject, or naming none, belongs to subject ''."""
    lines = ["time,user,bpm\n", "2024-05-01T10:00:00Z,ann,70\n", "2024-05-01T10:00:01Z\n", "2024-05-01T10:00:02Z,,72\n"]
    assert flat(feed(lines, subject="")[1]) == ["nan", (T0 + 2, 72.0)]


def test_the_chosen_subject_s_first_row_is_judged_against_the_file_s_first_row() -> None:
    """The offset comes from the file's first data row, whoever's it is (as in a file)."""
    lines = ["time,user,bpm\n", "2024-05-01T10:00:00Z,ann,70\n", "2024-05-01T10:00:01,bob,71\n"]
    assert refused(lines, subject="bob") == (
        "live.csv, line 3: the time '2024-05-01T10:00:01' in column 'time' of the first data row "
        "has no UTC offset, unlike the first data row"
    )


def test_a_mixed_metric_log_gives_its_heart_rate_rows_only() -> None:
    lines = [
        "time,type,value\n",
        "2024-05-01T10:00:00Z,heart_rate,70\n",
        "2024-05-01T10:00:01Z,steps,12\n",
        "2024-05-01T10:00:02Z\n",  # no type cell
        "2024-05-01T10:00:03Z,HR,72\n",
    ]
    reader, out = feed(lines)
    assert out == [[], [(T0, 70.0)], [], [], [(T0 + 3, 72.0)]]
    assert reader.rows == 2


# (case, delimiter's header, the value cell as written, the bpm read; None = a missing reading)
VALUES = [
    ("a number", "timestamp,bpm", "72", 72.0),
    ("a fraction under 1 is still a value", "timestamp,bpm", "0.5", 0.5),
    ("zero is a paused sensor", "timestamp,bpm", "0", None),
    ("a negative sentinel", "timestamp,bpm", "-1", None),
    ("infinity", "timestamp,bpm", "inf", None),
    ("not a number", "timestamp,bpm", "nan", None),
    ("text", "timestamp,bpm", "n/a", None),
    ("blank", "timestamp,bpm", "", None),
    ("quoted after a space", "timestamp,bpm", ' "73"', 73.0),
    ("a decimal comma", "timestamp;bpm", "72,5", 72.5),
    ("a decimal comma on zero", "timestamp;bpm", "0,0", None),
]


@pytest.mark.parametrize("header, cell, bpm", [c[1:] for c in VALUES], ids=[c[0] for c in VALUES])
def test_the_value_cell(header: str, cell: str, bpm: float | None) -> None:
    sep = header[9]
    reader, out = feed([header + "\n", f"2024-05-01T10:00:00Z{sep}70\n", f"2024-05-01T10:00:01Z{sep}{cell}\n"])
    assert flat(out[2:]) == ([(T0 + 1, bpm)] if bpm is not None else ["nan"])
    assert reader.rows == 2 and reader.last == T0 + 1  # a missing reading is still a row: filled later


def test_a_row_without_the_value_column_is_a_missing_reading() -> None:
    reader, out = feed(["time,x,bpm\n", "2024-05-01T10:00:00Z,a,70\n", "2024-05-01T10:00:01Z,a\n"])
    assert flat(out) == [(T0, 70.0), "nan"]


def test_order_duplicates_and_a_resumed_session() -> None:
    reader = LineReader("live.csv")
    reader.after = T0 + 1  # stored already up to 10:00:01
    lines = [
        ("timestamp,bpm\n", []),
        ("2024-05-01T10:00:00Z,70\n", []),  # stored already
        ("2024-05-01T10:00:01Z,71\n", []),  # stored already, to the second
        ("2024-05-01T10:00:03Z,73\n", [(T0 + 3, 73.0)]),
        ("2024-05-01T10:00:03Z,74\n", []),  # the same time again: a duplicate, the first kept
        ("2024-05-01T10:00:03Z,75\n", []),
        ("2024-05-01T10:00:02Z,72\n", [BadRow(7, "goes back in time (a live session only moves forward)")]),
        ("2024-05-01T10:00:04Z,76\n", [(T0 + 4, 76.0)]),
    ]
    assert [reader.line(text) for text, _ in lines] == [want for _, want in lines]
    assert (reader.rows, reader.duplicates, reader.last) == (4, 2, T0 + 4)  # rows before de-duplication, as a file's


def test_a_replaced_file_that_repeats_the_header_does_not_make_it_a_row() -> None:
    """Also when a blank line stands between the header and the data (it was taken for the header)."""
    for head in (["timestamp,bpm\n"], ["timestamp,bpm\n", "\n"]):
        reader, out = feed([*head, "2024-05-01T10:00:00Z,70\n", " timestamp,bpm \r\n", "2024-05-01T10:00:01Z,71\n"])
        assert flat(out) == [(T0, 70.0), (T0 + 1, 71.0)]
        assert reader.line("timestamp,bpm,x\n") == [
            BadRow(len(head) + 4, "cannot read the time 'timestamp' in column 'timestamp'")
        ]


def test_a_headerless_file_has_no_header_to_skip() -> None:
    reader, out = feed(["2024-05-01T10:00:00Z,70\n", "2024-05-01T10:00:01Z,71\n"])
    assert flat(out) == [(T0, 70.0), (T0 + 1, 71.0)]
    assert reader.line("2024-05-01T10:00:00Z,70\n") == [
        BadRow(3, "goes back in time (a live session only moves forward)")
    ]


# (case, lines, what they gave, tz_offset_min) for every way of telling the time
TIMES = [
    (
        "ISO with Z",
        ["timestamp,bpm\n", "2024-05-01T10:00:00Z,70\n", "2024-05-01T12:00:01+02:00,71\n"],
        [(T0, 70.0), (T0 + 1, 71.0)],
        0,
    ),
    (
        "ISO with an offset, then none",
        ["timestamp,bpm\n", "2024-05-01T12:00:00+02:00,70\n", "2024-05-01T12:00:01,71\n"],
        [
            (T0, 70.0),
            BadRow(
                3,
                "the time '2024-05-01T12:00:01' in column 'timestamp' has no UTC offset, unlike the first data row",
            ),
        ],
        120,
    ),
    (
        "naive ISO, then an offset",
        ["timestamp,bpm\n", "2024-05-01T10:00:00,70\n", "2024-05-01T10:00:01Z,71\n", "2024-05-01T10:00:02,72\n"],
        [
            (T0, 70.0),
            BadRow(
                3,
                "the time '2024-05-01T10:00:01Z' in column 'timestamp' has a UTC offset, unlike the first data row",
            ),
            (T0 + 2, 72.0),
        ],
        None,
    ),
    (
        "unix seconds (never compared as ISO)",
        ["time,bpm\n", "1714557600,70\n", "1714557601,71\n"],
        [(T0, 70.0), (T0 + 1, 71.0)],
        0,
    ),
    (
        "a time-of-day column before the date column",
        ["time,date,bpm\n", "10:00:00,2024-05-01,70\n", " 10:00:01 , 2024-05-01 ,71\n", "10:00:0x,2024-05-01,72\n"],
        [(T0, 70.0), (T0 + 1, 71.0), BadRow(4, "cannot read the time '2024-05-01 10:00:0x' in column 'date' + 'time'")],
        None,
    ),
    (
        "a date column then a time-of-day column",
        ["date;time;hr\n", "01.05.2024;10:00:00;70\n", "01.05.2024;10:00:01;71\n"],
        [(T0, 70.0), (T0 + 1, 71.0)],
        None,
    ),
    (
        "elapsed time from 00:00:00 (0 is a time)",
        ["time,bpm\n", "00:00:00,70\n", "00:00:01,71\n"],
        [(0.0, 70.0), (1.0, 71.0)],
        None,
    ),
    (
        "the earliest and the latest plausible times",
        [
            "timestamp,bpm\n",
            "1980-01-01T00:00:00Z,70\n",
            "1979-12-31T23:59:59Z,71\n",
            "2099-12-31T23:59:59Z,72\n",
            "2100-01-01T00:00:00Z,73\n",
        ],
        [
            (315532800.0, 70.0),
            BadRow(
                3,
                "the time '1979-12-31T23:59:59Z' in column 'timestamp' is out of range "
                "(year 1979; times must fall in 1980–2099)",
            ),
            (4102444799.0, 72.0),
            BadRow(
                5,
                "the time '2100-01-01T00:00:00Z' in column 'timestamp' is out of range "
                "(year 2100; times must fall in 1980–2099)",
            ),
        ],
        0,
    ),
    (
        "unix milliseconds in a seconds stream",
        ["time,bpm\n", "1714557600,70\n", "1714557601000,71\n"],
        [
            (T0, 70.0),
            BadRow(
                3,
                "the time '1714557601000' in column 'time' is out of range "
                "(read as unix seconds, year 56302; times must fall in 1980–2099)",
            ),
        ],
        0,
    ),
    (
        "a row shorter than the time column",
        ["bpm,x,time\n", "70,a,2024-05-01T10:00:00Z\n", "71,a\n"],
        [(T0, 70.0), BadRow(3, "cannot read the time '' in column 'time'")],
        0,
    ),
]


@pytest.mark.parametrize("lines, expected, offset", [c[1:] for c in TIMES], ids=[c[0] for c in TIMES])
def test_the_time_cell(lines: list[str], expected: list[Parsed], offset: int | None) -> None:
    reader, out = feed(lines)
    assert flat(out) == expected
    assert reader.tz_offset_min == offset


def test_lines_without_times_are_spaced_by_the_interval_from_the_start() -> None:
    reader, out = feed(["bpm\n", "70\n", "\n", "x\n", "72\n"], interval=0.5)
    assert flat(out) == [(0.0, 70.0), "nan", (1.0, 72.0)]  # "x" is a missing reading at 0.5
    assert out[3][0][0] == 0.5  # type: ignore[index]
    assert reader.rows == 3


def test_lines_without_times_past_2099_are_bad_rows() -> None:
    reader, out = feed(["bpm\n", "70\n", "71\n", "72\n", "73\n", "74\n"], interval=1e9)
    assert flat(out) == [(0.0, 70.0), (1e9, 71.0), (2e9, 72.0), (3e9, 73.0), (4e9, 74.0)]  # 4e9: in 2096
    why = "the time of reading falls in year 2128, after 2099 (from the start plus the interval)"
    assert reader.line("75\n") == [BadRow(7, why)]
    assert reader.rows == 5


def test_a_first_data_row_with_an_unreadable_time_is_refused_as_in_a_file() -> None:
    """It sets the stream's UTC offset: read past, every later row would be judged against nothing."""
    lines = ["timestamp,bpm\n", ",70\n", "2024-05-01T10:00:01Z,71\n"]
    assert refused(lines) == "live.csv, line 2: cannot read the time '' in column 'timestamp' of the first data row"
    before = ["timestamp,bpm\n", "1979-12-31T23:59:59Z,70\n"]
    assert refused(before) == (
        "live.csv, line 2: the time '1979-12-31T23:59:59Z' in column 'timestamp' of the first data row "
        "is out of range (year 1979; times must fall in 1980–2099)"
    )


def test_a_row_that_is_not_csv_is_a_bad_row() -> None:
    reader, out = feed(["timestamp,bpm\n", "2024-05-01T10:00:00Z,70\n", "2024-05-01T10:00:01Z," + "7" * 200_000])
    assert out[2] == [BadRow(3, "not a CSV row (field larger than field limit (131072))")]


def test_a_runaway_line_is_one_bad_row_and_a_long_one_is_still_read() -> None:
    reader = LineReader("live.csv")
    reader.line("timestamp,bpm\n")
    reader.line("2024-05-01T10:00:00Z,70\n")
    row = "2024-05-01T10:00:01Z,71"
    assert reader.line(row + "," * (MAX_LINE - len(row))) == [(T0 + 1, 71.0)]  # exactly MAX_LINE characters
    assert reader.line("x" * (MAX_LINE + 1)) == [BadRow(4, "a line of 1048577 characters is not a reading")]
    assert reader.line("2024-05-01T10:00:02Z,72\n") == [(T0 + 2, 72.0)]
    assert reader.lines == 5
