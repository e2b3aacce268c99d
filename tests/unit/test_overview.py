"""The overview strip's buckets, the seq each event is reached at, and history pages that decode exactly."""

from __future__ import annotations

from itertools import accumulate

from hrviz.core.model import Anomaly, Kind, Reading
from hrviz.core.overview import Overview, build, history_page


def test_buckets_cover_every_reading_and_leave_gaps_empty() -> None:
    readings = [Reading(i, 1000.0 + i, 60.0 + i % 7) for i in range(100)]
    readings += [Reading(100 + i, 1500.0 + i, 80.0) for i in range(100)]  # a 400 s gap before
    ov = build(1000.0, 1599.0, [], readings)
    assert sum(ov.count) == 200
    assert ov.first[0] == 0 and ov.count[ov.buckets // 2] == 0 and ov.first[ov.buckets // 2] == -1
    assert min(x for x in ov.lo if x is not None) == 60 and max(x for x in ov.hi if x is not None) == 80


def test_filled_and_impossible_readings_are_not_in_min_max() -> None:
    readings = [Reading(0, 0.0, 70.0), Reading(1, 1.0, 300.0, kinds=("out_of_range",)), Reading(2, 2.0, 40.0, True)]
    ov = Overview(0.0, 2.0, [], buckets=1)
    for r in readings:
        ov.add(r)
    assert (ov.lo[0], ov.hi[0], ov.count[0]) == (70.0, 70.0, 3)


def test_each_event_gets_the_first_reading_at_or_after_its_start() -> None:
    events = [Anomaly(Kind.SPIKE, 10.5, 12.0), Anomaly(Kind.GAP, 3.0, 9.0), Anomaly(Kind.GAP, 99.0, 120.0)]
    ov = build(0.0, 20.0, events, [Reading(i, float(i), 60.0) for i in range(21)])
    assert [(a.start, s) for a, s in zip(ov.ordered, ov.event_seqs, strict=True)] == [(3.0, 3), (10.5, 11), (99.0, 20)]


def test_history_page_round_trips_times_values_and_flags() -> None:
    readings = [
        Reading(5, 1773469800.25, 61.0),
        Reading(6, 1773469801.25, 62.5, True, ("missing",)),
        Reading(7, 1773469900.0, 64.0),
    ]
    page = history_page(readings, {1773469900.0})
    t0, dt_ms = page["t0"], page["dt_ms"]
    assert isinstance(t0, float) and isinstance(dt_ms, list)
    times = [t0 + ms / 1000 for ms in accumulate(dt_ms)]
    assert times == [r.ts for r in readings]
    assert page["bpm"] == [61, 62.5, 64] and page["first_seq"] == 5
    assert page["filled"] == [1] and page["after_gap"] == [2] and page["kinds"] == [[1, ["missing"]]]
