"""How :mod:`hrviz.core.reader.formats` tells a file's kind by its first bytes, unwraps gzip, serves
the peeked bytes again, refuses what it cannot read (word for word), and applies the bad-time limit
and the --since/--until window to the non-CSV readers."""

from __future__ import annotations

import gzip
import io
import json
from array import array

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader.formats import CSV, GPX, PEEK, TAKEOUT, TCX, Peeked, clip, kind_of, read_kind, unwrap
from hrviz.core.series import Series

TCX_HEAD = b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'

KINDS: list[tuple[str, bytes, str]] = [
    ("a UTF-8 BOM before the XML declaration", b'\xef\xbb\xbf<?xml version="1.0"?>\n' + TCX_HEAD, TCX),
    ("blank lines before the root", b" \r\n\t\n<gpx version='1.1'>", GPX),
    ("a stray letter before the root: not XML", b"X<gpx version='1.1'>", CSV),
    ("a quoted CSV header naming dateTime and bpm", b'"dateTime","bpm"\n"03/31/24 07:00:05",62\n', CSV),
    ("a quoted CSV header naming bpm", b'"time","bpm"\n1711868405,62\n', CSV),
    ("a list naming dateTime but no bpm", b'[{"dateTime": "03/31/24 07:00:05", "value": 62}]', CSV),
    ("Takeout's Fitbit JSON", b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 62}}]', TAKEOUT),
]


@pytest.mark.parametrize(("head", "expected"), [c[1:] for c in KINDS], ids=[c[0] for c in KINDS])
def test_kind_of(head: bytes, expected: str) -> None:
    assert kind_of(head) == expected


# --- refusals, word for word ------------------------------------------------------------------------------


def unwrap_refusal(data: bytes, source: str) -> str:
    with pytest.raises(InputError) as err:
        unwrap(io.BytesIO(data), source, None)
    return str(err.value)


REFUSED: list[tuple[str, bytes, str, str]] = [
    (
        "a zip archive",
        b"PK\x03\x04" + bytes(40),
        "a.zip",
        "a.zip: a zip archive: give the archive's path to hrviz ingest/watch, or upload it whole",
    ),
    (
        "some other XML",
        b'<?xml version="1.0"?>\n<svg/>',
        "a.xml",
        "a.xml: an XML file that is not TCX, GPX or an Apple Health export",
    ),
    (
        "a gzip in a gzip",
        gzip.compress(gzip.compress(b"time,bpm\n")),
        "a.gz",
        "a.gz: a gzip inside a gzip file: unpack it first",
    ),
    (
        "a zip in a gzip",
        gzip.compress(b"PK\x03\x04" + bytes(40)),
        "a.gz",
        "a.gz: a zip inside a gzip file: unpack it first",
    ),
    (
        "a gzip cut short",
        gzip.compress(b"time,bpm\n1711868405,62\n")[:-10],
        "a.csv.gz",
        "a.csv.gz: broken gzip file: Compressed file ended before the end-of-stream marker was reached",
    ),
]


@pytest.mark.parametrize(("data", "source", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_unwrap_refuses(data: bytes, source: str, expected: str) -> None:
    assert unwrap_refusal(data, source) == expected


def test_gzip_is_decompressed_as_it_is_read() -> None:
    """Only the first 64 KB are decompressed to tell the kind; the rest comes as it is read."""
    text = b"time,bpm\n" + b"".join(b"%d,60\n" % (1711868405 + i) for i in range(20_000))
    kind, stream = unwrap(io.BytesIO(gzip.compress(text)), "a.csv.gz", None)
    assert (kind, len(stream.head)) == (CSV, PEEK)  # type: ignore[attr-defined]
    assert stream.read() == text


# --- Peeked: the head served again, then the rest -----------------------------------------------------------


def peeked(size: int, on_progress: list[int] | None = None) -> tuple[Peeked, bytes]:
    data = bytes(i % 251 for i in range(size))
    return Peeked(io.BytesIO(data), None if on_progress is None else on_progress.append), data


def test_read_all_gives_the_head_and_the_rest() -> None:
    p, data = peeked(PEEK + 1000)
    assert p.read(10) == data[:10]
    assert p.read() == data[10:]


def test_read_none_past_the_head_reads_the_rest() -> None:
    p, data = peeked(PEEK + 1000)
    assert p.read(PEEK) == data[:PEEK]
    assert p.read(None) == data[PEEK:]  # type: ignore[arg-type]


def test_read_none_within_the_head_reads_everything() -> None:
    p, data = peeked(PEEK + 1000)
    assert p.read(None) == data  # type: ignore[arg-type]


def test_read_zero_reads_nothing() -> None:
    p, data = peeked(PEEK + 1000)
    assert (p.read(0), p.read(5), p.read(0), p.read()) == (b"", data[:5], b"", data[5:])


def test_sized_reads_cross_from_the_head_to_the_stream() -> None:
    p, data = peeked(PEEK + 1000)
    assert p.read(PEEK - 10) == data[: PEEK - 10]
    assert p.read(500) == data[PEEK - 10 : PEEK]  # the head's end only: a short read, as raw streams do
    assert p.read(500) == data[PEEK : PEEK + 500]


def test_readinto_read1_readable() -> None:
    p, data = peeked(100)
    buffer = bytearray(30)
    assert (p.readable(), p.readinto(buffer), bytes(buffer), p.read1(20)) == (True, 30, data[:30], data[30:50])
    rest = bytearray(100)
    assert (p.readinto(rest), bytes(rest[:50])) == (50, data[50:])


def test_progress_is_reported_every_64_kb_and_at_the_end() -> None:
    """Bytes consumed from the underlying stream, at each 64 KB boundary reached and at the end."""
    calls: list[int] = []
    p, _ = peeked(3 * PEEK, calls)
    assert calls == [PEEK]  # the head
    p.read(PEEK)  # served from the head: nothing new consumed
    p.read(PEEK // 2)
    assert calls == [PEEK]
    p.read(PEEK // 2)  # exactly at 128 KB
    p.read(PEEK)
    p.read(PEEK)  # the end: nothing left
    assert calls == [PEEK, 2 * PEEK, 3 * PEEK, 3 * PEEK]


def test_progress_of_an_empty_stream() -> None:
    calls: list[int] = []
    peeked(0, calls)
    assert calls == [0]


# --- the limit on readings with a time outside 1980–2099 (non-CSV readers) -----------------------------------


def takeout(good: int, bad: int) -> bytes:
    """``good`` readings in 2024 and ``bad`` in 1979, one a second."""
    entries = [
        {"dateTime": f"01/01/{year} 00:{i // 60:02d}:{i % 60:02d}", "value": {"bpm": 60}}
        for year, n in (("24", good), ("79", bad))
        for i in range(n)
    ]
    return json.dumps(entries).encode()


def read_takeout(data: bytes, window: tuple[float | None, float | None] = (None, None)) -> list[Series]:
    return read_kind(TAKEOUT, io.BytesIO(data), "t.json", subject=None, window=window)


BAD_TIMES: list[tuple[str, int, int, str | None]] = [
    ("10 of 1,000: tolerated", 990, 10, None),
    ("11 of 1,000: over 10 and over 1 %", 989, 11, "t.json: 11 of 1000 readings have a time outside 1980–2099"),
    ("15 of 2,000: over 10, under 1 %", 1985, 15, None),
    ("21 of 2,000: over 1 %", 1979, 21, "t.json: 21 of 2000 readings have a time outside 1980–2099"),
    ("10 of 200: exactly 5 %", 190, 10, None),
    ("6 of 100: over 5 %", 94, 6, "t.json: 6 of 100 readings have a time outside 1980–2099"),
]


@pytest.mark.parametrize(("good", "bad", "refused"), [c[1:] for c in BAD_TIMES], ids=[c[0] for c in BAD_TIMES])
def test_readings_with_bad_times(good: int, bad: int, refused: str | None) -> None:
    if refused is None:
        (series,) = read_takeout(takeout(good, bad))
        assert (series.rows, series.skipped, len(series)) == (good, bad, good)
    else:
        with pytest.raises(InputError) as err:
            read_takeout(takeout(good, bad))
        assert str(err.value) == refused


def test_no_readings_left_in_the_window() -> None:
    start = 1704067200.0  # 2024-01-01 00:00:00 UTC, the first of 3 readings a second apart
    with pytest.raises(InputError) as err:
        read_takeout(takeout(3, 0), window=(start + 10, None))
    assert str(err.value) == "t.json: no heart-rate readings in the --since/--until window"
    (kept,) = read_takeout(takeout(3, 0), window=(start + 1, None))
    assert (list(kept.ts), kept.rows) == ([start + 1, start + 2], 2)


# --- clip: the --since/--until window ---------------------------------------------------------------------


def series(ts: list[float], rows: int) -> Series:
    return Series(None, array("d", ts), array("d", [60.0] * len(ts)), rows=rows)


CLIPS: list[tuple[str, tuple[float | None, float | None], list[float], int]] = [
    # (id, window, kept times, rows left): 5 readings from 7 rows (2 duplicates), at 10, 20, 30, 40, 50
    ("no window", (None, None), [10, 20, 30, 40, 50], 7),
    ("since only: from 20 on", (20, None), [20, 30, 40, 50], 6),
    ("until only: before 40", (None, 40), [10, 20, 30], 5),
    ("both", (15, 45), [20, 30, 40], 5),
    ("since 10 keeps the first", (10, None), [10, 20, 30, 40, 50], 7),
    ("until 50 drops the last", (None, 50), [10, 20, 30, 40], 6),
    ("an empty window", (30, 30), [], 2),
]


@pytest.mark.parametrize(("window", "kept", "rows"), [c[1:] for c in CLIPS], ids=[c[0] for c in CLIPS])
def test_clip(window: tuple[float | None, float | None], kept: list[float], rows: int) -> None:
    clipped = clip(series([10, 20, 30, 40, 50], rows=7), window)
    assert (list(clipped.ts), list(clipped.bpm), clipped.rows) == (kept, [60.0] * len(kept), rows)
