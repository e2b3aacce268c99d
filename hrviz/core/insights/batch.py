"""``fold_batch(builder, batch)``: the SummaryBuilder's batch path, what ingest runs for every
batch, so it is written for speed (a function, not a method: summary must not import this).

A batch is cut at its marked readings (filled, or part of an anomaly: few); each stretch of plain
readings between them is folded by :func:`fold_plain` — C-speed builtins: sums, min/max, a Counter
of values, one bisect per clock minute; or its C twin ``_cfold.c``, when built, which gives the
same results to the bit — when nothing in it starts or ends a gap, an episode or an effort, which
is nearly always; else by the per-reading loop (:func:`fold_inline`, or its C twin ``_cinline.c``);
a marked reading by the builder's own ``_fold``. The result equals ``SummaryBuilder.add`` over the
same readings (a unit test holds them equal), up to the rounding of float sums.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from operator import sub
from typing import TYPE_CHECKING

from hrviz.core import speedups
from hrviz.core.insights.summary import GAP_FACTOR, GAP_FLOOR_S, Minute
from hrviz.core.model import Reading, ReadingBatch

if TYPE_CHECKING:
    from hrviz.core.insights.summary import SummaryBuilder

Tracks = Callable[["SummaryBuilder", int, float, float, float, float], bool]


def fold_batch(b: SummaryBuilder, batch: ReadingBatch) -> None:
    if b._probe is not None or b._prev is None:
        b.add(batch)
        return
    n, first, ts, bpm = len(batch.ts), batch.first_seq, batch.ts, batch.bpm
    lo = 0
    for m in [*sorted(batch.marks), n]:
        if m > lo:
            _plain(b, batch, lo, m)
        if m < n:
            b._fold(Reading(first + m, ts[m], bpm[m], *batch.marks[m]))
        lo = m + 1


def _plain(b: SummaryBuilder, batch: ReadingBatch, lo: int, hi: int) -> None:
    """Readings ``lo``..``hi - 1`` of the batch, none of them marked."""
    prev = b._prev
    assert prev is not None
    first, ts, bpm = batch.first_seq, batch.ts, batch.bpm
    if prev.filled or prev.kinds:  # the slow path closes a marked reading
        b._fold(Reading(first + lo, ts[lo], bpm[lo]))
        lo += 1
        if lo >= hi:
            return
        prev = b._prev
        assert prev is not None
    cap = max(GAP_FACTOR * b.s.step, GAP_FLOOR_S)
    args = (b, ts, bpm, lo, hi, prev.ts, prev.bpm, cap, _tracks, Minute)
    done = _FOLD_PLAIN(*args)
    if done is None:  # the C twin folds only floats
        done = fold_plain(*args)
    if not done:
        _inline(b, batch, lo, hi)
        return
    b._prev = Reading(first + hi - 1, ts[hi - 1], bpm[hi - 1])


def fold_plain(
    b: SummaryBuilder,
    ts: list[float],
    bpm: list[float],
    lo: int,
    hi: int,
    prev_ts: float,
    prev_bpm: float,
    cap: float,
    tracks: Tracks,
    minute_type: type[Minute],
) -> bool:
    """Fold readings ``lo``..``hi - 1`` after a plain previous reading, with C-speed builtins; False
    (nothing changed) when a spacing is over ``cap`` or ``tracks`` says a run starts or ends in them.

    ``hrviz/core/insights/_cfold.c`` is this function's C twin (the same arguments, the same
    results to the bit, the same order of float additions); ``tracks`` and ``minute_type`` are
    arguments so that the C one needs no Python import.
    """
    s = b.s
    prev_tss = [prev_ts, *ts[lo : hi - 1]]
    values = [prev_bpm, *bpm[lo : hi - 1]]
    spans = list(map(sub, ts[lo:hi], prev_tss))
    top, bottom = max(values), min(values)
    if max(spans) > cap or not tracks(b, len(values), values[-1], top, bottom, ts[hi - 1]):
        return False
    s.readings += hi - lo
    s.last_ts = ts[hi - 1]
    covered = sum(spans)
    s.covered_s += covered
    s.measured_s += covered
    s.total_bpm += sum(values)
    s.count_bpm += len(values)
    if s.max_bpm is None or top > s.max_bpm:
        s.max_bpm = top
    seconds_at = s.seconds_at
    if min(spans) == spans[0] == max(spans):
        step = spans[0]
        for value, count in Counter(values).items():
            seconds_at[value] = seconds_at.get(value, 0.0) + count * step
    else:
        for value, span in zip(values, spans, strict=True):
            seconds_at[value] = seconds_at.get(value, 0.0) + span
    j, size = 0, len(prev_tss)
    minute = b._minute
    while j < size:
        start = prev_tss[j] - prev_tss[j] % 60
        k = bisect_left(prev_tss, start + 60, j)
        if minute is None or minute.start != start:
            if minute is not None:
                s.minutes.append(minute)
            minute = minute_type(start)
        part = values[j:k]
        minute.count += k - j
        minute.seconds += sum(spans[j:k])
        minute.total += sum(part)
        minute.low = min(minute.low, min(part))
        minute.high = max(minute.high, max(part))
        j = k
    b._minute = minute
    return True


_cfold = speedups.kernel("hrviz.core.insights._cfold")
_FOLD_PLAIN: Callable[..., bool | None] = fold_plain if _cfold is None else _cfold.fold_plain


def _tracks(b: SummaryBuilder, count: int, last: float, top: float, bottom: float, end: float) -> bool:
    """Extend the runs in progress over ``count`` readings (the ``last`` one's value, highest ``top``, lowest
    ``bottom``, ending at ``end``); False when a run would start or end in them."""
    high, low = b._runs["high"], b._runs["low"]
    effort, effort_bpm = b._effort, b.effort_bpm
    if not ((high is None and top <= b.high) or (high is not None and bottom > b.high)):
        return False
    if not ((low is None and bottom >= b.low) or (low is not None and top < b.low)):
        return False
    if effort_bpm is not None:
        if b._pending is not None:
            return False
        if not ((effort is None and top < effort_bpm) or (effort is not None and bottom >= effort_bpm)):
            return False
    for run in (high, low):
        if run is not None:
            run.end, run.out_since = end, None
            run.count += count
            run.peak = max(run.peak, top) if run is high else min(run.peak, bottom)
    if effort is not None:
        effort.end, effort.last_measured = end, last
        effort.peak = max(effort.peak, top)
    return True


def _inline(b: SummaryBuilder, batch: ReadingBatch, lo: int, hi: int) -> None:
    """The per-reading loop, its common case inlined: a stretch with a gap, or a run starting or ending."""
    cap = max(GAP_FACTOR * b.s.step, GAP_FLOOR_S)
    args = (b, batch.ts, batch.bpm, lo, hi, batch.first_seq, cap, Reading, Minute)
    if _FOLD_INLINE(*args) is None:  # the C twin folds only floats
        fold_inline(*args)


def fold_inline(
    b: SummaryBuilder,
    ts: list[float],
    bpm: list[float],
    lo: int,
    hi: int,
    first: int,
    cap: float,
    reading_type: type[Reading],
    minute_type: type[Minute],
) -> bool:
    """Fold readings ``lo``..``hi - 1`` (seqs from ``first``) one by one after a plain previous reading.

    A run or an effort in progress that a reading extends is extended here (as :func:`_tracks` does
    for a whole stretch); whenever one could start or end, the builder's ``_track`` and
    ``_track_effort`` decide, and a gap is the builder's ``_fold``. ``hrviz/core/insights/_cinline.c``
    is this function's C twin: the same arguments, the same calls back, the same results to the bit.
    """
    s, prev = b.s, b._prev
    assert prev is not None
    seconds_at, runs, high, low = s.seconds_at, b._runs, b.high, b.low
    efforts, effort_bpm = b.effort_bpm is not None, b.effort_bpm or 0.0  # no maximum: no efforts, whatever the value
    minute = b._minute
    pt, pb = prev.ts, prev.bpm  # plain: _plain made sure
    covered = total = 0.0
    count = 0
    top = s.max_bpm if s.max_bpm is not None else float("-inf")
    for i in range(lo, hi):
        t, v = ts[i], bpm[i]
        dt = t - pt
        if dt > cap or minute is None:  # a gap, or no minute yet: the builder's own path
            b._minute, s.max_bpm = minute, (top if count or s.max_bpm is not None else None)
            s.covered_s += covered
            s.measured_s += covered
            s.total_bpm += total
            s.count_bpm += count
            covered = total = 0.0
            count = 0
            b._prev = reading_type(first + i - 1, pt, pb)
            b._fold(reading_type(first + i, t, v))
            minute = b._minute
            top = s.max_bpm if s.max_bpm is not None else float("-inf")
            pt, pb = t, v
            continue
        # the previous reading was plain and measured, and stood for dt seconds
        s.readings += 1
        covered += dt
        seconds_at[pb] = seconds_at.get(pb, 0.0) + dt
        total += pb
        count += 1
        if pb > top:
            top = pb
        start = pt - pt % 60
        if minute.start != start:
            s.minutes.append(minute)
            minute = minute_type(start)
        minute.count += 1
        minute.seconds += dt
        minute.total += pb
        if pb < minute.low:
            minute.low = pb
        if pb > minute.high:
            minute.high = pb
        # a run or an effort in progress that this reading extends is extended here (as _tracks does
        # for a whole stretch); the builder decides whenever one could start or end
        run = runs["high"]
        if run is not None and pb > high:
            run.end, run.out_since = pt + dt, None
            run.count += 1
            run.peak = max(run.peak, pb)
        elif run is not None or pb > high:
            b._track("high", pb > high, pt, dt, pb)
        run = runs["low"]
        if run is not None and pb < low:
            run.end, run.out_since = pt + dt, None
            run.count += 1
            run.peak = min(run.peak, pb)
        elif run is not None or pb < low:
            b._track("low", pb < low, pt, dt, pb)
        if efforts:
            run = b._effort
            if run is not None and b._pending is None and pb >= effort_bpm:
                run.end = pt + dt
                run.peak = max(run.peak, pb)
                run.last_measured = pb
            elif run is not None or b._pending is not None or pb >= effort_bpm:
                b._track_effort(pt, dt, pb)
        pt, pb = t, v
    s.covered_s += covered
    s.measured_s += covered
    s.total_bpm += total
    s.count_bpm += count
    if count:
        s.max_bpm = top
    b._minute = minute
    s.last_ts = pt
    b._prev = reading_type(first + hi - 1, pt, pb)
    return True


_cinline = speedups.kernel("hrviz.core.insights._cinline")
_FOLD_INLINE: Callable[..., bool | None] = fold_inline if _cinline is None else _cinline.fold_inline
