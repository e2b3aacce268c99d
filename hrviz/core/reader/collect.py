"""Accumulating one subject's rows into compact arrays, and putting late rows in place without a
Python object per row.

Rows that move time forward go to the main run (``ts``/``bpm``), which is therefore always sorted;
a row earlier than the latest seen (a "straggler") goes to a side pair of arrays. :meth:`finish`
sorts the stragglers a block at a time and merges each block into the main run in place, from the
back, so sorting costs a few MB whatever the file's size (docs/formats.md, "Order").
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left

from hrviz.core.series import Series

SORT_BLOCK = 65_536  # stragglers sorted at a time: bounds the Python objects a sort creates
SKIPPED_LINES = 5  # line numbers of skipped rows kept for the report


class Collector:
    """One subject's samples as read. Equal timestamps keep the first row seen; the rest are
    counted as duplicates (on the spot for the main run, in :meth:`finish` for stragglers)."""

    __slots__ = ("subject", "ts", "bpm", "late_ts", "late_bpm", "last", "rows", "duplicates", "skipped", "lines",
                 "ignored")  # fmt: skip

    def __init__(self, subject: str | None) -> None:
        self.subject = subject
        self.ts = array("d")
        self.bpm = array("d")
        self.late_ts = array("d")  # stragglers, in file order
        self.late_bpm = array("d")
        self.last = -math.inf  # the latest time seen: the end of the main run
        self.rows = 0
        self.duplicates = 0
        self.skipped = 0  # rows dropped for an unusable time (counted, reported, never stored)
        self.lines: list[int] = []  # the first few of their line numbers
        self.ignored: dict[str, int] = {}  # rows read but not used as heart rate, by reason

    def ignore(self, why: str) -> None:
        self.ignored[why] = self.ignored.get(why, 0) + 1

    def skip(self, line: int) -> None:
        self.skipped += 1
        if len(self.lines) < SKIPPED_LINES:
            self.lines.append(line)

    def finish(self, tz_offset_min: int | None) -> Series:
        """The subject's :class:`Series`: ascending, first-seen row kept for each timestamp."""
        ts, bpm, late_ts, late_bpm = self.ts, self.bpm, self.late_ts, self.late_bpm
        duplicates = self.duplicates
        for start in range(0, len(late_ts), SORT_BLOCK):
            block_ts, block_bpm, dropped = _sorted_unique(
                late_ts[start : start + SORT_BLOCK], late_bpm[start : start + SORT_BLOCK]
            )
            duplicates += dropped + merge_into(ts, bpm, block_ts, block_bpm)
        self.late_ts, self.late_bpm = array("d"), array("d")
        return Series(
            self.subject,
            ts,
            bpm,
            self.rows,
            duplicates,
            tz_offset_min,
            skipped=self.skipped,
            skipped_lines=tuple(self.lines),
            ignored=dict(self.ignored),
        )


def _sorted_unique(ts: array, bpm: array) -> tuple[array, array, int]:
    """One block of stragglers sorted stably by time, first of equal times kept; and how many were dropped."""
    order = sorted(range(len(ts)), key=ts.__getitem__)
    out_ts, out_bpm = array("d"), array("d")
    last = -math.inf
    for i in order:
        t = ts[i]
        if t != last:
            out_ts.append(t)
            out_bpm.append(bpm[i])
            last = t
    return out_ts, out_bpm, len(ts) - len(out_ts)


def merge_into(ts: array, bpm: array, add_ts: array, add_bpm: array) -> int:
    """Merge sorted, duplicate-free ``add_*`` into sorted ``ts``/``bpm`` in place; returns how many
    were dropped because ``ts`` already had their time.

    Every row already in ``ts`` was seen before the rows being added, so it wins a tie. Works
    from the back: the arrays grow by ``len(add_ts)`` once, then each added row costs one bisect
    and one block move (memmove) of the rows that go after it.
    """
    n, k = len(ts), len(add_ts)
    if not k:
        return 0
    ts.extend(add_ts)  # room at the end; the values are overwritten below
    bpm.extend(add_bpm)
    end = n + k  # write position (exclusive), moving down
    i = n  # ts[:i] are main rows not yet moved
    dropped = 0
    for j in range(k - 1, -1, -1):
        t = add_ts[j]
        p = bisect_left(ts, t, 0, i)
        moved = i - p
        if moved:
            ts[end - moved : end] = ts[p:i]
            bpm[end - moved : end] = bpm[p:i]
            end -= moved
        i = p
        if moved and ts[end] == t:  # the first row moved is the first main row >= t
            dropped += 1
            continue
        end -= 1
        ts[end] = t
        bpm[end] = add_bpm[j]
    if dropped:  # ``dropped`` unwritten slots sit between the unmoved head and the merged tail
        del ts[i : i + dropped]
        del bpm[i : i + dropped]
    return dropped
