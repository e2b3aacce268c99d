"""Accumulating one subject's rows into compact arrays, sorting only when the file was out of order."""

from __future__ import annotations

import math
from array import array

from hrviz.core.series import Series


class Collector:
    """One subject's samples as read. Consecutive equal timestamps are dropped on the spot (the
    common case); anything else out of order is left for :meth:`finish` to sort and de-duplicate."""

    __slots__ = ("subject", "ts", "bpm", "last", "rows", "duplicates", "unsorted")

    def __init__(self, subject: str | None) -> None:
        self.subject = subject
        self.ts = array("d")
        self.bpm = array("d")
        self.last = -math.inf
        self.rows = 0
        self.duplicates = 0
        self.unsorted = False

    def finish(self, tz_offset_min: int | None) -> Series:
        """The subject's :class:`Series`: ascending, first-seen row kept for each timestamp."""
        ts, bpm, duplicates = self.ts, self.bpm, self.duplicates
        if self.unsorted:
            # A stable sort by time keeps equal timestamps in file order, so the first of each run
            # is the first seen.
            order = sorted(range(len(ts)), key=ts.__getitem__)
            sorted_ts, sorted_bpm = array("d"), array("d")
            last = -math.inf
            for i in order:
                t = ts[i]
                if t == last:
                    duplicates += 1
                    continue
                sorted_ts.append(t)
                sorted_bpm.append(bpm[i])
                last = t
            ts, bpm = sorted_ts, sorted_bpm
        return Series(self.subject, ts, bpm, self.rows, duplicates, tz_offset_min)
