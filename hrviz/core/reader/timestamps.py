"""Timestamp formats, chosen ONCE per file from the sniffed sample so each row costs one parse call.

Every parser maps a cell to float seconds since the Unix epoch. Naive wall times are stored as if
they were UTC (so formatting them back as naive gives the same wall time); aware ones are converted
to true UTC. ``relative`` formats (elapsed ``HH:MM:SS``, elapsed seconds) give an offset that the
caller adds to the start time found in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)
_fromiso = datetime.fromisoformat
_DAY_CACHE_MAX = 100_000

# The plausible window for a heart-rate sample's time (docs/formats.md, "Bad rows"). A time
# outside it is a bad row, never stored: it is a typo, a placeholder (1970, 1900) or another unit
# (ms in a seconds file), and outside year 1..9999 it cannot even be displayed.
EARLIEST = 315_532_800.0  # 1980-01-01T00:00:00Z, for dates written in the file
LATEST = 4_102_444_800.0  # 2100-01-01T00:00:00Z, for every time
ELAPSED_MAX = 1e8  # elapsed seconds beyond ~3 years are not a recording's elapsed time
_YEAR = 365.2425 * 86400


@dataclass(frozen=True, slots=True)
class TimeFormat:
    """A timestamp format: its name (for messages and docs), its parser and how to read its offset."""

    name: str
    parse: Callable[[str], float]
    offset_min: Callable[[str], int | None]
    relative: bool = False


def _no_offset(cell: str) -> int | None:
    return None


def _utc(cell: str) -> int | None:
    return 0


# --- ISO-8601 ------------------------------------------------------------------------------------


def _iso(cell: str) -> float:
    try:
        dt = _fromiso(cell)
    except ValueError:
        dt = _fromiso(cell.strip().replace("/", "-"))
    if dt.tzinfo is None:
        return (dt - _EPOCH).total_seconds()
    return dt.timestamp()


def _iso_offset(cell: str) -> int | None:
    try:
        dt = _fromiso(cell.strip().replace("/", "-"))
    except ValueError:
        return None
    off = dt.utcoffset()
    return None if off is None else int(off.total_seconds() // 60)


# --- day-month-year families, with a cache of the day's midnight (rows share a handful of days) ---


def _clock(text: str) -> float:
    """``h:mm`` or ``h:mm:ss[.f]`` → seconds since midnight."""
    parts = text.split(":")
    if len(parts) == 2:
        h, m, s = int(parts[0]), int(parts[1]), 0.0
    elif len(parts) == 3:
        h, m, s = int(parts[0]), int(parts[1]), float(parts[2])
    else:
        raise ValueError(text)
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 61):
        raise ValueError(text)
    return h * 3600 + m * 60 + s


def _dated(sep: str, day_first: bool) -> Callable[[str], float]:
    """A parser for ``M/D/YYYY [h:mm[:ss]] [AM|PM]`` and its day-first / dotted cousins."""
    cache: dict[str, float] = {}

    def midnight(day: str) -> float:
        a, b, y = day.split(sep)
        month, dom = (int(b), int(a)) if day_first else (int(a), int(b))
        year = int(y)
        if len(y) == 2:
            year += 2000
        value = (datetime(year, month, dom) - _EPOCH).total_seconds()
        if len(cache) < _DAY_CACHE_MAX:
            cache[day] = value
        return value

    def parse(cell: str) -> float:
        parts = cell.split()
        base = cache.get(parts[0]) if parts else None
        if base is None:
            if not parts:
                raise ValueError("empty")
            base = midnight(parts[0])
        if len(parts) == 1:
            return base
        secs = _clock(parts[1])
        if len(parts) == 3:
            half = parts[2].upper()
            if half == "PM":
                if secs < 43200:
                    secs += 43200
            elif half == "AM":
                if secs >= 43200:
                    secs -= 43200
            else:
                raise ValueError(cell)
        elif len(parts) > 3:
            raise ValueError(cell)
        return base + secs

    return parse


# --- `date` / Java Date.toString(): "Sun Jun 11 07:34:09 PDT 2017" (fitparse's CSV dumps) -------

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_WEEKDAYS = frozenset(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
# the abbreviations such files carry, each one fixed offset; any other name is not guessed at
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600,
}  # fmt: skip


def _weekday_parts(cell: str) -> tuple[float, int | None]:
    """``Www Mmm D hh:mm:ss [ZONE] YYYY`` → (seconds of the wall clock since the epoch, offset)."""
    parts = cell.split()
    if len(parts) not in (5, 6) or parts[0][:3].lower() not in _WEEKDAYS:
        raise ValueError(cell)
    month = _MONTHS.get(parts[1][:3].lower())
    zone = _ZONES.get(parts[4].upper()) if len(parts) == 6 else None
    if month is None or (len(parts) == 6 and zone is None):
        raise ValueError(cell)
    day = (datetime(int(parts[-1]), month, int(parts[2])) - _EPOCH).total_seconds()
    return day + _clock(parts[3]), zone


def _weekday(cell: str) -> float:
    wall, zone = _weekday_parts(cell)
    return wall - (zone or 0) * 60


def _weekday_offset(cell: str) -> int | None:
    try:
        return _weekday_parts(cell)[1]
    except ValueError:
        return None


def _elapsed(cell: str) -> float:
    """Elapsed ``[H]H:MM:SS[.f]`` or ``MM:SS`` → seconds."""
    parts = cell.strip().split(":")
    if len(parts) == 3:
        h, m, s = int(parts[0]), int(parts[1]), float(parts[2])
    elif len(parts) == 2:
        h, m, s = 0, int(parts[0]), float(parts[1])
    else:
        raise ValueError(cell)
    if h < 0 or not (0 <= m < 60 and 0 <= s < 61):
        raise ValueError(cell)
    return h * 3600 + m * 60 + s


def _ms(cell: str) -> float:
    return float(cell) / 1e3


def _us(cell: str) -> float:
    return float(cell) / 1e6


def _ns(cell: str) -> float:
    return float(cell) / 1e9


_UNITS: dict[Callable[[str], float], float] = {float: 1.0, _ms: 1e3, _us: 1e6, _ns: 1e9}


def unit_of(fmt: TimeFormat) -> float | None:
    """What a plain-number format divides its cell by (1 for unix or elapsed seconds, 1e3 for milliseconds …);
    None for a format written as text. The C row kernel reads such numbers itself (reader/fastrows.py)."""
    return _UNITS.get(fmt.parse)


ISO = TimeFormat("ISO-8601", _iso, _iso_offset)
ELAPSED_CLOCK = TimeFormat("elapsed HH:MM:SS", _elapsed, _no_offset, relative=True)
ELAPSED_SECONDS = TimeFormat("elapsed seconds", float, _no_offset, relative=True)
_EPOCHS = (
    (1.0, TimeFormat("unix seconds", float, _utc)),
    (1e3, TimeFormat("unix milliseconds", _ms, _utc)),
    (1e6, TimeFormat("unix microseconds", _us, _utc)),
    (1e9, TimeFormat("unix nanoseconds", _ns, _utc)),
)
_SHARE = 0.8  # a format must read at least this share of the sampled cells


def absolute(fmt: TimeFormat | None) -> bool:
    """True for times written as dates or unix times (held to :data:`EARLIEST`), not elapsed ones."""
    return fmt is not None and not fmt.relative


def shown(cell: str, width: int = 60) -> str:
    """A cell for a message: cut short (a runaway quoted cell can hold the rest of the file)."""
    return repr(cell if len(cell) <= width else cell[: width - 1] + "…")


def year_of(t: float) -> str:
    """The calendar year of epoch seconds ``t``, for messages; never raises."""
    if t != t:
        return "not a number"
    if abs(t) > 1e15:
        return "far outside any calendar"
    try:
        return f"year {(_EPOCH + timedelta(seconds=t)).year}"
    except OverflowError:  # beyond year 1..9999: near enough
        return f"year {int(1970 + t / _YEAR + 0.001)}"


def _text_formats() -> list[TimeFormat]:
    """Fresh instances each file, so the day caches never outlive one read."""
    return [
        ISO,
        TimeFormat("M/D/YYYY h:mm:ss [AM/PM]", _dated("/", day_first=False), _no_offset),
        TimeFormat("D/M/YYYY hh:mm:ss", _dated("/", day_first=True), _no_offset),
        TimeFormat("DD.MM.YYYY hh:mm:ss", _dated(".", day_first=True), _no_offset),
        TimeFormat("D-M-YYYY hh:mm:ss", _dated("-", day_first=True), _no_offset),
        TimeFormat("Www Mmm D hh:mm:ss [ZONE] YYYY", _weekday, _weekday_offset),
        ELAPSED_CLOCK,
    ]


def _as_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _parses(fmt: TimeFormat, cell: str) -> bool:
    try:
        fmt.parse(cell)
    except (ValueError, TypeError, OverflowError, IndexError):
        return False
    return True


def choose_format(cells: Sequence[str], *, named: bool) -> TimeFormat | None:
    """The format that parses the most of these sample cells (at least 80 %), or None.

    Plain numbers are unix times in the unit (s, ms, µs, ns) that puts at least 80 % of them in
    the plausible window (1980–2099), or elapsed seconds (0 to about 3 years) when the column is
    *named* like a time (Wahoo's ``time``: 1, 2, 3 …). The unit holds for the whole file: a row in
    another unit lands outside the window and is a bad row (see :mod:`parse`).
    """
    cells = [c.strip() for c in cells if c.strip()]
    if not cells:
        return None
    numbers = [_as_float(c) for c in cells]
    if all(n is not None for n in numbers):
        values = [n for n in numbers if n is not None]
        need = _SHARE * len(values)
        for scale, fmt in _EPOCHS:
            low, high = EARLIEST * scale, LATEST * scale
            if sum(1 for v in values if low <= v < high) >= need:
                return fmt
        if named and sum(1 for v in values if 0 <= v < ELAPSED_MAX) >= need:
            return ELAPSED_SECONDS
        return None
    best: TimeFormat | None = None
    best_count = 0
    for fmt in _text_formats():
        count = sum(1 for c in cells if _parses(fmt, c))
        if count > best_count:
            best, best_count = fmt, count
    if best is None or best_count < _SHARE * len(cells):
        return None
    return best


def implausible_number(cells: Sequence[str]) -> tuple[int, str] | None:
    """For a named time column of plain numbers that no unit reads: the first cell that is no
    plausible unix time, and why (what it would be in seconds and in milliseconds). None otherwise."""
    values = [_as_float(c.strip()) for c in cells]
    if not values or any(v is None for v in values):
        return None
    for i, v in enumerate(values):
        assert v is not None
        if not any(EARLIEST * scale <= v < LATEST * scale for scale, _ in _EPOCHS):
            return i, f"as unix seconds {year_of(v)}, as milliseconds {year_of(v / 1e3)}"
    return None


def first_unreadable(cells: Sequence[str]) -> int:
    """Index of the first cell that the best-fitting text format cannot parse (for error messages)."""
    formats = _text_formats()
    best = max(formats, key=lambda fmt: sum(1 for c in cells if _parses(fmt, c.strip())))
    return next((i for i, c in enumerate(cells) if not _parses(best, c.strip())), 0)


def is_date_only(fmt: TimeFormat, cells: Sequence[str]) -> bool:
    """True when every cell falls on a midnight: a ``Date`` column that wants its ``Time`` partner."""
    if fmt.relative or fmt.name.startswith("unix"):
        return False
    try:
        return all(fmt.parse(c) % 86400 == 0 and ":" not in c for c in cells if c.strip())
    except ValueError:
        return False


_HALF_OR_ZONE = re.compile(r"\s*(?:[AaPp][Mm]|Z|[+-]\d\d:?\d\d)$")


def is_clock_only(cells: Sequence[str]) -> bool:
    """True when every cell is a time of day, ``h:mm[:ss]`` with or without ``AM``/``PM`` or a UTC
    offset (``10:00 AM``, ``10:00:00+02:00``): the ``Time`` column that goes with a ``Date`` column."""
    try:
        times = [_HALF_OR_ZONE.sub("", c.strip()) for c in cells if c.strip()]
        return all(_clock(t) >= 0 for t in times) and bool(times)
    except ValueError:
        return False


def parse_date(cell: str) -> float | None:
    """A lone date in any known format (for start dates found in summary tables), or None."""
    cell = cell.strip()
    for fmt in _text_formats():
        if fmt.relative:
            continue
        try:
            return fmt.parse(cell)
        except (ValueError, TypeError, OverflowError, IndexError):
            continue
    return None


def parse_clock(cell: str) -> float | None:
    try:
        return _clock(cell.strip())
    except ValueError:
        return None
