"""The C kernel of the CSV row loop (hrviz/core/reader/_cparse.c) against the Python loop it twins.

Equality is the contract: any CSV text read with the kernel gives exactly what the Python loop gives
— every series (ts and bpm bit for bit, rows, duplicates, skipped rows and their lines, ignored rows,
the UTC offset, warnings), every chunk handed out, every error (its message and line). Generated
files mix ISO times in every form the kernel takes and many it leaves to Python, unix and elapsed
numbers, bad and blank cells, placeholders, quotes, BOMs, CRLF and lone CR line breaks, rows back in
time and duplicates; text streams are split into blocks as small as one character; and the real files.
"""

from __future__ import annotations

import csv
import importlib
import io
import itertools
import math
from array import array
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrviz.core.errors import InputError
from hrviz.core.reader import Unstreamable, decode, fastrows, read_series
from hrviz.core.reader.parse import RowLoop, parse_rows
from hrviz.core.reader.sniff import sniff
from tests.unit import examples


def built_kernel() -> ModuleType | None:
    """The kernel whatever HRVIZ_PURE_PYTHON says (under it, the Python loop is still held equal to the C one)."""
    try:
        return importlib.import_module("hrviz.core.reader._cparse")
    except ImportError:
        return None


KERNEL = built_kernel()
REAL = Path("/work/shared/data/real")


@pytest.fixture(autouse=True)
def kernel_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads with the kernel when it is built (the Python side of a comparison turns it off)."""
    monkeypatch.setattr(fastrows, "KERNEL", KERNEL)


def built() -> bool:
    """Where the kernel is not built (no compiler; mutation testing's copy of the sources), the tests that look at
    it check that a layout it would read is read by the Python loop instead, and end there."""
    if KERNEL is None:
        assert fastrows.start(sniff(["time,bpm", f"{T0},70"], "t.csv", 1.0), [], ()) is None
        return False
    return True


def outcome(data: bytes, **kwargs: object) -> list[str]:
    """What read_series makes of these bytes, as exact text (repr keeps every float's bits); chunks included."""
    chunks: list[str] = []
    if kwargs.pop("chunked", False):
        kwargs["on_chunk"] = lambda ts, bpm: chunks.append(repr((ts.tolist(), bpm.tolist())))
    try:
        series = read_series(io.BytesIO(data), "t.csv", **kwargs)  # type: ignore[arg-type]
    except InputError as err:
        return [*chunks, repr(("InputError", err.source, err.message, err.line))]
    except Unstreamable as err:
        return [*chunks, repr(("Unstreamable", str(err)))]
    return chunks + [
        repr(
            (
                s.subject,
                s.ts.tolist(),
                s.bpm.tolist(),
                s.rows,
                s.duplicates,
                s.tz_offset_min,
                s.warnings,
                s.skipped,
                s.skipped_lines,
                s.ignored,
            )
        )  # fmt: skip
        for s in series
    ]


def both(data: bytes, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> tuple[list[str], list[str]]:
    with_kernel = outcome(data, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(fastrows, "KERNEL", None)
        python = outcome(data, **kwargs)
    return with_kernel, python


# --- generated files ------------------------------------------------------------------------------------------

T0 = 1_773_473_400  # 2026-03-14T07:30:00Z


OFFSETS = ["", "Z", "+01:00", "-05:00", "-0500", "+0100", "+01", "+01:00:00", "+24:00", "+05:30", " +01:00", "z",
           "-00:00"]  # fmt: skip
SHIFTS = {"+01:00": 3600, "+0100": 3600, "+01": 3600, "+01:00:00": 3600, "-05:00": -18000, "-0500": -18000,
          "+05:30": 19800}  # fmt: skip
FRACTIONS = ["", ".5", ".120", ".123456", ".1234567", ".", ",5", ".05"]
SEPARATORS = ["T", " ", "t", "x"]
BROKEN = ["day", "hour", "slash", "space", "short", "60", "leap", "year"]


def iso_cell(t: float, offset: str, sep: str, fraction: str, broken: str = "") -> str:
    """ISO-8601 for second ``t`` (UTC) written with this offset, separator and fraction; ``broken`` spoils it."""
    wall = math.floor(t + SHIFTS.get(offset, 0))
    days, secs = divmod(wall, 86400)
    day = date(1970, 1, 1) + timedelta(days=days)
    y, mo, d = day.year, day.month, day.day
    text = f"{y:04d}-{mo:02d}-{d:02d}{sep}{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}{fraction}{offset}"
    if broken == "day":
        text = text[:8] + "31" + text[10:] if mo in (2, 4, 6, 9, 11) else text[:5] + "02-30" + text[10:]
    elif broken == "hour":
        text = text[:11] + "24" + text[13:]
    elif broken == "slash":
        text = text.replace("-", "/", 2)
    elif broken == "space":
        text = f" {text} "
    elif broken == "short":
        text = text[:16]
    elif broken == "60":
        text = text[:17] + "60" + text[19:]
    elif broken == "leap":
        text = "2100-02-29" + text[10:] if y % 2 else "2000-02-29" + text[10:]
    elif broken == "year":
        text = "0000" + text[4:]
    return text


def number_cell(t: float, unit: float, style: str) -> str:
    value = t * unit
    if style == "int":
        return str(int(value))
    if style == "frac":
        return f"{value + 0.25:.2f}"
    if style == "frac6":
        return f"{value:.6f}"
    if style == "exp":
        return f"{value:e}"
    if style == "neg":
        return str(-int(value))
    if style == "space":
        return f"{int(value)} "
    if style == "under":
        return f"{int(value):_}"
    return {
        "huge": "1e300",
        "long": "9" * 70,
        "inf": "inf",
        "nan": "nan",
        "dot": f"{int(value)}.",
        "lead": f"0{value}",
    }[style]


NUMBER_STYLES = ["int", "frac", "frac6", "exp", "neg", "space", "under", "huge", "long", "inf", "nan", "dot", "lead"]
BPMS = ["72.5", "72,5", "0,5", "0", "0.0", "-1", "", " ", "nan", "inf", "abc", "1_0", '"70"', "72 ", " 72", "7,2,5",
        ".5", "5.", ",5", "0,0", "9" * 70, "+72", "\u0667\u0662", "1e2", "00072", "72.50000"]  # fmt: skip
STRAYS = ["blank", "cells", "quote", "short", "extra", "garbage", "spaces", "open-quote"]


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """A whole file: header (or none), rows in one style with strays of every kind at a rate of the file's own."""
    time_kind = draw(st.sampled_from(["iso", "iso", "iso", "seconds", "ms", "elapsed", "none"]))
    delim = draw(st.sampled_from([",", ",", ";", "\t"]))
    time_first = draw(st.booleans())
    header = draw(st.booleans())
    mess = draw(st.sampled_from([0.0, 0.02, 0.05, 0.1, 0.5]))  # the share of rows spoilt, one way each
    style = (
        draw(st.sampled_from([o for o in OFFSETS if o not in (" +01:00", "+24:00", "z")])),
        draw(st.sampled_from(SEPARATORS[:2])),
        draw(st.sampled_from(FRACTIONS)),
    )
    number_style = draw(st.sampled_from(["int", "int", "frac", "frac6", "dot", "lead"]))
    n = draw(st.integers(1, 80))
    rows, t = [], (T0 if time_kind != "elapsed" else 0) + draw(st.sampled_from([0, 0.5, 0.123456]))
    rng = draw(st.randoms(use_true_random=False))
    for _ in range(n):
        t += rng.choice([1, 1, 1, 1, 1, 2, 0, -3, 5, 0.5])
        spoilt = (
            rng.choice(["bpm", "offset", "sep", "fraction", "broken", "number", "stray"]) if rng.random() < mess else ""
        )
        bpm = rng.choice(BPMS) if spoilt == "bpm" else str(rng.randint(30, 200))
        if time_kind == "iso":
            offset, sep, fraction = style
            offset = rng.choice(OFFSETS) if spoilt == "offset" else offset
            sep = rng.choice(SEPARATORS) if spoilt == "sep" else sep
            fraction = rng.choice(FRACTIONS) if spoilt == "fraction" else fraction
            cell = iso_cell(t, offset, sep, fraction, rng.choice(BROKEN) if spoilt == "broken" else "")
        elif time_kind == "none":
            cell = ""
        else:
            unit = 1e3 if time_kind == "ms" else 1.0
            cell = number_cell(t, unit, rng.choice(NUMBER_STYLES) if spoilt == "number" else number_style)
        cells = [bpm] if time_kind == "none" else ([cell, bpm] if time_first else [bpm, cell])
        stray = rng.choice(STRAYS) if spoilt == "stray" else ""
        if stray == "quote":
            cells = [f'"{c}"' for c in cells]
        elif stray == "short":
            cells = cells[:1]
        elif stray == "extra":
            cells = [*cells, "x", ""]
        elif stray == "garbage":
            cells = ["garbage" for _ in cells]
        elif stray == "open-quote":
            cells[-1] = '"' + cells[-1]
        line = delim.join(cells)
        if stray == "blank":
            line = ""
        elif stray == "cells":
            line = delim * len(cells)
        elif stray == "spaces":
            line = "   "
        rows.append(line)
    if header:
        names = ["bpm"] if time_kind == "none" else (["time", "bpm"] if time_first else ["bpm", "time"])
        rows.insert(0, delim.join(names))
    breaks = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    ends = [rng.choice(["\n", "\r\n", "\r"]) if breaks == "mixed" else breaks for _ in rows]
    text = "".join(r + e for r, e in zip(rows, ends, strict=True))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # the last line without its break
    return ("\ufeff" if draw(st.booleans()) else "") + text


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_text(), head_lines=st.sampled_from([1000, 3, 12]), block=st.sampled_from([1 << 16, 1, 2, 7]),
       chunk=st.sampled_from([0, 1, 5]))  # fmt: skip
def test_any_file_reads_the_same_with_the_kernel(
    text: str, head_lines: int, block: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a short head and small blocks put most lines through the kernel's own line splitting
    monkeypatch.setattr(decode, "HEAD_LINES", head_lines)
    monkeypatch.setattr(fastrows, "BLOCK", block)
    kwargs: dict[str, object] = {"chunked": True, "chunk_rows": chunk} if chunk else {}
    with_kernel, python = both(text.encode(), monkeypatch, **kwargs)
    assert with_kernel == python


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_text())
def test_a_file_in_utf16_or_latin1_reads_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode, "HEAD_LINES", 3)
    monkeypatch.setattr(fastrows, "BLOCK", 5)
    for data in (
        text.encode("utf-16"),
        text.replace("\ufeff", "").encode("utf-8") + "é,€\n".encode("latin-1", "replace"),
    ):
        with_kernel, python = both(data, monkeypatch)
        assert with_kernel == python


# --- chosen cases ----------------------------------------------------------------------------------------------

ISO_ROWS = "".join(f"2026-03-14T07:{i // 60:02d}:{i % 60:02d}+01:00,{60 + i % 50}\n" for i in range(3000))


@pytest.mark.parametrize(
    "text",
    [
        "timestamp,bpm\n" + ISO_ROWS,  # the benchmark's file: past the head, in blocks
        "timestamp,bpm\n" + ISO_ROWS.replace("+01:00", "+02:00", 1),  # another offset first
        "timestamp,bpm\n" + ISO_ROWS.replace("\n", "\r\n"),
        "timestamp,bpm\n" + ISO_ROWS.replace("\n", "\r"),
        "timestamp,bpm\n" + ISO_ROWS.replace("+01:00", ""),  # naive
        "timestamp,bpm\n" + ISO_ROWS[:-1],
        "timestamp,bpm\n" + ISO_ROWS.replace(",6", ",0"),  # placeholders: Python counts them, a quarter of rows
        "timestamp,bpm\n" + ISO_ROWS.replace(",6", ',"6'),  # quotes left open: one cell to the end
        "timestamp,bpm\n" + ISO_ROWS.replace("07:10:00", "07:70:00"),  # a bad time far into the file
        "timestamp,bpm\n" + ISO_ROWS + "x" * 2_000_000,  # a runaway last line
        "timestamp,bpm\n" + ISO_ROWS.replace("07:49:59+01:00,", "07:49:59+01:00," + "9" * 140_000),  # a huge cell
        "time,bpm\n" + "".join(f"{T0 + i // 2},70\n" for i in range(3000)),  # duplicates
        "time,bpm\n" + "".join(f"{T0 + 3000 - i},70\n" for i in range(3000)),  # every row back in time
        "bpm\n" + "".join(f"{60 + i % 40}\n" for i in range(3000)),  # no time: one a second
        *(  # every microsecond fraction: the file's own offset is subtracted after the division, as in Python
            "time,bpm\n"
            + "".join(
                f"2026-03-14T07:{i // 600:02d}:{i // 10 % 60:02d}.{i * 7919 % 10**6:06d}{z},70\n" for i in range(3000)
            )  # fmt: skip
            for z in ("+01:00", "-05:00", "-0530", "Z", "")
        ),
    ],
)
@pytest.mark.parametrize("chunk", [0, 700])
def test_chosen_files_read_the_same_with_the_kernel(text: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs: dict[str, object] = {"chunked": True, "chunk_rows": chunk} if chunk else {}
    with_kernel, python = both(text.encode(), monkeypatch, **kwargs)
    assert with_kernel == python


@pytest.mark.parametrize("path", sorted(p for p in REAL.glob("*") if p.suffix != ".md"), ids=lambda p: p.name)
def test_every_real_file_reads_the_same_with_the_kernel(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    for kwargs in ({}, {"chunked": True, "chunk_rows": 1000}):
        with_kernel, python = both(data, monkeypatch, **kwargs)
        assert with_kernel == python


# --- the kernel takes the plain rows itself ---------------------------------------------------------------------


def kernel_over(lines: list[str], rest: object = ()) -> tuple[RowLoop, fastrows.Rows]:
    layout = sniff(lines, "t.csv", 1.0)
    rows = fastrows.start(layout, lines[layout.data_index :], rest)  # type: ignore[arg-type]
    assert rows is not None
    return RowLoop(layout, "t.csv", None, None, 65_536), rows


def test_plain_iso_rows_are_read_by_the_kernel_without_python() -> None:
    if not built():
        return
    loop, rows = kernel_over(["time,bpm\n", "2026-03-14T07:30:00+01:00,55\n"], ["2026-03-14T07:30:01+01:00,56\n"])
    assert rows.run(loop.acc, loop) == fastrows.HARD  # the first offset is noted by Python
    assert rows.line == "2026-03-14T07:30:00+01:00,55\n" and rows.lines == 1
    loop.run(itertools.chain([rows.line], rows), rows.lines - 1, 1)
    assert (loop.suffix, loop.suffix_seconds, loop.first_row) == ("+01:00", 3600.0, False)
    assert rows.run(loop.acc, loop) == fastrows.END
    acc = loop.acc
    assert (acc.ts.tolist(), acc.bpm.tolist(), acc.rows, acc.last, rows.lines) == (
        [T0 - 3600.0, T0 - 3599.0], [55.0, 56.0], 2, T0 - 3599.0, 2)  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "t"),
    [
        ("2026-03-14T07:30:00Z", T0),
        ("2026-03-14 07:30:00.5Z", T0 + 0.5),
        ("2026-03-14T08:30:00.123456+01:00", T0 + 0.123456),
        ("2026-03-14T02:30:00-0500", T0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ],
)
def test_the_kernel_reads_these_iso_times_itself(cell: str, t: float) -> None:
    if not built():
        return
    loop, rows = kernel_over(["time,bpm\n", "2020-01-01T00:00:00Z,55\n"], [f"{cell},70\n"])
    loop.suffix = "?"  # an offset no cell ends with: every aware cell is parsed whole
    assert rows.run(loop.acc, loop) == fastrows.END
    assert loop.acc.ts.tolist() == [1_577_836_800.0, t]


@pytest.mark.parametrize("line", ["\ufeffx\n", 'a,"b"\n', "2026-03-14T07:30:00Z,0\n", "2026-03-14T07:30:00Z,-1\n",
                                  "2026-03-14T07:30:00Z,1e2\n", "2026-03-14T07:30:00,70\n", "1975-01-01T00:00:00Z,70\n",
                                  "2026-03-14T07:30:00Z ,70\n", "2026-03-14T07:30:00Z,70 \n", "70\n",
                                  "2026-03-14T07:30:00+24:00,70\n", "2026-03-14T07:30:00+01:60,70\n",
                                  "2026-03-14T07:30:00.1234567Z,70\n", "2026-02-29T07:30:00Z,70\n",
                                  "2026-03-14T07:30:60Z,70\n", "2026-03-14T07:30Z,70\n",
                                  "2025-12-31T23:59:59Z,70\n"])  # fmt: skip
def test_the_kernel_hands_back_what_it_cannot_vouch_for(line: str) -> None:
    if not built():
        return
    loop, rows = kernel_over(["time,bpm\n", "2026-01-01T00:00:00Z,55\n"], [line])
    loop.suffix = "Z"
    assert rows.run(loop.acc, loop) == fastrows.HARD
    assert (rows.line, rows.lines, loop.acc.rows, loop.acc.ts.tolist()) == (line, 2, 1, [1_767_225_600.0])


def test_blocks_split_lines_as_a_text_stream_does() -> None:
    if not built():
        return
    text = "a\nb\r\nc\rd\r\n\re"
    for size in (1, 2, 3, 100):
        rows = KERNEL.Rows([], iter(()), io.StringIO(text, newline="").read, ",", -1, 0, 0, 1.0, False,  # type: ignore[union-attr]
                                    0.0, 1.0, 0.0, 1.0, False, csv.field_size_limit(), size)  # fmt: skip
        assert list(rows) == list(io.StringIO(text, newline="")) == ["a\n", "b\r\n", "c\r", "d\r\n", "\r", "e"]
        assert rows.lines == 6


def test_a_runaway_line_is_refused_at_its_line() -> None:
    text = "time,bpm\n" + "".join(f"{T0 + i},70\n" for i in range(1500)) + "9" * (decode.MAX_LINE + 10)
    err = pytest.raises(InputError, read_series, io.BytesIO(text.encode()), "t.csv").value
    assert (err.line, err.message) == (1502, decode.TOO_LONG)


def test_the_kernel_is_not_used_where_it_does_not_know_the_layout() -> None:
    for lines in (["time,bpm,user", f"{T0},70,a"], ["time,type,value", f"{T0},heart_rate,70"],
                  ["date,time,bpm", "2024-01-02,10:00:00,70"], ["time,bpm", "1/2/2024 10:00:00,70"]):  # fmt: skip
        layout = sniff(lines, "t.csv", 1.0)
        assert fastrows.start(layout, lines[1:], ()) is None, lines


def test_many_rows_for_python_hand_the_rest_of_the_file_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    if not built():
        return
    calls: list[int | None] = []
    run = RowLoop.run

    def counted(self: RowLoop, lines: object, base: int, records: int | None = None) -> None:
        calls.append(records)
        run(self, lines, base, records)  # type: ignore[arg-type]

    monkeypatch.setattr(RowLoop, "run", counted)
    text = "time,bpm\n" + "".join(f"{T0 + i},{i % 2 * 70}\n" for i in range(3000))  # every other one a placeholder
    (series,) = read_series(io.BytesIO(text.encode()), "t.csv")
    assert (series.rows, series.ignored) == (3000, {"placeholder 0": 1500})
    assert calls == [1] * fastrows.GIVE_UP_AFTER + [None]


def test_parse_rows_over_plain_lines_uses_the_kernel_too(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["time,bpm"] + [f"{T0 + i},{70 + i}" for i in range(30)]  # items without breaks: one line each
    layout = sniff(lines[:20], "t.csv", 1.0)
    fast, _ = parse_rows(lines[:20], iter(lines[20:]), layout, "t.csv", None)
    monkeypatch.setattr(fastrows, "KERNEL", None)
    slow, _ = parse_rows(lines[:20], iter(lines[20:]), layout, "t.csv", None)
    assert fast[None].ts == slow[None].ts == array("d", [T0 + i for i in range(30)])
    assert fast[None].bpm == slow[None].bpm and fast[None].rows == slow[None].rows == 30
