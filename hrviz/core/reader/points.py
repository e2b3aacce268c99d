"""Timed points from a structured file (FIT, TCX, GPX, Apple Health, Takeout) into per-subject series.

The same :class:`~hrviz.core.reader.collect.Collector` as the CSV reader, so the output is the same
sorted, de-duplicated columns whatever the format.
"""

from __future__ import annotations

from typing import BinaryIO

from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.timestamps import EARLIEST, LATEST

# FIT and Takeout JSON are decoded in memory, at 20-35x their size (a 357 KB FIT: 7-13 MB of
# messages); real ones are a few MB (a day of 1 s records: ~5 MB), so 16 MB caps a decode near 500 MB.
MAX_WHOLE = 16 * 2**20


def read_whole(stream: BinaryIO, source: str, what: str, limit: int = MAX_WHOLE) -> bytes:
    """The stream's bytes, refused past ``limit``: a gzip or zip member that inflates to gigabytes
    (a "bomb", or a 1 GB one-line JSON) is stopped after ``limit`` bytes instead of filling memory."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(1 << 20, limit + 1 - size))  # a stream may return fewer bytes than asked
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise InputError(source, f"over {limit // 2**20} MB uncompressed: too big for a {what} file")


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
