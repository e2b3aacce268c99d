"""Device layouts that are not a plain table: Empatica E4, start times in preambles, metric-type rows.

Kept apart from :mod:`sniff` because each rule here is tied to a known device and is best read
next to an example of the file it is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hrviz.core.reader.names import is_hr_type, norm
from hrviz.core.reader.timestamps import parse_clock, parse_date

_EPOCH = datetime(1970, 1, 1)
_WAHOO_KEYS = ("year", "month", "day", "hour", "minute", "second")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def e4_header(lines: Sequence[str]) -> tuple[float, float, int] | None:
    """Empatica E4 ``HR.csv``: ``(start, rate_hz, index of the first value line)`` or None.

    Line 1 is the session start in unix seconds (UTC), line 2 the sample rate in Hz, then one value
    per line. A file of unix times only (E4 ``tags.csv``) fails the "line 2 is a rate" test.
    """
    found: list[tuple[int, float]] = []
    for index, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        value = _number(text.rstrip(","))  # a line split by a delimiter is no number: not E4
        if value is None:
            return None
        found.append((index, value))
        if len(found) == 3:
            break
    if len(found) < 2:
        return None
    start, rate = found[0][1], found[1][1]
    if not (1e8 <= start < 1e11 and 0 < rate <= 1000):
        return None
    if len(found) == 3 and found[2][1] >= 1e8:
        return None
    first = found[2][0] if len(found) == 3 else found[1][0] + 1
    return start, rate, first


def _wahoo_start(row: Sequence[str]) -> float | None:
    """``Year,2016,Month,10,Day,7,Hour,17,Minute,24,Second,2,…`` → naive start as epoch seconds."""
    keys = {norm(row[i]): row[i + 1] for i in range(0, len(row) - 1, 2)}
    if not {"year", "month", "day"} <= keys.keys():
        return None
    try:
        y, mo, d, h, mi, s = (int(float(keys.get(k, "0") or 0)) for k in _WAHOO_KEYS)
        return (datetime(y, mo, d, h, mi, s) - _EPOCH).total_seconds()
    except (ValueError, TypeError):
        return None


def _summary_start(header: Sequence[str], values: Sequence[str]) -> float | None:
    """A summary table (Polar Flow) whose header has ``Date`` and ``Start time`` columns."""
    keys = [norm(h) for h in header]
    day: float | None = None
    clock = 0.0
    for i, key in enumerate(keys):
        if i >= len(values):
            break
        if key in ("date", "startdate", "day") and day is None:
            day = parse_date(values[i])
        elif key in ("starttime", "start", "time"):
            found = parse_clock(values[i])
            if found is not None:
                clock = found
            else:
                whole = parse_date(values[i])
                if whole is not None:
                    return whole
    return None if day is None else day + clock


def find_start(rows: Sequence[Sequence[str]]) -> float | None:
    """The recording's start time from the lines above the sample table, when the device wrote one."""
    for i, row in enumerate(rows):
        start = _wahoo_start(row)
        if start is None and i + 1 < len(rows):
            start = _summary_start(row, rows[i + 1])
        if start is not None:
            return start
    return None


def find_type_column(rows: Sequence[Sequence[str]], exclude: set[int]) -> int | None:
    """A metric-type column (``HEART_RATE``, ``HKQuantityTypeIdentifierHeartRate`` …) in long files.

    It holds text, not numbers, and at least one of its cells names heart rate.
    """
    width = max((len(r) for r in rows), default=0)
    for col in range(width):
        if col in exclude:
            continue
        cells = [r[col] for r in rows if col < len(r) and r[col]]
        if not cells or any(_number(c) is not None for c in cells):
            continue
        if any(is_hr_type(c) for c in cells):
            return col
    return None
