"""Live CSV: one line at a time, for input that is still being written (stdin, a growing file).

The first lines fix the layout exactly as for a whole file (:func:`sniff`): lines are held until
they can be sniffed (a header alone cannot), then each line becomes a sample at once. A line that
does not parse is a :class:`BadRow` with its line number — live data goes on — instead of the
file-level tolerance of :mod:`parse`, which needs the whole file to judge.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

from hrviz.core.errors import InputError
from hrviz.core.reader.names import is_hr_type
from hrviz.core.reader.parse import _TIME_ERRORS, _loose_bpm, _time_parser, _why
from hrviz.core.reader.sniff import Layout, sniff
from hrviz.core.reader.timestamps import EARLIEST, ISO, LATEST, absolute

SNIFF_LINES = 20  # lines held at most before the layout must be known
MAX_LINE = 1 << 20  # a line this long without a break is not a reading


@dataclass(frozen=True, slots=True)
class BadRow:
    """A line that gave no reading, and why (reported; the session goes on)."""

    line: int
    why: str


Sample = tuple[float, float]  # (ts, bpm); bpm NaN when the line had no usable value
Parsed = Sample | BadRow


class LineReader:
    """Text lines in, samples out; ``rows`` and ``duplicates`` count like the file reader's."""

    def __init__(self, source: str, interval: float = 1.0, subject: str | None = None) -> None:
        self.source = source
        self.interval = interval
        self.subject = subject
        self.layout: Layout | None = None
        self.lines = 0  # lines seen, so the next one is number lines + 1
        self.rows = 0
        self.duplicates = 0
        self.last = -math.inf
        self.after = -math.inf  # a resumed session: lines up to this time are stored already
        self._head: list[str] = []
        self._header: str | None = None  # the header line, skipped when a replaced file repeats it
        self._aware = False
        self._first = True  # no data row has had a readable time yet: the first one sets the offset

    def line(self, text: str) -> list[Parsed]:
        """One line (its break may be missing); the samples and bad rows it completes, in order."""
        self.lines += 1
        if len(text) > MAX_LINE:
            return [BadRow(self.lines, f"a line of {len(text)} characters is not a reading")]
        if self.layout is None:
            return self._sniff(text)
        if self._header is not None and text.strip() == self._header:
            return []  # a new file of the same name starts with the same header: not data
        return self._row(text, self.lines)

    def _sniff(self, text: str) -> list[Parsed]:
        if not self._head and not text.strip():
            return []
        self._head.append(text if text.endswith("\n") else text + "\n")
        first = self.lines - len(self._head) + 1  # the line number of head[0]
        try:
            layout = sniff(self._head, self.source, self.interval)
        except InputError:
            if len(self._head) >= SNIFF_LINES:
                raise
            return []
        if layout.subject_col is not None and self.subject is None:
            raise InputError(self.source, "live input holds several subjects: choose one with --subject", first)
        self.layout = layout
        self._aware = layout.tz_offset_min is not None
        self._time = _time_parser(layout)
        labels = [line.strip() for line in self._head[: layout.data_index] if line.strip()]
        if labels:  # the header is the last line before the data that is not blank
            self._header = labels[-1]
        out: list[Parsed] = []
        for i, line in enumerate(self._head[layout.data_index :], start=first + layout.data_index):
            out += self._row(line, i)
        self._head = []
        return out

    def _row(self, text: str, number: int) -> list[Parsed]:
        layout = self.layout
        assert layout is not None
        try:
            cells = next(csv.reader([text.rstrip("\r\n")], delimiter=layout.delimiter, skipinitialspace=True), [])
        except csv.Error as err:
            return [BadRow(number, f"not a CSV row ({err})")]
        if not any(c.strip() for c in cells):
            return []
        if layout.type_col is not None and not (layout.type_col < len(cells) and is_hr_type(cells[layout.type_col])):
            return []
        if layout.subject_col is not None:
            name = cells[layout.subject_col].strip() if layout.subject_col < len(cells) else ""
            if name != self.subject:
                return []
        parse, tcol, tcol2 = self._time
        if parse is None:
            t = layout.start + self.rows * layout.interval
        else:
            try:
                t = parse(cells[tcol] if tcol2 < 0 else f"{cells[tcol].strip()} {cells[tcol2].strip()}")
                if layout.time_format is ISO and (ISO.offset_min(cells[tcol]) is not None) != self._aware:
                    t = -math.inf  # an offset unlike the first row's: MIXED in the file reader
            except _TIME_ERRORS:
                t = math.nan
        low = EARLIEST if absolute(layout.time_format) else 0.0
        if not low <= t < LATEST:
            cell = " ".join(cells[c] for c in layout.time_cols if c < len(cells))
            if self._first:  # as in a file: the first data row sets the offset, so it must be readable
                raise InputError(self.source, _why(layout, cell, t, self._aware, " of the first data row"), number)
            return [BadRow(number, _why(layout, cell, t, self._aware))]
        self._first = False
        if t <= self.after:
            return []
        if t <= self.last:
            if t == self.last:  # a row, dropped as a duplicate: counted in both, as the file reader does
                self.rows += 1
                self.duplicates += 1
                return []
            return [BadRow(number, "goes back in time (a live session only moves forward)")]
        try:
            v = float(cells[layout.hr_col])
            if not 0 < v < math.inf:
                v = math.nan
        except ValueError:
            v = _loose_bpm(cells[layout.hr_col])
        except IndexError:
            v = math.nan
        self.rows += 1
        self.last = t
        return [(t, v)]

    @property
    def tz_offset_min(self) -> int | None:
        return None if self.layout is None else self.layout.tz_offset_min
