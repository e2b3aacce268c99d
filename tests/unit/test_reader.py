"""Table-driven tests of read_series: one case per detection rule, layout, edge and refusal."""

from __future__ import annotations

import io
import math
from datetime import datetime
from pathlib import Path

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.series import Series

NAN = math.nan


def E(text: str) -> float:
    """Epoch seconds the reader must produce: aware → true UTC, naive → wall time stored as UTC."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        return (dt - datetime(1970, 1, 1)).total_seconds()
    return dt.timestamp()


def read(data: str | bytes, **kw: object) -> list[Series]:
    raw = data.encode() if isinstance(data, str) else data
    return read_series(io.BytesIO(raw), "t.csv", **kw)  # type: ignore[arg-type]


def one(data: str | bytes, **kw: object) -> Series:
    out = read(data, **kw)
    assert len(out) == 1
    return out[0]


def same(actual: list[float], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b) for a, b in zip(actual, expected, strict=True)
    )


T0, T1, T2 = "2024-01-01 00:00:00", "2024-01-01 00:00:01", "2024-01-01 00:00:02"
ISO3 = [E(T0), E(T1), E(T2)]

# (id, file content, expected ts, expected bpm, expected tz_offset_min)
CASES: list[tuple[str, str | bytes, list[float], list[float], int | None]] = [
    ("comma", f"timestamp,bpm\n{T0},60\n{T1},61\n{T2},62\n", ISO3, [60, 61, 62], None),
    ("semicolon", f"time;hr\n{T0};60\n{T1};61\n{T2};62\n", ISO3, [60, 61, 62], None),
    ("tab", f"time\theart_rate\n{T0}\t60\n{T1}\t61\n{T2}\t62\n", ISO3, [60, 61, 62], None),
    ("bom", ("\ufeff" + f"timestamp,bpm\n{T0},60\n{T1},61\n{T2},62\n").encode(), ISO3, [60, 61, 62], None),
    ("crlf", f"timestamp,bpm\r\n{T0},60\r\n{T1},61\r\n{T2},62\r\n", ISO3, [60, 61, 62], None),
    ("blank-lines", f"\ntimestamp,bpm\n\n{T0},60\n\n\n{T1},61\n{T2},62\n\n", ISO3, [60, 61, 62], None),
    ("trailing-commas", f"time,bpm,\n{T0},60,\n{T1},61,,\n{T2},62,\n", ISO3, [60, 61, 62], None),
    ("no-header", f"{T0},60\n{T1},61\n{T2},62\n", ISO3, [60, 61, 62], None),
    ("quoted", f'"datetime","heart_rate"\n"{T0}",60\n"{T1}","61"\n"{T2}",62\n', ISO3, [60, 61, 62], None),
    (
        "space-after-delimiter",
        "date, heartRate\n2015-12-01 23:00:10 -0500, 72\n",
        [E("2015-12-01T23:00:10-05:00")],
        [72],
        -300,
    ),
    ("decimal-comma", f"time;bpm\n{T0};72,5\n{T1};73\n", ISO3[:2], [72.5, 73], None),
    ("utf-16", f"timestamp,bpm\n{T0},60\n".encode("utf-16"), ISO3[:1], [60], None),
    (
        "german-semicolon-decimal-comma",
        "Datum;Uhrzeit;Puls\n06.09.2015;10:00:00;72,5\n06.09.2015;10:00:01;73\n",
        [E("2015-09-06 10:00:00"), E("2015-09-06 10:00:01")],
        [72.5, 73],
        None,
    ),
    ("latin-1", f"time,bpm,note\n{T0},60,caf\xe9\n".encode("latin-1"), ISO3[:1], [60], None),
    ("name-HR (bpm)", f"Time,HR (bpm),Speed\n{T0},60,3\n", ISO3[:1], [60], None),
    ("name-beats-per-minute", f"timestamp,beats per minute\n{T0},60.0\n", ISO3[:1], [60], None),
    ("name-pulse", f"start,pulse\n{T0},60\n", ISO3[:1], [60], None),
    ("hr-by-content", f"when,x,y\n{T0},1000,60\n{T1},1001,61\n{T2},1002,62\n", ISO3, [60, 61, 62], None),
    # timestamp formats
    ("iso-z", "timestamp,bpm\n2024-03-31T00:00:10Z,84.0\n", [E("2024-03-31T00:00:10+00:00")], [84], 0),
    (
        "iso-offset-fraction",
        "time,bpm\n2019-10-16T12:09:00.511+02:00,79\n",
        [E("2019-10-16T12:09:00.511+02:00")],
        [79],
        120,
    ),
    ("iso-T-naive", "time,bpm\n2024-01-01T08:30:00,70\n", [E("2024-01-01T08:30:00")], [70], None),
    (
        "us-am-pm",
        "Id,Time,Value\n1,4/1/2016 7:54:00 AM,93\n1,4/1/2016 12:00:05 AM,90\n1,4/1/2016 12:30:00 PM,91\n"
        "1,4/1/2016 1:05:00 PM,92\n",
        [E("2016-04-01 00:00:05"), E("2016-04-01 07:54:00"), E("2016-04-01 12:30:00"), E("2016-04-01 13:05:00")],
        [90, 93, 91, 92],
        None,
    ),
    (
        "day-first-slash",
        "time,bpm\n13/01/2024 10:00:00,60\n14/01/2024 10:00:00,61\n",
        [E("2024-01-13 10:00:00"), E("2024-01-14 10:00:00")],
        [60, 61],
        None,
    ),
    ("dotted-date", "time,bpm\n06.09.2015 10:01:07,60\n", [E("2015-09-06 10:01:07")], [60], None),
    (
        "split-date-time",
        "Date,Time,HR\n2024-01-01,10:00:00,60\n2024-01-01,10:00:05,61\n",
        [E("2024-01-01 10:00:00"), E("2024-01-01 10:00:05")],
        [60, 61],
        None,
    ),
    ("unix-seconds", "ts,bpm\n1644227584,60\n1644227585,61\n", [1644227584, 1644227585], [60, 61], 0),
    ("unix-ms", "timestamp,bpm\n1644227584000,60\n1644227584500,61\n", [1644227584, 1644227584.5], [60, 61], 0),
    ("unix-headerless", "1644227584,60\n1644227585,61\n", [1644227584, 1644227585], [60, 61], 0),
    ("elapsed-hms", "Time,HR\n00:00:00,60\n00:00:01,61\n01:00:00,62\n", [0, 1, 3600], [60, 61, 62], None),
    ("elapsed-mm-ss", "time,bpm\n00:00,60\n01:30,61\n", [0, 90], [60, 61], None),
    ("elapsed-seconds", "time,hr_heartrate\n1,128\n2,129\n", [1, 2], [128, 129], None),
    ("no-time-column", "bpm\n60\n61\n62\n", [0, 1, 2], [60, 61, 62], None),
    ("values-only", "84.2697\n84.2697\n84.0619\n", [0, 1, 2], [84.2697, 84.2697, 84.0619], None),
    # ordering, duplicates, placeholders
    ("out-of-order", f"time,bpm\n{T2},62\n{T0},60\n{T1},61\n", ISO3, [60, 61, 62], None),
    (
        "placeholders",
        f"time,bpm\n{T0},\n{T1},NA\n{T2},0\n2024-01-01 00:00:03,-1\n2024-01-01 00:00:04,70\n",
        [*ISO3, E("2024-01-01 00:00:03"), E("2024-01-01 00:00:04")],
        [NAN, NAN, NAN, NAN, 70],
        None,
    ),
    # layouts
    (
        "e4",
        "1644227584.000000\n1.000000\n118.00\n113.50\n93.00\n",
        [1644227584, 1644227585, 1644227586],
        [118, 113.5, 93],
        0,
    ),
    ("e4-4hz", "1644227584.0\n4.0\n70\n71\n", [1644227584, 1644227584.25], [70, 71], 0),
    (
        "mixed-metrics",
        "2019-10-16T12:08:58.041+02:00;STEPS;299.0\n2019-10-16T12:08:59.000+02:00;HEART_RATE;79.0\n"
        "2019-10-16T12:08:59.5+02:00;HEART_RATE_VARIABILITY;821.0\n2019-10-16T12:09:00.000+02:00;HEART_RATE;80.0\n",
        [E("2019-10-16T12:08:59+02:00"), E("2019-10-16T12:09:00+02:00")],
        [79, 80],
        120,
    ),
    (
        "mixed-metrics-header",
        "type,startDate,value\nHKQuantityTypeIdentifierStepCount,2024-01-01 00:00:00,500\n"
        "HKQuantityTypeIdentifierHeartRate,2024-01-01 00:00:01,66\n",
        [E(T1)],
        [66],
        None,
    ),
    (
        "polar-multi-table",
        "Name,Sport,Date,Start time,Duration,Average heart rate (bpm),HR max,\n"
        "Jo,RUNNING,06.09.2015,10:01:07,02:16:08,160,189,\n"
        "Sample rate,Time,HR (bpm),Speed (km/h),\n1,00:00:00,90,0.0,\n,00:00:01,91,1.0,\n,00:00:02,92,1.0,\n",
        [E("2015-09-06 10:01:07"), E("2015-09-06 10:01:08"), E("2015-09-06 10:01:09")],
        [90, 91, 92],
        None,
    ),
    (
        "wahoo-year-line",
        "Device,fisica\nYear,2016,Month,10,Day,7,Hour,17,Minute,24,Second,2,Battery,1\n\n"
        "workout,hravg\n,144\n\ntime,spd,hr_heartrate,paused\n1,0.0,128,0\n2,0.0,0,1\n3,0.0,133,0\n",
        [E("2016-10-07 17:24:03"), E("2016-10-07 17:24:04"), E("2016-10-07 17:24:05")],
        [128, NAN, 133],
        None,
    ),
    ("row-id-is-not-subject", f"id,bpm,time\n1,55,{T0}\n2,56,{T1}\n4,57,{T2}\n", ISO3, [55, 56, 57], None),
]


@pytest.mark.parametrize(("data", "ts", "bpm", "tz"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reads(data: str | bytes, ts: list[float], bpm: list[float], tz: int | None) -> None:
    series = one(data)
    assert same(list(series.ts), ts)
    assert same(list(series.bpm), bpm)
    assert series.tz_offset_min == tz
    assert series.rows == len(ts) + series.duplicates


def test_duplicates_counted_first_seen_kept() -> None:
    s = one(f"time,bpm\n{T0},60\n{T0},99\n{T1},61\n{T2},62\n{T1},88\n")
    assert list(s.ts) == ISO3
    assert list(s.bpm) == [60, 61, 62]
    assert (s.rows, s.duplicates) == (5, 2)


def test_interval_spaces_values_without_time() -> None:
    s = one("70\n71\n72\n", interval=0.5)
    assert list(s.ts) == [0, 0.5, 1.0]


MULTI = "user_code,datetime,heart_rate\nb,2020-01-02 00:00:00,70\nb,2020-01-01 00:00:00,71\na,2020-01-01 00:00:00,60\n"


def test_multi_subject_one_series_each_in_order_of_appearance() -> None:
    out = read(MULTI)
    assert [s.subject for s in out] == ["b", "a"]
    assert list(out[0].ts) == [E("2020-01-01"), E("2020-01-02")]
    assert list(out[0].bpm) == [71, 70]
    assert (out[1].rows, list(out[1].bpm)) == (1, [60])


def test_subject_pick() -> None:
    out = read(MULTI, subject="a")
    assert [(s.subject, list(s.bpm)) for s in out] == [("a", [60])]


@pytest.mark.parametrize(
    ("data", "message"),
    [(MULTI, "unknown subject 'zz': the file has 'b', 'a'"), (f"time,bpm\n{T0},60\n", "one unnamed subject")],
    ids=["multi", "single"],
)
def test_unknown_subject(data: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read(data, subject="zz")


def test_isolated_bad_time_rows_are_skipped() -> None:
    rows = "".join(f"2024-01-01 00:{i // 60:02d}:{i % 60:02d},{60 + i % 5}\n" for i in range(200))
    s = one("time,bpm\n" + rows + "garbage,70\n")
    assert len(s) == 200 and s.rows == 200


REFUSALS: list[tuple[str, bytes, str, int | None]] = [
    ("empty", b"", "empty file", None),
    ("whitespace-only", b"\n \n\r\n", "empty file", None),
    ("empty-fields-only", b",,,\n,,\r\n", "empty file", None),
    ("header-only", b"timestamp,bpm\n", "header only", 1),
    ("header-only-after-blank", b"\n\ntime,heart_rate\r\n\r\n", "header only", 3),
    (
        "no-hr-column",
        b"a,b,c\nx,1000,y\nz,2000,w\n",
        "no heart-rate column found: columns are 'a', 'b', 'c' (expected one named bpm",
        1,
    ),
    (
        "no-hr-headerless-unix",
        b"1644228196\r\n1644228572\r\n1644228844\r\n",
        "no heart-rate column found: columns are column 1 (e.g. '1644228196') (no header)",
        1,
    ),
    ("text-only", b"hello world\n", "no heart-rate column found", 1),
    ("binary-nul", b"MZ\x90\x00\x03\x00binary", "binary file, not a CSV text (NUL byte at offset 3)", None),
    ("binary-controls", bytes(range(1, 9)) * 200, "binary file", None),
    ("all-bpm-missing", f"time,bpm\n{T0},NA\n{T1},\n".encode(), "nothing parseable: every 'bpm' cell is blank", None),
    (
        "first-row-bad-time",
        ("time,bpm\nyesterday,60\n" + f"{T1},61\n" * 9).encode(),
        "cannot read the time 'yesterday' in column 'time' of the first data row",
        2,
    ),
    ("time-column-unreadable", b"time,bpm\nfoo,60\nbar,61\n", "cannot read the time 'foo' in column 'time'", 2),
    (
        "many-bad-times",
        ("time,bpm\n" + f"{T0},60\n" * 1 + "".join(f"bad{i},60\n" for i in range(40))).encode(),
        "cannot read the time 'bad0' in column 'time'",
        3,
    ),
    (
        "some-bad-times",
        (
            "time,bpm\n"
            + "".join(f"2024-01-01 00:{i // 60:02d}:{i % 60:02d},60\n" for i in range(300))
            + "".join(f"bad{i},60\n" for i in range(40))
        ).encode(),
        "cannot read the time 'bad0' in column 'time' (40 of 340 rows have unusable times)",
        302,
    ),
]


@pytest.mark.parametrize(("data", "message", "line"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refusals(data: bytes, message: str, line: int | None) -> None:
    with pytest.raises(InputError) as info:
        read(data)
    assert message in info.value.message
    assert info.value.line == line
    assert str(info.value).startswith("t.csv")


def test_streams_past_the_sniffed_head_and_reports_progress() -> None:
    body = "".join(f"{1_700_000_000 + i},{60 + i % 50}\n" for i in range(20_000))
    data = ("timestamp,bpm\n" + body).encode()
    seen: list[int] = []
    s = read_series(io.BytesIO(data), "big.csv", on_progress=seen.append)[0]
    assert len(s) == 20_000 and s.ts[-1] == 1_700_000_000 + 19_999 and s.bpm[-1] == 60 + 19_999 % 50
    assert seen and seen[-1] == len(data) and seen == sorted(seen) and len(seen) >= 3


def test_multiline_quoted_field_crossing_rows() -> None:
    s = one(f'time,bpm,note\n{T0},60,"two\nlines"\n{T1},61,x\n')
    assert list(s.bpm) == [60, 61]


SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_sample_semicolon_bom() -> None:
    with (SAMPLES / "reader_semicolon_bom.csv").open("rb") as fh:
        (s,) = read_series(fh, "reader_semicolon_bom.csv")
    base = E("2015-09-06 10:00:00")
    assert list(s.ts) == [base + i for i in range(6)]
    assert same(list(s.bpm), [72.5, 73, NAN, NAN, 75, 74])


def test_sample_multi_subject() -> None:
    with (SAMPLES / "reader_multi_subject.csv").open("rb") as fh:
        a, b = read_series(fh, "reader_multi_subject.csv")
    assert (a.subject, a.rows, a.duplicates, list(a.bpm)) == ("a1", 3, 1, [70, 72])
    assert (b.subject, b.rows) == ("b2", 2)
    assert same(list(b.bpm), [NAN, 65])
