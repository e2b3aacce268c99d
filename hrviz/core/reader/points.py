"""Timed points from a structured file (FIT, TCX, GPX, Apple Health, Takeout) into per-subject series.

The same :class:`~hrviz.core.reader.collect.Collector` as the CSV reader, so the output is the same
sorted, de-duplicated columns whatever the format.
"""

from __future__ import annotations

from hrviz.core.reader.collect import Collector
from hrviz.core.reader.timestamps import EARLIEST, LATEST


def add(c: Collector, t: float, bpm: float) -> None:
    """One reading; consecutive equal times are duplicates, anything out of order is sorted later.

    A time outside 1980–2099 (NaN too) is a bad reading, as a CSV's bad row: counted in
    ``skipped``, never stored (docs/formats.md, "Bad rows"); :func:`formats.read_kind` refuses the
    file when there are more than a few."""
    if not EARLIEST <= t < LATEST:
        c.skipped += 1
        return
    c.rows += 1
    if t > c.last:
        c.ts.append(t)
        c.bpm.append(bpm)
        c.last = t
    elif t == c.last:
        c.duplicates += 1
    else:  # a straggler: merged into place by Collector.finish
        c.late_ts.append(t)
        c.late_bpm.append(bpm)
