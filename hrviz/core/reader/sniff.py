"""Working out a file's layout from its first lines: delimiter, where the samples start, which columns.

Everything is decided here, once, from the sample, so the per-row loop in :mod:`parse` does no
guessing at all.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

from hrviz.core.errors import InputError
from hrviz.core.reader import layouts
from hrviz.core.reader.names import hr_rank, is_hr_type, is_subject_name, time_rank
from hrviz.core.reader.timestamps import (
    TimeFormat,
    choose_format,
    first_unreadable,
    implausible_number,
    is_clock_only,
    is_date_only,
    shown,
)

HR_LOW, HR_HIGH = 25.0, 250.0
EXPECTED = "expected one named bpm, hr, heart_rate, heartRate, pulse, value, … or numeric values 25–250"
_SAMPLE_ROWS = 200
MAX_COLUMNS = 1000  # no heart-rate export is wider; a wider row is not a table hrviz can read


@dataclass(slots=True)
class Row:
    line: int  # 1-based line where the record starts
    cells: list[str]


@dataclass(slots=True)
class Layout:
    """How to read one file: chosen from the sample, applied unchanged to every row."""

    delimiter: str
    data_index: int  # index into the head lines of the first data line
    hr_col: int
    columns: list[str]
    time_cols: tuple[int, ...] = ()  # (), (col,), or (date col, time-of-day col)
    time_format: TimeFormat | None = None
    subject_col: int | None = None
    type_col: int | None = None
    start: float = 0.0  # added to relative times; the first tick of files without a time column
    interval: float = 1.0
    tz_offset_min: int | None = None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _delimiter(lines: Sequence[str]) -> str:
    """The candidate that splits the most lines into the same (>1) number of fields.

    Ties go to ``;``/tab over ``,`` because files split by those often use a decimal comma.
    """
    best, best_score = ",", 0
    text = [ln for ln in lines if ln.strip()][:_SAMPLE_ROWS]
    for delim in (";", "\t", "|", ","):
        counts: dict[int, int] = {}
        try:
            for fields in csv.reader(text, delimiter=delim):
                if len(fields) > 1:
                    counts[len(fields)] = counts.get(len(fields), 0) + 1
        except csv.Error:  # e.g. a field over the size limit when split this way: not this delimiter
            continue
        score = max(counts.values(), default=0)
        if score > best_score:
            best, best_score = delim, score
    return best


_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", "?"})


def _value_like(cell: str) -> bool:
    """A cell that can sit in a heart-rate column: a number (decimal comma too) or a missing marker."""
    return cell.lower() in _MISSING or _is_number(cell) or _is_number(cell.replace(",", "."))


def malformed(err: csv.Error) -> str:
    """The csv module's complaint in words a user can act on."""
    if "field larger than field limit" in str(err):
        return f"malformed CSV: a field longer than {csv.field_size_limit():,} characters"
    return f"malformed CSV: {err}"


def _rows(lines: Sequence[str], delimiter: str, source: str) -> list[Row]:
    """The head's records with their line numbers; blank records dropped, cells stripped."""
    out: list[Row] = []
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if len(fields) > MAX_COLUMNS:
                raise InputError(
                    source,
                    f"{len(fields):,} fields in one row: not a heart-rate table (at most {MAX_COLUMNS:,})",
                    start,
                )
            cells = [f.strip() for f in fields]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                out.append(Row(start, cells))
    except csv.Error as err:
        raise InputError(source, malformed(err), previous + 1) from None
    return out


def _column(rows: Sequence[Row], col: int) -> list[str]:
    return [r.cells[col] for r in rows if col < len(r.cells)]


def _named_header(rows: Sequence[Row]) -> tuple[int, int] | None:
    """``(row index, hr column)`` of the first row naming a heart-rate column above numeric rows."""
    for i, row in enumerate(rows):
        if any(_is_number(c) for c in row.cells):
            continue
        ranked = [(rank, col) for col, c in enumerate(row.cells) if (rank := hr_rank(c)) is not None]
        if not ranked:
            continue
        col = min(ranked)[1]
        following = rows[i + 1 : i + 4]
        values = sum(_value_like(r.cells[col] if col < len(r.cells) else "") for r in following)
        if values == len(following):
            return i, col
        if any(hr_rank(c) is not None for c in following[0].cells):
            continue  # a second row of names (units: "s,bpm") right below: that one is the header
        if 2 * values > len(following):  # most, not all: one typo ("abc") under "bpm" keeps the header
            return i, col
    return None


def _hr_by_content(rows: Sequence[Row], width: int, exclude: set[int]) -> int:
    """The numeric column whose values mostly (≥ 60 %) lie in 25–250 bpm; -1 when none does."""
    best: tuple[float, int] | None = None
    for col in range(width):
        if col in exclude:
            continue
        cells = [c for c in _column(rows, col) if c]
        numbers = [float(c.replace(",", ".")) for c in cells if _is_number(c.replace(",", "."))]
        if not cells or len(numbers) < 0.8 * len(cells):
            continue
        share = sum(1 for v in numbers if HR_LOW <= v <= HR_HIGH) / len(cells)
        if share >= 0.6 and (best is None or share > best[0]):
            best = (share, col)
    return -1 if best is None else best[1]


def _describe(columns: Sequence[str], header: bool, rows: Sequence[Row]) -> str:
    if header:
        return ", ".join(repr(c) for c in columns)
    first = rows[0].cells  # never empty: the caller has data rows
    return ", ".join(f"column {i + 1} (e.g. {shown(c)})" for i, c in enumerate(first)) + " (no header)"


def _pick_time(data: Sequence[Row], formats: dict[int, TimeFormat | None]) -> tuple[tuple[int, ...], TimeFormat | None]:
    """The first readable candidate, or a Date column joined with its separate time-of-day partner."""
    for col, fmt in formats.items():
        if fmt is not None and is_date_only(fmt, _column(data, col)):
            for other in formats:
                if other != col and is_clock_only(_column(data, other)):
                    pair = [f"{d} {t}" for d, t in zip(_column(data, col), _column(data, other), strict=False)]
                    both = choose_format(pair, named=True)
                    if both is not None:
                        return (col, other), both
    for col, fmt in formats.items():
        if fmt is not None:
            return (col,), fmt
    return (), None


def _time_columns(
    header: Sequence[str] | None, data: Sequence[Row], width: int, exclude: set[int], source: str
) -> tuple[tuple[int, ...], TimeFormat | None]:
    """The time column(s) and their format: by name first, then by content."""
    named: list[tuple[int, int]] = []
    if header is not None:
        named = sorted((r, c) for c, h in enumerate(header) if c not in exclude and (r := time_rank(h)) is not None)
    cols, fmt = _pick_time(data, {col: choose_format(_column(data, col), named=True) for _, col in named})
    if fmt is not None:
        return cols, fmt
    if named:
        col = named[0][1]
        rows = [r for r in data if col < len(r.cells) and r.cells[col]]
        number = implausible_number([r.cells[col] for r in rows])
        if number is not None:
            index, why = number
            raise InputError(
                source,
                f"the time {shown(rows[index].cells[col])} in column {header[col]!r} is out of range "  # type: ignore[index]
                f"({why}; times must fall in 1980–2099)",
                rows[index].line,
            )
        assert header is not None
        if not rows:  # before: data[0].cells[col], an IndexError when that row is short
            raise InputError(source, f"the time column {header[col]!r} is empty in every row read", data[0].line)
        bad = rows[first_unreadable([r.cells[col] for r in rows])]
        raise InputError(source, f"cannot read the time {shown(bad.cells[col])} in column {header[col]!r}", bad.line)
    content = {col: choose_format(_column(data, col), named=False) for col in range(width) if col not in exclude}
    return _pick_time(data, {c: f for c, f in content.items() if f is not None})


def _unnamed_header(rows: list[Row]) -> int:
    """0 when the first row is a header of unknown names (words over numbers below), else -1."""
    numeric_later = any(any(_is_number(c) for c in r.cells) for r in rows[1:])
    return 0 if numeric_later and not any(_is_number(c) for c in rows[0].cells) else -1


def _subject_column(header: list[str] | None, data: list[Row], hr_col: int) -> int | None:
    """The column naming the subject of each row (several people in one file), if any.

    A column of all-different values is an id per row, not a subject.
    """
    for col, name in enumerate(header or ()):
        ids = _column(data, col)
        if col != hr_col and is_subject_name(name) and not (len(ids) >= 3 and len(set(ids)) == len(ids)):
            return col
    return None


def sniff(head: Sequence[str], source: str, interval: float) -> Layout:
    """The layout of the file whose first lines are ``head``; raises :class:`InputError` if unusable."""
    if not any(line.strip() for line in head):
        raise InputError(source, "empty file: no data rows")
    e4 = layouts.e4_header(head)
    if e4 is not None:
        start, rate, first = e4
        return Layout(",", first, 0, ["value"], start=start, interval=1.0 / rate, tz_offset_min=0)

    delimiter = _delimiter(head)
    rows = _rows(head, delimiter, source)
    if not rows:
        raise InputError(source, "empty file: no data rows (only blank lines and empty fields)")
    found = _named_header(rows)
    index, hr_col = found if found is not None else (_unnamed_header(rows), -1)
    header = rows[index].cells if index >= 0 else None
    data = rows[index + 1 : index + 1 + _SAMPLE_ROWS]
    preamble = rows[:index] if found is not None else []
    width = max((len(r.cells) for r in data), default=len(header or ()))
    columns = list(header) if header is not None else [f"column {i + 1}" for i in range(width)]
    columns += [f"column {i + 1}" for i in range(len(columns), width)]
    if not data:  # only under a named header: else every row is data, or the numeric rows under a header of words
        raise InputError(source, "header only: no data rows after the header", rows[index].line)

    data_index = data[0].line - 1
    subject_col = _subject_column(header, data, hr_col)
    taken = {c for c in (hr_col, subject_col) if c is not None and c >= 0}
    time_cols, time_format = _time_columns(header, data, width, taken, source)
    taken.update(time_cols)
    type_col = layouts.find_type_column([r.cells for r in data], taken)
    if type_col is not None:
        data = [r for r in data if type_col < len(r.cells) and is_hr_type(r.cells[type_col])]
        taken.add(type_col)
    if hr_col < 0:
        hr_col = _hr_by_content(data, width, taken)  # data: the rows naming heart rate are kept
    if hr_col < 0:
        line = rows[index].line if index >= 0 else data[0].line
        raise InputError(
            source,
            f"no heart-rate column found: columns are {_describe(columns, header is not None, data)} ({EXPECTED})",
            line,
        )

    layout = Layout(
        delimiter, data_index, hr_col, columns, time_cols, time_format, subject_col, type_col, interval=interval
    )
    if time_format is None or time_format.relative:
        layout.start = layouts.find_start([r.cells for r in preamble]) or 0.0
    timed = (r for r in data if all(c < len(r.cells) and r.cells[c] for c in time_cols))
    first_timed = next(timed, None)  # the first row with its time: a row cut short before it says nothing
    if time_format is not None and first_timed is not None:
        layout.tz_offset_min = time_format.offset_min(" ".join(first_timed.cells[c] for c in time_cols))
    return layout
