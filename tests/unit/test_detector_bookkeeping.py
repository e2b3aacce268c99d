"""What the detector remembers between readings, pinned at its boundaries: the history of runs of identical values
(which runs, how many), when the cadence is re-estimated, which runs a reading closes, what is closed at a gap or at
the end of the file, and a level whose median sits at its very edge. Exact events and readings, written out."""

from __future__ import annotations

import pytest

from hrviz.core.cadence import Segment
from hrviz.core.detector import Detector
from hrviz.core.model import Anomaly, Kind, Reading
from tests.unit.test_detector import FLAT, Sample, run, steady, then


def runs_of(lengths: list[int], start: float = 0.0) -> list[Sample]:
    """Consecutive runs of identical values, 1 s apart; neighbours differ by 1 bpm (70, 71, 72, 70, …)."""
    samples: list[Sample] = []
    t = start
    for i, n in enumerate(lengths):
        for _ in range(n):
            samples.append((t, 70.0 + i % 3))
            t += 1.0
    return samples


def stuck_for_70s(samples: list[Sample]) -> list[Sample]:
    return then(samples, [75.5] * 70 + [70.0])


# -- the history of runs that tells a stuck sensor from a source's habit --------------------------------------------


@pytest.mark.parametrize(
    ("short_runs", "flat"),
    [
        (9, False),  # ten runs: the 90th percentile is the longest (30); 70 < 3 × 30
        (10, True),  # eleven runs: it is the second longest (2); 70 ≥ 3 × 2
    ],
)
def test_the_usual_run_is_the_90th_percentile_of_the_runs_so_far(short_runs: int, flat: bool) -> None:
    """One run of 30 identical values among short ones: it excuses a 70 s stretch only while it is in the top 10 %.
    The file's first run counts once, like every other (no phantom run before it)."""
    samples = stuck_for_70s(runs_of([30] + [2] * short_runs))
    start = 30.0 + 2 * short_runs
    assert run(samples)[1] == ([Anomaly(Kind.FLATLINE, start, start + 69, 75.5)] if flat else [])


@pytest.mark.parametrize(("short_runs", "flat"), [(9, False), (10, True)])
def test_a_run_cut_by_a_gap_leaves_no_trace_in_the_history(short_runs: int, flat: bool) -> None:
    """As above, after a first reading and a 5 min gap: the run the gap closed is not counted, nor any other."""
    samples = stuck_for_70s([(0.0, 80.0), *runs_of([30] + [2] * short_runs, start=300.0)])
    start = 330.0 + 2 * short_runs
    gap = Anomaly(Kind.GAP, 0.0, 300.0, baseline=1.0)
    assert run(samples)[1] == ([gap, Anomaly(Kind.FLATLINE, start, start + 69, 75.5)] if flat else [gap])


@pytest.mark.parametrize(
    ("short_runs", "flat"),
    [
        (28, False),  # 32 runs remembered: the 40 among them, and the 90th percentile (index 28) is a 30
        (29, True),  # 33 runs: the 40, the oldest, is forgotten; of the other 32, index 28 is a 2
    ],
)
def test_the_history_holds_the_last_32_runs_exactly(short_runs: int, flat: bool) -> None:
    samples = stuck_for_70s(runs_of([40, 30, 30, 30] + [2] * short_runs))
    start = 130.0 + 2 * short_runs
    assert run(samples)[1] == ([Anomaly(Kind.FLATLINE, start, start + 69, 75.5)] if flat else [])


def test_the_tenth_identical_reading_is_marked_when_it_qualifies() -> None:
    """At 10 s a reading, the tenth identical value spans 90 s: it is the first reading marked as a flatline."""
    lead = [(0.0, 70.0), (10.0, 71.0), (20.0, 70.0), (30.0, 71.0)]
    ten = lead + [(40.0 + i * 10.0, 66.0) for i in range(10)] + [(140.0, 70.0)]
    eleven = lead + [(40.0 + i * 10.0, 66.0) for i in range(11)] + [(150.0, 70.0)]
    readings, events = run(ten, cadence=10.0)
    assert [r.ts for r in readings if "flatline" in r.kinds] == [130.0]
    assert events == [Anomaly(Kind.FLATLINE, 40.0, 130.0, 66.0)]
    readings, events = run(eleven, cadence=10.0)
    assert [r.ts for r in readings if "flatline" in r.kinds] == [130.0, 140.0]
    assert events == [Anomaly(Kind.FLATLINE, 40.0, 140.0, 66.0)]


def test_a_sensor_stuck_at_an_impossible_value_is_both_out_of_range_and_flat() -> None:
    readings, events = run(then(steady(10), [255.0] * 70 + [70.0]))
    assert events == [Anomaly(Kind.FLATLINE, 10.0, 79.0, 255.0), Anomaly(Kind.OUT_OF_RANGE, 10.0, 79.0, 255.0)]
    kinds = {r.ts: r.kinds for r in readings}
    assert [kinds[10.0], kinds[69.0]] == [("out_of_range",), ("out_of_range",)]
    assert [kinds[70.0], kinds[79.0]] == [("out_of_range", "flatline"), ("out_of_range", "flatline")]
    assert kinds[80.0] == ()


# -- which runs one ordinary reading closes ----------------------------------------------------------------------


def test_one_reading_between_two_blank_cells_makes_two_missing_runs() -> None:
    readings, events = run(then(steady(30), [None, 70.0, None, 70.0, 71.0]))
    assert events == [Anomaly(Kind.MISSING, 30.0, 30.0, 71.0, 1.0), Anomaly(Kind.MISSING, 32.0, 32.0, 70.0, 1.0)]
    assert [(r.ts, r.bpm) for r in readings if r.filled] == [(30.0, 71.0), (32.0, 70.0)]


def test_one_reading_between_two_impossible_values_makes_two_events() -> None:
    events = run(then(steady(30), [250.0, 70.0, 250.0, 70.0, 71.0]))[1]
    assert events == [Anomaly(Kind.OUT_OF_RANGE, 30.0, 30.0, 250.0), Anomaly(Kind.OUT_OF_RANGE, 32.0, 32.0, 250.0)]


def test_a_blank_cell_right_after_the_first_reading_repeats_it() -> None:
    readings, events = run([(0.0, 70.0), (1.0, None), (2.0, 71.0), (3.0, 70.0)])
    assert readings == [
        Reading(0, 0.0, 70.0),
        Reading(1, 1.0, 70.0, True, ("missing",)),
        Reading(2, 2.0, 71.0),
        Reading(3, 3.0, 70.0),
    ]
    assert events == [Anomaly(Kind.MISSING, 1.0, 1.0, 70.0, 1.0)]


# -- a level whose median is its lowest (or highest) value -----------------------------------------------------------


def test_exactly_delta_above_a_level_whose_median_is_its_lowest_value_is_a_spike() -> None:
    """70 71 70 71 70: the median is the lowest value, so 100 is exactly 30 above both."""
    level = [(float(i), 70.0 + i % 2) for i in range(9)]
    events = run([*level, (9.0, 100.0), (10.0, 70.0), (11.0, 71.0)])[1]
    assert events == [Anomaly(Kind.SPIKE, 9.0, 9.0, 100.0, 70.0, 30.0)]


def test_exactly_delta_below_a_level_whose_median_is_its_highest_value_is_a_drop() -> None:
    """71 70 71 70 71: the median is the highest value, so 41 is exactly 30 under both."""
    level = [(float(i), 70.0 + i % 2) for i in range(10)]
    events = run([*level, (10.0, 41.0), (11.0, 71.0), (12.0, 70.0)])[1]
    assert events == [Anomaly(Kind.DROP, 10.0, 10.0, 41.0, 71.0, -30.0)]


def test_a_step_of_exactly_one_and_a_half_cadences_misses_nothing_even_under_a_spike() -> None:
    readings, events = run(then(FLAT, [110.0, 70.0, 71.0], step=1.5))
    assert events == [Anomaly(Kind.SPIKE, 10.5, 10.5, 110.0, 70.0, 40.0)]
    assert [r.ts for r in readings if r.filled] == []


# -- what a gap or the end of the file closes ----------------------------------------------------------------------


def test_a_flatline_still_open_at_the_end_of_the_file_or_at_a_gap_is_reported() -> None:
    stuck = then(steady(10), [66.0] * 70)
    assert run(stuck)[1] == [Anomaly(Kind.FLATLINE, 10.0, 79.0, 66.0)]
    after_gap = [*stuck, *steady(4, start=400.0)]
    assert run(after_gap)[1] == [Anomaly(Kind.FLATLINE, 10.0, 79.0, 66.0), Anomaly(Kind.GAP, 79.0, 400.0, baseline=1.0)]


@pytest.mark.parametrize("after", [[], [(300.0, 70.0), (301.0, 71.0), (302.0, 70.0), (303.0, 71.0)]])
def test_an_excursion_cut_by_the_end_of_the_file_or_a_gap_is_no_spike(after: list[Sample]) -> None:
    readings, events = run([*then(FLAT, [120.0, 121.0]), *after])
    assert [(r.ts, r.kinds) for r in readings if r.ts in (10.0, 11.0)] == [(10.0, ()), (11.0, ())]
    assert events == ([Anomaly(Kind.GAP, 11.0, 300.0, baseline=1.0)] if after else [])


def test_the_verdict_on_a_hole_comes_with_the_third_reading_after_it() -> None:
    d = Detector()
    for ts, bpm in steady(10):
        d.feed(ts, bpm)
    assert [d.feed(ts, 70.0) for ts in (310.0, 311.0, 312.0)] == [
        [Reading(10, 310.0, 70.0)],
        [Reading(11, 311.0, 70.0)],
        [Reading(12, 312.0, 70.0)],
    ]
    assert d.feed(313.0, 70.0) == [Anomaly(Kind.GAP, 9.0, 310.0, baseline=1.0), Reading(13, 313.0, 70.0)]


def test_a_hole_is_judged_by_the_steps_after_it_even_ordinary_ones() -> None:
    """An irregular source (usual step 20 s, so 29 s steps are ordinary): 85 s without a reading, then readings every
    29 s. Three of those span 87 s ≥ 85 s: the file slowed down, no gap."""
    samples = [*steady(5), (89.0, 70.0), (118.0, 71.0), (147.0, 70.0), (176.0, 71.0)]
    assert run(samples, usual=20.0)[1] == []
    assert run([*steady(5), (89.0, 70.0)], usual=20.0)[1] == [Anomaly(Kind.GAP, 4.0, 89.0, baseline=1.0)]


# -- when the cadence is re-estimated ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "events"),
    [
        (16, [Anomaly(Kind.MISSING, 17.0, 18.0, 70.0, 1.0)]),  # re-estimated at 1 s: a 3 s step misses two
        (15, []),  # the 3 s step is the 16th: still judged against 5 s
    ],
)
def test_the_cadence_is_re_estimated_after_16_steps(steps: int, events: list[Anomaly]) -> None:
    """Announced at 5 s (the head's estimate), the file runs at 1 s."""
    samples = then(then(steady(steps + 1), [70.0], step=3.0), [71.0])
    assert run(samples, cadence=5.0)[1] == events


def test_the_16_steps_are_counted_across_a_blank_cell() -> None:
    samples = steady(17)
    samples[9] = (9.0, None)
    samples = then(then(samples, [70.0], step=3.0), [71.0])
    expected = [Anomaly(Kind.MISSING, 9.0, 9.0, 71.0, 5.0), Anomaly(Kind.MISSING, 17.0, 18.0, 70.0, 1.0)]
    assert run(samples, cadence=5.0)[1] == expected  # one sample at a time, and in batches of 4
    in_one_batch = [e for _, events in Detector(cadence=5.0).batches(samples) for e in events]
    assert in_one_batch == expected  # ingest's path: the count goes on across the blank cell within one batch


def test_the_last_segment_of_rhythm_ends_at_the_last_reading() -> None:
    d = Detector()
    list(d.run(steady(20)))
    assert d.cadence.segments == [Segment(0.0, 19.0, 1.0, 1.0, [1.0, 1.0], [1.0, 1.0])]
    empty = Detector()
    assert list(empty.run([])) == []
    assert empty.cadence.segments == []
