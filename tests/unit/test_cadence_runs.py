"""The detector's helpers on their own: the rolling cadence (hrviz/core/cadence.py) and the runs, holes and median
(hrviz/core/runs.py). Exact values, so that scripts/mutation.sh finds no comparison or index that could move."""

from __future__ import annotations

from array import array

import pytest

from hrviz.core.cadence import Cadence, Segment
from hrviz.core.detector import Detector
from hrviz.core.model import Anomaly, Kind
from hrviz.core.runs import Hole, Run, median
from hrviz.core.series import Series, cadence_of


def test_median_of_odd_and_even_counts() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([1.0, 2.0, 10.0, 20.0]) == 6.0
    assert median([5.0]) == 5.0


@pytest.mark.parametrize(("length", "gap"), [(600.0, False), (601.0, True)])
def test_a_hole_is_a_gap_unless_the_median_following_step_is_a_third_of_it(length: float, gap: bool) -> None:
    hole = Hole(0.0, length, 1.0, 1.0, follow=[10.0, 300.0, 200.0])  # median 200: 3 × 200 = 600
    assert hole.verdict() == (Anomaly(Kind.GAP, 0.0, length, baseline=1.0) if gap else None)


def test_a_hole_at_the_end_of_the_file_is_judged_by_the_step_before_it() -> None:
    assert Hole(0.0, 300.0, 1.0, 100.0).verdict() is None
    assert Hole(0.0, 301.0, 1.0, 100.0).verdict() == Anomaly(Kind.GAP, 0.0, 301.0, baseline=1.0)


def test_an_event_delta_is_rounded_to_two_decimals() -> None:
    run = Run(Kind.SPIKE, 1.0, 2.0, 100.333, 70.0)
    assert run.event() == Anomaly(Kind.SPIKE, 1.0, 2.0, 100.333, 70.0, 30.33)


def test_cadence_start_and_thresholds() -> None:
    c = Cadence(1.5, 60.0)
    c.start(0.0, -1.0)  # nonsense estimates fall back to 1 s and no irregularity
    assert (c.step, c.usual, c.missing_after, c.gap_after) == (1.0, 0.0, 1.5, 60.0)
    c.start(2.0, 10.0)  # an irregular source: 1.5 × its usual step before "missing"
    assert (c.step, c.usual, c.missing_after, c.gap_after) == (2.0, 10.0, 15.0, 60.0)
    c.start(10.0, 40.0)  # 4 × the usual step before a hole
    assert (c.step, c.usual, c.missing_after, c.gap_after) == (10.0, 40.0, 60.0, 160.0)
    c.start(10.0, 20.0)  # 10 cadences before a hole
    assert (c.step, c.usual, c.missing_after, c.gap_after) == (10.0, 20.0, 30.0, 100.0)
    wide = Cadence(12.0, 60.0)  # a missing_factor over 10: never a gap before "missing"
    wide.start(10.0, 0.0)
    assert (wide.missing_after, wide.gap_after) == (120.0, 120.0)


def test_cadence_segments_open_and_follow() -> None:
    c = Cadence(1.5, 60.0)
    c.start(1.0, 1.0)
    c.note(0.0)
    assert c.segments == [Segment(0.0, 0.0, 1.0, 1.0)]
    for i in range(16):
        c.add(1.0, float(i + 1))
    assert c.segments == [Segment(0.0, 16.0, 1.0, 1.0, [1.0], [1.0])]  # the measured estimate replaces the first
    for i in range(16):
        c.add(10.0, 26.0 + 10.0 * i)
    # window: 16 of 1 s and 16 of 10 s, median 10: a new rhythm, since the 16 steps that showed it (160 s)
    assert c.segments == [
        Segment(0.0, 16.0, 1.0, 1.0, [1.0], [1.0]),
        Segment(16.0, 176.0, 10.0, 10.0, [10.0], [10.0]),
    ]


def test_cadence_retunes_every_sixteen_steps_on_the_last_thirty_two() -> None:
    c = Cadence(1.5, 60.0)
    c.start(1.0, 1.0)
    for i in range(15):
        c.add(1.0, float(i + 1))
    assert (len(c.steps), c.window) == (15, [])
    c.add(1.0, 16.0)
    assert (c.steps, c.window) == ([], [1.0] * 16)
    for i, step in enumerate([1.0] * 12 + [2.0, 3.0, 4.0, 5.0]):
        c.add(step, 17.0 + i)
    assert c.window == [1.0] * 28 + [2.0, 3.0, 4.0, 5.0]
    assert (c.step, c.usual) == (1.0, 2.0)  # median, and the 90th percentile: sorted index 28 of 32
    for i in range(16):
        c.add(9.0, 40.0 + i)
    assert len(c.window) == 32 and (c.step, c.usual) == (9.0, 9.0)


def test_a_short_window_takes_its_largest_step_as_the_usual_one() -> None:
    c = Cadence(1.5, 60.0)
    c.steps.extend([1.0, 1.0, 1.0, 1.0, 9.0])
    c.retune(10.0)
    assert (c.step, c.usual) == (1.0, 9.0)


def test_segment_medians_of_its_estimates() -> None:
    assert Segment(0.0, 1.0, 1.0, 1.0, [1.0, 3.0, 2.0], [5.0, 4.0, 6.0]).every == 2.0
    assert Segment(0.0, 1.0, 1.0, 1.0, [4.0, 1.0, 3.0, 2.0], [4.0, 1.0, 3.0, 2.0]).usual_max == 3.0
    assert (Segment(0.0, 1.0, 7.0, 8.0).every, Segment(0.0, 1.0, 7.0, 8.0).usual_max) == (7.0, 8.0)


def test_segments_of_a_file_that_changes_rhythm() -> None:
    """1 s, then 10 s (a new segment), then 2–3 s (0.3 × 10 s: within a factor of 4, the same segment)."""
    samples: list[tuple[float, float | None]] = []
    t = 0.0
    for step, n in ((1.0, 100), (10.0, 100)):
        for i in range(n):
            samples.append((t, 70.0 + i % 3))
            t += step
    for i in range(60):
        samples.append((t, 70.0 + i % 3))
        t += 2.0 if i % 2 else 3.0
    d = Detector(cadence=1.0, usual_step=1.0)
    list(d.run(samples))
    assert d.cadence.segments == [
        Segment(0.0, 220.0, 1.0, 1.0, [1.0] * 7, [1.0] * 6 + [10.0]),
        Segment(220.0, 1248.0, 10.0, 10.0, [10.0] * 6 + [3.0] * 4, [10.0] * 7 + [3.0] * 3),
    ]


@pytest.mark.parametrize(("factor", "segments"), [(3.9, 1), (4.0, 2)])
def test_a_rhythm_four_times_slower_opens_a_segment(factor: float, segments: int) -> None:
    samples: list[tuple[float, float | None]] = []
    t = 0.0
    for step in [1.0] * 100 + [factor] * 100:
        samples.append((t, 70.0 + len(samples) % 3))
        t += step
    d = Detector(cadence=1.0, usual_step=1.0)
    list(d.run(samples))
    assert len(d.cadence.segments) == segments


@pytest.mark.parametrize(("factor", "segments"), [(1 / 3.9, 1), (0.25, 2)])
def test_a_rhythm_four_times_faster_opens_a_segment(factor: float, segments: int) -> None:
    samples: list[tuple[float, float | None]] = []
    t = 0.0
    for step in [4.0] * 100 + [4.0 * factor] * 100:
        samples.append((t, 70.0 + len(samples) % 3))
        t += step
    d = Detector(cadence=4.0, usual_step=4.0)
    list(d.run(samples))
    assert len(d.cadence.segments) == segments


def test_cadence_of_a_file_head_is_its_median_and_90th_percentile_step() -> None:
    assert cadence_of([0.0]) is None and cadence_of([]) is None
    assert cadence_of([0.0, 5.0]) == (5.0, 5.0)
    ts = [float(i) for i in range(19)] + [28.0, 58.0]  # 20 steps: 18 of 1 s, then 10 and 30 (the 90th: index 18)
    assert cadence_of(ts) == (1.0, 10.0)
    assert cadence_of([0.0, 5.0, 15.0, 30.0, 35.0]) == (10.0, 15.0)  # steps 5 10 15 5: sorted 5 5 10 15


def test_a_series_measures_its_cadence_from_its_head() -> None:
    s = Series("x", array("d", [0.0, 2.0, 4.0, 10.0]), array("d", [70.0, 71.0, 72.0, 73.0]))
    assert (len(s), s.cadence()) == (4, (2.0, 6.0))
    assert Series(None).cadence() is None and len(Series(None)) == 0
