"""What the row loop asks of its C kernel and how it hands rows back and forth (hrviz/core/reader/fastrows.py),
with stand-in kernels written in Python, so this runs (and mutation testing reaches it) without the C one.

The kernel's own equality with the Python loop is tests/unit/test_reader_kernel.py. Here: which layouts get
a kernel and with what settings; and that a kernel vouching for no row at all (every line handed back, one
at a time) reads every file exactly as the Python loop reads it whole — the stretches of rows continue each
other (state, line numbers, chunks, errors); and the switch to Python for the rest of a file.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings

from hrviz.core.errors import InputError
from hrviz.core.reader import decode, fastrows, read_series
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.decode import LineTooLong
from hrviz.core.reader.parse import RowLoop
from hrviz.core.reader.sniff import Layout, sniff
from hrviz.core.reader.timestamps import EARLIEST, ISO, LATEST
from tests.unit import examples
from tests.unit.test_reader_kernel import ISO_ROWS, T0, csv_text, outcome


class Recorded:
    """A kernel that only records how it was made."""

    def __init__(self, *args: object) -> None:
        self.args = args


class HandsBack:
    """A kernel that vouches for no row: every line goes back to Python, one run() at a time."""

    def __init__(self, head: list[str], rest: Iterable[str], *_: object) -> None:
        self._lines: Iterator[str] = itertools.chain(head, rest)
        self.lines = 0
        self.line: str | None = None
        self.chunk_first = False  # answer CHUNK to the first run()
        self.too_long_after: int | None = None  # raise LineTooLong when this many lines are out

    def __iter__(self) -> HandsBack:
        return self

    def __next__(self) -> str:
        if self.lines == self.too_long_after:
            raise LineTooLong(decode.TOO_LONG)
        line = next(self._lines)
        self.lines += 1
        return line

    def run(self, acc: Collector, loop: object) -> int:
        if self.chunk_first:
            self.chunk_first = False
            return fastrows.CHUNK
        try:
            self.line = next(self)
        except StopIteration:
            return fastrows.END
        return fastrows.HARD


def kernel_of(rows: type) -> SimpleNamespace:
    return SimpleNamespace(Rows=rows)


# --- which layouts, which settings ---------------------------------------------------------------------------


def made(lines: list[str], rest: Iterable[str] = ()) -> tuple[object, ...] | None:
    layout = sniff(lines, "t.csv", 1.0)
    rows = fastrows.start(layout, lines[layout.data_index :], rest)
    return None if rows is None else rows.args  # type: ignore[attr-defined]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastrows, "KERNEL", kernel_of(Recorded))


LIMIT = csv.field_size_limit()


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize(
    ("lines", "settings"),
    [
        (
            ["time,bpm", "2026-03-14T07:30:00+01:00,55"],
            (",", 0, 1, fastrows.ISO_TIME, 1.0, False, 0.0, 1.0, EARLIEST, LATEST, True),
        ),  # fmt: skip
        (
            ["bpm;time", "55;2026-03-14 07:30:00"],
            (";", 1, 0, fastrows.ISO_TIME, 1.0, False, 0.0, 1.0, EARLIEST, LATEST, False),
        ),  # fmt: skip
        (["time,bpm", f"{T0},55"], (",", 0, 1, fastrows.NUMBER, 1.0, False, 0.0, 1.0, EARLIEST, LATEST, True)),
        (["time,bpm", f"{T0}000,55"], (",", 0, 1, fastrows.NUMBER, 1e3, False, 0.0, 1.0, EARLIEST, LATEST, True)),
        (["time,bpm", "0,55", "1,56"], (",", 0, 1, fastrows.NUMBER, 1.0, True, 0.0, 1.0, 0.0, LATEST, False)),
        (["bpm", "55", "56"], (",", -1, 0, fastrows.NONE, 1.0, False, 0.0, 1.0, 0.0, LATEST, False)),
    ],
    ids=["iso-aware", "iso-naive-second", "unix-seconds", "unix-ms", "elapsed-seconds", "no-time"],
)
def test_the_kernel_is_made_with_the_layouts_settings(lines: list[str], settings: tuple[object, ...]) -> None:
    args = made(lines, ["x\n"])
    assert args is not None
    head, rest, read, *rest_of_them = args
    assert head == lines[1:] and read is None and list(rest) == ["x\n"]  # type: ignore[call-overload]
    assert tuple(rest_of_them) == (*settings, LIMIT, fastrows.BLOCK)


@pytest.mark.usefixtures("recorded")
def test_a_text_stream_is_read_in_blocks() -> None:
    stream = io.StringIO("x\n", newline="")
    args = made(["time,bpm", f"{T0},55"], stream)
    assert args is not None and args[1] is stream and args[2] == stream.read


@pytest.mark.usefixtures("recorded")
@pytest.mark.parametrize(
    "lines",
    [
        ["time,bpm,user", f"{T0},70,a"],  # a subject column
        ["time,type,value", f"{T0},heart_rate,70"],  # a metric column
        ["date,time,bpm", "2024-01-02,10:00:00,70"],  # a date and a time of day
        ["time,bpm", "1/2/2024 10:00:00,70"],  # a dated format
        ["time,bpm", "00:00:01,70", "00:00:02,71"],  # elapsed HH:MM:SS
    ],
)
def test_other_layouts_are_read_by_python(lines: list[str]) -> None:
    assert made(lines) is None


def test_without_the_kernel_python_reads_every_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastrows, "KERNEL", None)
    assert made(["time,bpm", f"{T0},55"]) is None


# --- rows handed back one at a time read as the whole file ----------------------------------------------------


def both(data: bytes, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> tuple[list[str], list[str]]:
    with monkeypatch.context() as m:
        m.setattr(fastrows, "KERNEL", kernel_of(HandsBack))
        handed = outcome(data, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(fastrows, "KERNEL", None)
        whole = outcome(data, **kwargs)
    return handed, whole


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_text())
def test_rows_handed_back_one_at_a_time_read_as_the_whole_file(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode, "HEAD_LINES", 3)
    for kwargs in ({}, {"chunked": True, "chunk_rows": 3}):
        handed, whole = both(text.encode(), monkeypatch, **kwargs)
        assert handed == whole


@pytest.mark.parametrize(
    "text",
    [
        "time,bpm\n" + "".join(f"{T0 + i},{70 if i % 9 else 0}\n" for i in range(60)),  # placeholders
        "time,bpm\n" + "".join(f"{T0 + i},70\n" for i in range(30)) + f"{T0 - 5},71\n" + f'{T0 + 40},"7\n2"\n',
        "time,bpm\n" + "".join(f"{T0 + i},70\n" if i != 7 else "1e300,70\n" for i in range(300)),  # a bad row: line 9
        "time,bpm\n" + "".join(f"{T0 + i},70\n" if i % 4 else "1e300,70\n" for i in range(300)),  # refused
        "time,bpm\n1e300,70\n",  # the first data row
        "time,bpm\n" + "".join(f"{T0 + i},70\n" for i in range(30)) + '1,"2\n',  # a quote left open: malformed?
        "timestamp,bpm\n" + ISO_ROWS,
        "timestamp,bpm\n" + ISO_ROWS.replace("07:10:00", "07:70:00"),
    ],
)
def test_chosen_files_handed_back_row_by_row_read_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for kwargs in ({}, {"chunked": True, "chunk_rows": 7}):
        handed, whole = both(text.encode(), monkeypatch, **kwargs)
        assert handed == whole


LINES = ["time,bpm"] + [f"{T0 + i},{70 + i}" for i in range(10)]


def loop_and_kernel(lines: list[str], on_chunk: object = None) -> tuple[RowLoop, HandsBack]:
    """A loop sniffed from LINES (chunks of 4 rows) and a kernel handing back ``lines`` after their header."""
    layout = sniff(LINES, "t.csv", 1.0)
    loop = RowLoop(layout, "t.csv", None, on_chunk, 4)  # type: ignore[arg-type]
    return loop, HandsBack(lines[1:], ())


def test_a_chunk_due_is_handed_out_and_the_next_one_counted_from_there() -> None:
    chunks: list[list[float]] = []
    loop, rows = loop_and_kernel(LINES, lambda ts, bpm: chunks.append(ts.tolist()))
    rows.chunk_first = True
    loop.acc.rows = 2  # as if the kernel had read two rows into the collector, the second one due
    loop.acc.ts.extend([1.0, 2.0])
    fastrows.drive(rows, loop)  # type: ignore[arg-type]
    assert chunks == [[1.0, 2.0], [T0 + i for i in range(4)], [T0 + 4 + i for i in range(4)]]  # at rows 2 + 4 …
    assert loop.acc.ts.tolist() == [T0 + 8, T0 + 9] and loop.acc.rows == 12


def test_a_runaway_line_met_by_the_kernel_is_refused_at_its_line() -> None:
    loop, rows = loop_and_kernel(LINES)
    rows.too_long_after = 4
    with pytest.raises(InputError) as info:
        fastrows.drive(rows, loop)  # type: ignore[arg-type]
    assert (info.value.source, info.value.message, info.value.line) == ("t.csv", decode.TOO_LONG, 6)


def test_a_runaway_line_met_by_python_is_refused_at_its_line() -> None:
    loop, rows = loop_and_kernel(["time,bpm", f'{T0},"70', "x", "y", "z"])
    rows.too_long_after = 3  # inside the quoted cell Python is reading
    with pytest.raises(InputError) as info:
        fastrows.drive(rows, loop)  # type: ignore[arg-type]
    assert (info.value.message, info.value.line) == (decode.TOO_LONG, 5)


def test_python_reads_the_rest_once_it_was_handed_over_a_thousand_rows_and_a_quarter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int | None]] = []
    run = RowLoop.run

    def counted(self: RowLoop, lines: Iterable[str], base: int, records: int | None = None) -> None:
        calls.append((base, records))
        run(self, lines, base, records)

    monkeypatch.setattr(RowLoop, "run", counted)
    lines = ["time,bpm"] + [f"{T0 + i},70" for i in range(5000)]
    loop, rows = loop_and_kernel(lines)
    fastrows.drive(rows, loop)  # type: ignore[arg-type]
    assert calls == [(i, 1) for i in range(fastrows.GIVE_UP_AFTER)] + [(fastrows.GIVE_UP_AFTER, None)]
    assert loop.acc.rows == 5000 and rows.lines == 5000


class TakesThreeInFour(HandsBack):
    """A Python stand-in for the C kernel over unix seconds: takes three rows in four into the collector as
    the C one does (time, bpm, order, counts), hands the fourth back."""

    def run(self, acc: Collector, loop: object) -> int:
        for line in self:
            if self.lines % 4 == 0:
                self.line = line
                return fastrows.HARD
            t, bpm = (float(cell) for cell in line.split(","))
            acc.rows += 1
            loop.first_row = False  # type: ignore[attr-defined]
            if t > acc.last:
                acc.ts.append(t)
                acc.bpm.append(bpm)
                acc.last = t
            else:
                acc.duplicates += 1
        return fastrows.END


def test_a_kernel_handing_back_a_quarter_of_the_rows_keeps_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int | None] = []
    run = RowLoop.run

    def counted(self: RowLoop, lines: Iterable[str], base: int, records: int | None = None) -> None:
        calls.append(records)
        run(self, lines, base, records)

    lines = ["time,bpm"] + [f"{T0 + i // 3},{70 + i % 50}" for i in range(8000)]  # every time three times
    loop, _ = loop_and_kernel(lines)
    rows = TakesThreeInFour(lines[1:], ())
    monkeypatch.setattr(RowLoop, "run", counted)
    fastrows.drive(rows, loop)  # type: ignore[arg-type]
    assert calls == [1] * 2000  # a quarter of the lines exactly: never more, never the rest at once
    monkeypatch.undo()
    whole, _ = loop_and_kernel(lines)
    whole.run(lines[1:], 0)
    got, want = loop.acc, whole.acc
    assert (got.ts, got.bpm, got.rows, got.duplicates, got.last) == (want.ts, want.bpm, 8000, 8000 - 2667, T0 + 2666)


@pytest.mark.usefixtures("recorded")
def test_a_layout_with_a_format_but_no_time_column_counts_time_from_its_start() -> None:
    layout = Layout(",", 0, 0, ["bpm"], time_format=ISO, start=5.0, interval=2.0)
    rows = fastrows.start(layout, [], ())
    assert rows is not None and rows.args[3:8] == (",", -1, 0, fastrows.NONE, 1.0)  # type: ignore[attr-defined]
    assert rows.args[9:12] == (5.0, 2.0, EARLIEST)  # type: ignore[attr-defined]  # held to 1980 as Python holds it


def test_a_file_is_read_through_the_kernel_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int | None]] = []
    run = RowLoop.run

    def counted(self: RowLoop, lines: Iterable[str], base: int, records: int | None = None) -> None:
        calls.append((base, records))
        run(self, lines, base, records)

    monkeypatch.setattr(RowLoop, "run", counted)
    monkeypatch.setattr(fastrows, "KERNEL", kernel_of(HandsBack))
    (series,) = read_series(io.BytesIO(f"time,bpm\n{T0},70\n\n{T0 + 1},71\n".encode()), "t.csv")
    assert calls == [(0, 1), (1, 1), (2, 1)] and series.ts.tolist() == [T0, T0 + 1]
    calls.clear()
    monkeypatch.setattr(fastrows, "KERNEL", None)
    read_series(io.BytesIO(f"time,bpm\n{T0},70\n\n{T0 + 1},71\n".encode()), "t.csv")
    assert calls == [(0, None)]  # without one, the Python loop reads the whole file at once
