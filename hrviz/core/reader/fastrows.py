"""The row loop's C kernel (``_cparse.c``): the plain rows of the common layouts, without a Python object per row.

A single-subject layout timed by one ISO-8601 or plain-number column (unix s/ms/µs/ns, elapsed seconds), or by
none, is read by ``_cparse.Rows``: it splits a text stream's lines itself, from blocks, and reads each row that
is certainly plain into the collector, exactly as :meth:`parse.RowLoop.run` would. Every other row (a bad time,
a placeholder, a row back in time, a quote, an ISO form it does not know) it hands back untouched, and
:meth:`RowLoop.run` reads that one row: the Python loop stays the reference and decides everything unusual.
Without a compiler, or with ``HRVIZ_PURE_PYTHON=1`` (:mod:`hrviz.core.speedups`), :func:`start` answers None and
the Python loop reads every row.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, cast

from hrviz.core import speedups
from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.decode import LineTooLong
from hrviz.core.reader.sniff import Layout
from hrviz.core.reader.timestamps import EARLIEST, ISO, LATEST, absolute, unit_of

if TYPE_CHECKING:
    from hrviz.core.reader._cparse import Rows

KERNEL = speedups.kernel("hrviz.core.reader._cparse")
NONE, ISO_TIME, NUMBER = 0, 1, 2  # how the kernel reads the time cell (_cparse.c: TIME_*)
END, HARD, CHUNK = 0, 1, 2  # what Rows.run stopped at (_cparse.c: RUN_*)
# Rows handed back are read by Python one at a time; when they are more than a quarter of a file (every
# reading a placeholder, say), the Python loop reads the rest at once, which then costs less.
GIVE_UP_AFTER = 1_000
BLOCK = 1 << 16  # characters read from a text stream at a time


class Loop(Protocol):
    """What the kernel and :func:`drive` need of :class:`parse.RowLoop` (which imports this module)."""

    layout: Layout
    source: str
    acc: Collector

    def run(self, lines: Iterable[str], base: int, records: int | None = None) -> None: ...

    def hand_out(self, rows: int) -> None: ...


def start(layout: Layout, head: list[str], rest: Iterable[str]) -> Rows | None:
    """The kernel over these lines when it is built and knows the layout; else None (Python reads every row)."""
    if KERNEL is None or layout.subject_col is not None or layout.type_col is not None or len(layout.time_cols) > 1:
        return None
    fmt = layout.time_format
    tcol, kind, scale, relative = -1, NONE, 1.0, False
    if fmt is not None and layout.time_cols:
        tcol, relative = layout.time_cols[0], fmt.relative
        unit = unit_of(fmt)
        if fmt is ISO:
            kind = ISO_TIME
        elif unit is not None:
            kind, scale = NUMBER, unit
        else:
            return None
    read = rest.read if isinstance(rest, io.TextIOBase) else None  # blocks: no str per line
    rows: Rows = KERNEL.Rows(
        head,
        rest,
        read,
        layout.delimiter,
        tcol,
        layout.hr_col,
        kind,
        scale,
        relative,
        layout.start,
        layout.interval,
        EARLIEST if absolute(fmt) else 0.0,
        LATEST,
        layout.tz_offset_min is not None,
        csv.field_size_limit(),
        BLOCK,
    )
    return rows


def drive(rows: Rows, loop: Loop) -> None:
    """Every row: the plain ones by the kernel, each other one by ``loop.run`` (with the lines it spans)."""
    handed = 0
    while True:
        try:
            status = rows.run(loop.acc, loop)
        except LineTooLong as err:
            raise InputError(loop.source, str(err), rows.lines + loop.layout.data_index + 1) from None
        if status == END:
            return
        if status == CHUNK:
            loop.hand_out(loop.acc.rows)
            continue
        handed += 1
        rest = handed > GIVE_UP_AFTER and handed * 4 > rows.lines
        loop.run(itertools.chain([cast(str, rows.line)], rows), rows.lines - 1, None if rest else 1)
        if rest:
            return
