"""The per-row loop: applies a sniffed :class:`Layout` to every data row, with no guessing left.

This is the hot path (millions of rows), so it uses ``csv.reader`` and the layout's one timestamp
parser, keeps everything in locals, and appends straight into ``array('d')`` columns. A C twin
(``_cparse.c``, driven by :mod:`fastrows`) reads the plain rows of the common layouts and hands every
other row back to this loop, the reference; without a compiler this loop reads them all.
"""

from __future__ import annotations

import csv
import itertools
import math
from array import array
from collections.abc import Callable, Iterable
from datetime import datetime

from hrviz.core.errors import InputError
from hrviz.core.reader import fastrows
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.decode import LineTooLong
from hrviz.core.reader.names import is_hr_type
from hrviz.core.reader.sniff import Layout, malformed
from hrviz.core.reader.timestamps import EARLIEST, ISO, LATEST, absolute, shown, year_of

EPOCH = datetime(1970, 1, 1)
NAN = math.nan
INF = math.inf
MIXED = -math.inf  # an ISO time whose UTC offset (or lack of one) differs from the first data row's
# Rows with an unusable time are skipped (and reported) while they are a few strays in a file that
# reads fine around them: up to BAD_ROWS_TOLERATED or BAD_SHARE of the rows, whichever is more,
# and never over BAD_SHARE_MAX of them. Beyond that the layout was misread or the file is mixed,
# so it is refused instead (docs/formats.md, "Bad rows").
BAD_ROWS_TOLERATED = 10
BAD_SHARE = 0.01
BAD_SHARE_MAX = 0.05
# Each subject is a session of its own: a file naming more is refused, as a hostile or mistaken
# subject column (a 9.5 MB CSV of 300,000 one-row subjects ran > 2 min at 390 MB before).
MAX_SUBJECTS = 10_000
_TIME_ERRORS = (ValueError, IndexError, TypeError, OverflowError)


def _loose_bpm(cell: str) -> float:
    """Second chance for a bpm cell: a decimal comma (``72,5``). Anything else is missing."""
    try:
        value = float(cell.replace(",", "."))
    except ValueError:
        return NAN
    return value if 0 < value < INF else NAN


def _offset_suffix(cell: str, dt: datetime) -> tuple[str, float]:
    """The text of ``cell``'s UTC offset ("Z", "+01:00", "-0500") and its seconds; ("", 0) if unsure."""
    offset = dt.utcoffset()
    if offset is None:
        return "", 0.0
    seconds = offset.total_seconds()
    for size in (1, 6, 5):
        tail = cell[-size:]
        if tail[0] not in "Z+-":  # a digit of the time: "0-0500" off "…:00.120-0500" would cut "…:10-0500" short
            continue
        try:
            naive = datetime.fromisoformat(cell[:-size])
        except ValueError:
            continue
        if naive.tzinfo is None and (naive - EPOCH).total_seconds() - seconds == dt.timestamp():
            return tail, seconds
    return "", 0.0


def _time_parser(layout: Layout) -> tuple[Callable[[str], float] | None, int, int]:
    """The cell → epoch-seconds function, its column, and the time-of-day column of split layouts."""
    fmt = layout.time_format
    if fmt is None or not layout.time_cols:
        return None, -1, -1
    parse = fmt.parse
    if fmt.relative:
        start, relative = layout.start, parse

        def anchored(cell: str) -> float:
            return start + relative(cell)

        parse = anchored
    second = layout.time_cols[1] if len(layout.time_cols) == 2 else -1
    return parse, layout.time_cols[0], second


class Unstreamable(Exception):
    """Rows went back in time while chunks were being handed out: the caller must read it whole."""


def _why(layout: Layout, cell: str, t: float, aware: bool, where: str = "") -> str:
    """What is wrong with one row's time, for messages (``where`` goes after the column's name)."""
    fmt = layout.time_format
    if fmt is None or not layout.time_cols:
        return f"the time of reading{where} falls in {year_of(t)}, after 2099 (from the start plus the interval)"
    column = " + ".join(repr(layout.columns[c]) for c in layout.time_cols)
    what = f"the time {shown(cell)} in column {column}{where}"
    if t != t:
        return f"cannot read {what}"
    if t == MIXED and fmt is ISO:
        return f"{what} has {'no' if aware else 'a'} UTC offset, unlike the first data row"
    read_as = f"read as {fmt.name}, " if fmt.name.startswith("unix") else ""
    window = "in 1980–2099" if absolute(fmt) else "before 2100"
    return f"{what} is out of range ({read_as}{year_of(t)}; times must fall {window})"


def too_many_subjects() -> str:
    return f"more than {MAX_SUBJECTS:,} subjects: each would be a session of its own"


def parse_rows(
    head: list[str],
    rest: Iterable[str],
    layout: Layout,
    source: str,
    subject: str | None,
    on_chunk: Callable[[array, array], None] | None = None,
    chunk_rows: int = 65_536,
) -> tuple[dict[str | None, Collector], list[str]]:
    """Read every data row into per-subject collectors; returns them and every subject seen.

    A row whose time is unreadable, outside the plausible window (1980–2099 for dates and unix
    times) or, for ISO times, aware where the first data row is naive (or the reverse) is a bad
    row: skipped and counted while they are few, else the file is refused (see the constants).

    With ``on_chunk`` (single-subject layouts only), every ``chunk_rows`` rows of a file that is in
    time order so far are handed out as (ts, bpm) arrays and dropped here, so a consumer can work
    while the rest is read; the collector keeps only the tail. Raises :class:`Unstreamable` as soon
    as a row goes back in time: such files are sorted by one reader that holds them whole.

    ``rest`` read as a text stream (``io.TextIOBase``) is read in blocks by the C kernel when it is
    built and the layout is one it knows (:mod:`hrviz.core.reader.fastrows`); the rows are the same.
    """
    if on_chunk is not None and (layout.subject_col is not None or subject is not None):
        raise ValueError("chunks are for single-subject layouts")
    loop = RowLoop(layout, source, subject, on_chunk, chunk_rows)
    fast = fastrows.start(layout, head[layout.data_index :], rest)
    if fast is None:
        loop.run(itertools.chain(head[layout.data_index :], rest), 0)
    else:
        fastrows.drive(fast, loop)
    return loop.finish()


class RowLoop:
    """The per-row loop and where it stands between stretches of rows.

    :meth:`run` keeps every counter in locals (the hot path) and puts them back here when its
    rows are done, so a C kernel (:mod:`fastrows`) can read the plain rows in between: it reads
    and updates ``first_row``, ``next_chunk``, the collector's ``last``/``rows``/``duplicates``
    and its columns, and hands every other row to :meth:`run` as a stretch of its own.
    """

    def __init__(
        self,
        layout: Layout,
        source: str,
        subject: str | None,
        on_chunk: Callable[[array, array], None] | None,
        chunk_rows: int,
    ) -> None:
        self.layout, self.source, self.subject = layout, source, subject
        self.on_chunk, self.chunk_rows = on_chunk, chunk_rows
        self.aware = layout.tz_offset_min is not None  # for ISO: the first data row had a UTC offset
        self.suffix, self.suffix_seconds = "", 0.0  # the first offset seen, e.g. "+01:00", once known
        self.collectors: dict[str | None, Collector] = {}
        self.seen: dict[str, None] = {}
        self.types: dict[str, bool] = {}
        self.acc = Collector(None)  # the current subject's
        if layout.subject_col is None:
            self.collectors[None] = self.acc
        self.key: str | None = None
        self.next_chunk = chunk_rows if on_chunk is not None else 1 << 62
        self.bad = 0
        self.first_bad: tuple[int, str, float] | None = None
        self.first_row = True

    def hand_out(self, rows: int) -> None:
        """The collector's columns go to ``on_chunk``; it starts new ones."""
        acc = self.acc
        self.next_chunk = rows + self.chunk_rows
        self.on_chunk(acc.ts, acc.bpm)  # type: ignore[misc]  # set whenever next_chunk is reached
        acc.ts, acc.bpm = array("d"), array("d")

    def run(self, lines: Iterable[str], base: int, records: int | None = None) -> None:
        """Read the rows of ``lines`` (the first ``records`` only, when given); ``base`` lines came before them."""
        layout, source, subject = self.layout, self.source, self.subject
        offset = layout.data_index + base
        reader = csv.reader(lines, delimiter=layout.delimiter, skipinitialspace=True)
        parse_time, tcol, tcol2 = _time_parser(layout)
        hcol = layout.hr_col
        scol = -1 if layout.subject_col is None else layout.subject_col
        ycol = -1 if layout.type_col is None else layout.type_col
        start, interval = layout.start, layout.interval
        low, high = (EARLIEST if absolute(layout.time_format) else 0.0), LATEST
        iso = layout.time_format is ISO and tcol2 < 0
        aware = self.aware
        fromiso = datetime.fromisoformat
        suffix, suffix_seconds = self.suffix, self.suffix_seconds
        cut = -len(suffix) if suffix else None
        collectors, seen, types = self.collectors, self.seen, self.types
        acc, key = self.acc, self.key
        # The current subject's state lives in locals (the hot path); it is swapped in and out of its
        # Collector only when the subject changes, which in practice is once per subject.
        ts_append, bpm_append = acc.ts.append, acc.bpm.append
        late_ts_append, late_bpm_append = acc.late_ts.append, acc.late_bpm.append
        last, rows, duplicates = acc.last, acc.rows, acc.duplicates
        next_chunk = self.next_chunk
        bad, first_bad, first_row = self.bad, self.first_bad, self.first_row
        try:
            for row in reader if records is None else itertools.islice(reader, records):
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
                    if not flag:  # another metric of a mixed log: counted, so the summary can say so
                        acc.ignore(f"metric {kind.strip()}")
                        continue
                if scol >= 0:
                    try:
                        name = row[scol].strip()
                    except IndexError:
                        name = ""
                    if name != key:
                        found = collectors.get(name)
                        if found is None:
                            if name not in seen:
                                seen[name] = None
                                if len(seen) > MAX_SUBJECTS:
                                    raise InputError(source, too_many_subjects(), reader.line_num + offset)
                            if subject is not None and name != subject:
                                continue
                            found = collectors[name] = Collector(name)
                        acc.last, acc.rows, acc.duplicates = last, rows, duplicates
                        acc, key = found, name
                        ts_append, bpm_append = acc.ts.append, acc.bpm.append
                        late_ts_append, late_bpm_append = acc.late_ts.append, acc.late_bpm.append
                        last, rows, duplicates = acc.last, acc.rows, acc.duplicates
                if iso:  # the common case, inlined: one C parse, no Python call
                    try:
                        cell = row[tcol]
                        if suffix and cell.endswith(suffix):  # the file's own offset: naive arithmetic is 2× faster
                            t = (fromiso(cell[:cut]) - EPOCH).total_seconds() - suffix_seconds
                        else:
                            try:
                                dt = fromiso(cell)
                            except ValueError:
                                dt = fromiso(cell.strip().replace("/", "-"))
                            if dt.tzinfo is None:
                                t = MIXED if aware else (dt - EPOCH).total_seconds()
                            elif aware:
                                t = dt.timestamp()
                                if not suffix:
                                    suffix, suffix_seconds = _offset_suffix(cell, dt)
                                    cut = -len(suffix) if suffix else None
                            else:
                                t = MIXED
                    except _TIME_ERRORS:
                        t = NAN
                elif parse_time is None:
                    t = start + rows * interval
                else:
                    try:
                        t = parse_time(row[tcol] if tcol2 < 0 else f"{row[tcol].strip()} {row[tcol2].strip()}")
                    except _TIME_ERRORS:
                        t = NAN
                if not low <= t < high:  # unreadable (NaN), implausible, or an offset unlike the file's
                    if not any(c.strip() for c in row):
                        continue
                    cell = " ".join(row[c] for c in layout.time_cols if c < len(row))
                    line = reader.line_num + offset
                    if first_row:
                        raise InputError(source, _why(layout, cell, t, aware, " of the first data row"), line) from None
                    bad += 1
                    if first_bad is None:
                        first_bad = (line, cell, t)
                    acc.skip(line)
                    continue
                first_row = False
                try:
                    v = float(row[hcol])
                    if not 0 < v < INF:
                        if v == v:  # a number that stands for "no value" (0 while paused, a -1 sentinel)
                            acc.ignore(f"placeholder {v:g}")
                        v = NAN
                except ValueError:
                    v = _loose_bpm(row[hcol])
                except IndexError:
                    v = NAN
                rows += 1
                if t > last:
                    ts_append(t)
                    bpm_append(v)
                    last = t
                    if rows >= next_chunk:
                        self.hand_out(rows)
                        next_chunk = self.next_chunk
                        ts_append, bpm_append = acc.ts.append, acc.bpm.append
                elif t == last:
                    duplicates += 1
                else:  # a straggler: sorted into place by Collector.finish
                    if self.on_chunk is not None:
                        raise Unstreamable(f"{source}: line {reader.line_num + offset} goes back in time")
                    late_ts_append(t)
                    late_bpm_append(v)
        except csv.Error as err:
            raise InputError(source, malformed(err), reader.line_num + offset) from None
        except LineTooLong as err:
            raise InputError(source, str(err), reader.line_num + offset + 1) from None
        acc.last, acc.rows, acc.duplicates = last, rows, duplicates
        self.acc, self.key, self.next_chunk = acc, key, next_chunk
        self.bad, self.first_bad, self.first_row = bad, first_bad, first_row
        self.suffix, self.suffix_seconds = suffix, suffix_seconds

    def finish(self) -> tuple[dict[str | None, Collector], list[str]]:
        """The collectors and the subjects seen, once every row is read; refuses a file of too many bad rows."""
        collectors, bad, first_bad = self.collectors, self.bad, self.first_bad
        total = sum(c.rows for c in collectors.values()) + bad
        if first_bad is not None and (bad > max(BAD_ROWS_TOLERATED, BAD_SHARE * total) or bad > BAD_SHARE_MAX * total):
            line, cell, t = first_bad
            why = _why(self.layout, cell, t, self.aware)
            raise InputError(self.source, f"{why} ({bad} of {total} rows have unusable times)", line)
        return collectors, list(self.seen) if self.layout.subject_col is not None else []
