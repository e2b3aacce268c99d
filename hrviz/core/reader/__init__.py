"""Reading heart-rate CSVs from many devices by detecting their layout (see docs/formats.md).

Entry point: :func:`read_series`. The work is split so each step can be read on its own:
:mod:`decode` (bytes → text lines, streamed), :mod:`sniff` (layout from the first lines),
:mod:`timestamps` and :mod:`layouts` (formats and device quirks), :mod:`parse` (the row loop, with
its optional C kernel in :mod:`fastrows`) and :mod:`collect` (sorting and de-duplication).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import BinaryIO

from hrviz.core.errors import InputError
from hrviz.core.reader import formats
from hrviz.core.reader.decode import TextSource
from hrviz.core.reader.parse import Unstreamable, parse_rows
from hrviz.core.reader.sniff import Layout, sniff
from hrviz.core.series import Series

__all__ = ["read_series", "Layout", "Unstreamable"]


def read_series(
    stream: BinaryIO,
    source: str,
    *,
    interval: float = 1.0,
    subject: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_chunk: Callable[[array, array], None] | None = None,
    chunk_rows: int = 65_536,
    on_layout: Callable[[int | None], None] | None = None,
    window: tuple[float | None, float | None] = (None, None),
) -> list[Series]:
    """Read a heart-rate CSV into one :class:`Series` per subject, in order of first appearance.

    ``interval`` spaces the readings of files that carry no time at all. ``subject`` keeps only that
    subject of a multi-subject file. ``on_progress(bytes_consumed)`` is called every 64 KB or so.
    Raises :class:`InputError` (naming the line when one is to blame) for unusable input.

    ``on_chunk``: for a single-subject file in time order, (ts, bpm) arrays are handed out as the
    file is read and the returned Series holds only what was left (rows and duplicates still
    count the whole file). A multi-subject layout, or a file that goes back in time after a chunk,
    raises :class:`Unstreamable`: read it again without ``on_chunk``. ``on_layout(tz_offset_min)``
    tells the file's UTC offset as soon as it is known, before any chunk.

    FIT, TCX, GPX, Apple Health, Takeout JSON and gzip are told by their content and read by
    :mod:`formats` (``window`` = (since, until) in unix seconds is applied there while reading).
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    kind, peeked = formats.unwrap(stream, source, on_progress)
    if kind != formats.CSV:
        if on_chunk is not None:
            raise Unstreamable(f"{source}: a {kind} file is read whole")
        return formats.read_kind(kind, peeked, source, subject=subject, window=window)
    stream, on_progress = peeked, None  # the peeked stream reports the progress
    text = TextSource(stream, source, on_progress)
    layout = sniff(text.head, source, interval)
    if on_layout is not None:
        on_layout(layout.tz_offset_min)
    measured = False  # did a chunk already handed out hold a usable value?

    def hand_out(ts: array, bpm: array) -> None:
        nonlocal measured
        measured = measured or any(v == v for v in bpm)  # v != v only for NaN
        on_chunk(ts, bpm)  # type: ignore[misc]  # hand_out is only used when on_chunk is set

    if on_chunk is not None and (layout.subject_col is not None or subject is not None):
        raise Unstreamable(f"{source}: several subjects are read whole")
    collectors, seen = parse_rows(
        text.head, text.rest(), layout, source, subject, hand_out if on_chunk is not None else None, chunk_rows
    )
    text.finish()
    if subject is not None and subject not in collectors:
        if layout.subject_col is None:
            raise InputError(
                source, f"unknown subject {subject!r}: the file has one unnamed subject (no id/user/subject column)"
            )
        available = ", ".join(repr(s) for s in seen)
        raise InputError(source, f"unknown subject {subject!r}: the file has {available}")
    series = [c.finish(layout.tz_offset_min) for c in collectors.values() if c.rows]
    if not series:
        raise InputError(source, "nothing parseable: no data row has a readable time and heart rate")
    if not measured and all(math.isnan(v) for s in series for v in s.bpm):
        column = layout.columns[layout.hr_col] if layout.hr_col < len(layout.columns) else "heart rate"
        raise InputError(source, f"nothing parseable: every {column!r} cell is blank, zero, negative or not a number")
    return series
