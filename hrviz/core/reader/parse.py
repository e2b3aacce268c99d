"""The per-row loop: applies a sniffed :class:`Layout` to every data row, with no guessing left.

This is the hot path (millions of rows), so it uses ``csv.reader`` and the layout's one timestamp
parser, keeps everything in locals, and appends straight into ``array('d')`` columns.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Callable, Iterable

from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.names import is_hr_type
from hrviz.core.reader.sniff import Layout

NAN = math.nan
INF = math.inf
# Isolated rows whose time cannot be read are skipped; more than this many (and more than
# BAD_SHARE of the rows) means the layout was misread, so the file is refused instead.
BAD_ROWS_TOLERATED = 10
BAD_SHARE = 0.01
_TIME_ERRORS = (ValueError, IndexError, TypeError, OverflowError)


def _loose_bpm(cell: str) -> float:
    """Second chance for a bpm cell: a decimal comma (``72,5``). Anything else is missing."""
    try:
        value = float(cell.replace(",", "."))
    except ValueError:
        return NAN
    return value if 0 < value < INF else NAN


def _time_getter(layout: Layout) -> tuple[Callable[[list[str]], float] | None, int]:
    """A row → epoch-seconds function for the layout, and the column it mainly reads."""
    fmt = layout.time_format
    if fmt is None or not layout.time_cols:
        return None, -1
    parse = fmt.parse
    if len(layout.time_cols) == 2:
        a, b = layout.time_cols

        def joined(row: list[str]) -> float:
            return parse(f"{row[a].strip()} {row[b].strip()}")

        getter: Callable[[list[str]], float] = joined
    else:
        col = layout.time_cols[0]

        def single(row: list[str]) -> float:
            return parse(row[col])

        getter = single
    if fmt.relative:
        start, relative = layout.start, getter

        def anchored(row: list[str]) -> float:
            return start + relative(row)

        getter = anchored
    return getter, layout.time_cols[0]


def parse_rows(
    head: list[str], rest: Iterable[str], layout: Layout, source: str, subject: str | None
) -> tuple[dict[str | None, Collector], list[str]]:
    """Read every data row into per-subject collectors; returns them and every subject seen."""
    offset = layout.data_index
    reader = csv.reader(itertools.chain(head[offset:], rest), delimiter=layout.delimiter,
                        skipinitialspace=True)
    get_time, time_col = _time_getter(layout)
    hcol = layout.hr_col
    scol = -1 if layout.subject_col is None else layout.subject_col
    ycol = -1 if layout.type_col is None else layout.type_col
    start, interval = layout.start, layout.interval
    collectors: dict[str | None, Collector] = {}
    seen: dict[str, None] = {}
    types: dict[str, bool] = {}
    single = Collector(None)
    if scol < 0:
        collectors[None] = single
    bad = 0
    first_bad: tuple[int, str] | None = None
    first_row = True
    acc = single
    try:
        for row in reader:
            if not row:
                continue
            if ycol >= 0:
                try:
                    kind = row[ycol]
                except IndexError:
                    continue
                flag = types.get(kind)
                if flag is None:
                    flag = types[kind] = is_hr_type(kind)
                if not flag:
                    continue
            if scol >= 0:
                try:
                    key = row[scol].strip()
                except IndexError:
                    key = ""
                found = collectors.get(key)
                if found is None:
                    if key not in seen:
                        seen[key] = None
                    if subject is not None and key != subject:
                        continue
                    found = collectors[key] = Collector(key)
                acc = found
            if get_time is not None:
                try:
                    t = get_time(row)
                except _TIME_ERRORS:
                    if not any(c.strip() for c in row):
                        continue
                    cell = row[time_col] if time_col < len(row) else ""
                    line = reader.line_num + offset
                    if first_row:
                        raise InputError(source, f"cannot read the time {cell!r} in column "
                                         f"{layout.columns[time_col]!r} of the first data row", line) from None
                    bad += 1
                    if first_bad is None:
                        first_bad = (line, cell)
                    continue
            else:
                t = start + acc.rows * interval
            first_row = False
            try:
                v = float(row[hcol])
                if not 0 < v < INF:
                    v = NAN
            except ValueError:
                v = _loose_bpm(row[hcol])
            except IndexError:
                v = NAN
            acc.rows += 1
            if t > acc.last:
                acc.ts.append(t)
                acc.bpm.append(v)
                acc.last = t
            elif t == acc.last:
                acc.duplicates += 1
            else:
                acc.unsorted = True
                acc.ts.append(t)
                acc.bpm.append(v)
                acc.last = t
    except csv.Error as err:
        raise InputError(source, f"malformed CSV: {err}", reader.line_num + offset) from None
    total = sum(c.rows for c in collectors.values()) + bad
    if first_bad is not None and bad > max(BAD_ROWS_TOLERATED, BAD_SHARE * total):
        line, cell = first_bad
        raise InputError(source, f"cannot read the time {cell!r} in column {layout.columns[time_col]!r} "
                         f"({bad} of {total} rows have unreadable times)", line)
    if scol < 0:
        seen = {}
    return collectors, list(seen)
