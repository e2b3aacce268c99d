"""The detector's edges that mutation testing (scripts/mutation.sh) showed no other test pinned: each asserts the exact
events and stats at a boundary, so moving a comparison by one step or one bpm fails here."""

from __future__ import annotations

import pytest

from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.model import Anomaly, Kind
from tests.unit.test_detector import FLAT, Sample, run, stats, steady, then

HUNDRED: list[Sample] = [(float(i), 100.0 + (i % 3) - 1) for i in range(10)]  # 99 100 101 …: level 100


@pytest.mark.parametrize("first", [30.0, 220.0])
def test_exactly_low_and_high_are_possible_values(first: float) -> None:
    """30 and 220 bpm are in range (the rule is "below 30, above 220"), first reading or not."""
    samples = [(0.0, first), (1.0, first + 1 if first < 100 else first - 1)]
    readings, events = run(samples)
    assert events == [] and all(r.kinds == () for r in readings)
    assert stats(samples)[:2] == (2, min(first, samples[1][1] or 0))
    readings, events = run(then(FLAT, [30.0, 70.0, 70.0]))  # in range but 40 under the level: a drop, not impossible
    assert events == [Anomaly(Kind.DROP, 10.0, 10.0, 30.0, 70.0, -40.0)]


def test_a_lone_impossible_value_is_its_own_extreme() -> None:
    assert run(then(FLAT, [250.0, 70.0]))[1] == [Anomaly(Kind.OUT_OF_RANGE, 10.0, 10.0, 250.0)]
    assert run(then(FLAT, [12.0, 70.0]))[1] == [Anomaly(Kind.OUT_OF_RANGE, 10.0, 10.0, 12.0)]


@pytest.mark.parametrize(
    ("values", "extreme"),
    [
        ([20.0, 225.0], 20.0),  # 105 from the middle of 30–220 (125) against 100: the low one
        ([225.0, 20.0], 20.0),
        ([20.0, 230.0], 20.0),  # 105 against 105: the first stays
        ([230.0, 20.0], 230.0),
    ],
)
def test_the_most_extreme_value_is_measured_from_the_middle_of_the_range(values: list[float], extreme: float) -> None:
    assert run(then(FLAT, [*values, 70.0]))[1] == [Anomaly(Kind.OUT_OF_RANGE, 10.0, 11.0, extreme)]


def test_a_drop_comes_back_within_delta_when_well_off_its_lowest() -> None:
    """100 → 60 → 80: 20 under the level is within delta and 20 off the lowest: back (as a spike would be)."""
    readings, events = run(then(HUNDRED, [60.0, 80.0, 100.0, 100.0]))
    assert events == [Anomaly(Kind.DROP, 10.0, 10.0, 60.0, 100.0, -40.0)]
    assert [r.kinds for r in readings if r.ts in (10.0, 11.0)] == [("drop",), ()]


def test_a_drop_keeps_its_lowest_value() -> None:
    readings, events = run(then(HUNDRED, [60.0, 55.0, 62.0, 100.0, 100.0]))
    assert events == [Anomaly(Kind.DROP, 10.0, 12.0, 55.0, 100.0, -45.0)]
    assert [r.ts for r in readings if "drop" in r.kinds] == [10.0, 11.0, 12.0]


def test_exactly_delta_above_the_level_is_still_away() -> None:
    """115 then 100: 30 above the level of 70 is not back (back is *within* delta), even 15 off the peak."""
    events = run(then(FLAT, [115.0, 100.0, 70.0, 70.0]))[1]
    assert events == [Anomaly(Kind.SPIKE, 10.0, 11.0, 115.0, 70.0, 45.0)]


@pytest.mark.parametrize(("away", "spike"), [(11, True), (12, False)])
def test_an_excursion_of_exactly_ten_seconds_is_still_a_spike(away: int, spike: bool) -> None:
    """11 readings 1 s apart span 10 s: still an excursion; 12 span 11 s: a new level."""
    readings, events = run(then(FLAT, [120.0] * away + [70.0] * 5))
    assert events == ([Anomaly(Kind.SPIKE, 10.0, 9.0 + away, 120.0, 70.0, 50.0)] if spike else [])
    assert sum("spike" in r.kinds for r in readings) == (away if spike else 0)


@pytest.mark.parametrize(("run_length", "flat"), [(74, False), (75, True)])
def test_a_flatline_is_at_least_three_times_the_sources_long_runs(run_length: int, flat: bool) -> None:
    """Runs of 25 identical values are this source's habit: 75 (3 × 25) is a flatline, 74 is not."""
    chunky = [(float(i), 60.0 + (i // 25) % 3) for i in range(250)]
    samples = then(chunky, [61.0] * run_length + [62.0])
    events = run(samples)[1]
    assert events == ([Anomaly(Kind.FLATLINE, 250.0, 249.0 + run_length, 61.0)] if flat else [])


def test_a_run_started_among_ordinary_readings_counts_from_one() -> None:
    """Nine identical readings over 80 s are not the ten a flatline needs, however they start."""
    lead = [(0.0, 70.0), (10.0, 71.0), (20.0, 70.0), (30.0, 71.0)]
    nine = lead + [(40.0 + i * 10.0, 66.0) for i in range(9)] + [(130.0, 70.0)]
    ten = lead + [(40.0 + i * 10.0, 66.0) for i in range(10)] + [(140.0, 70.0)]
    assert run(nine, cadence=10.0)[1] == []
    assert run(ten, cadence=10.0)[1] == [Anomaly(Kind.FLATLINE, 40.0, 130.0, 66.0)]


def test_batches_hold_exactly_size_readings() -> None:
    samples = steady(23)
    sizes = [len(batch) for batch, _ in Detector().batches(samples, size=5)]
    assert sizes == [5, 5, 5, 5, 3]


def test_the_level_is_the_median_of_the_last_five_readings() -> None:
    """A slow climb moves the level with it: 70 → 100 over 60 readings never departs from the last five."""
    climb = [(float(i), 70.0 + i * 0.5) for i in range(61)]
    readings, events = run(climb + [(61.0, 100.0), (62.0, 130.0), (63.0, 100.0)])
    # level = median(98.5, 99, 99.5, 100, 100) = 99.5, so 130 is 30.5 above it: a spike, from the recent level only
    assert events == [Anomaly(Kind.SPIKE, 62.0, 62.0, 130.0, 99.5, 30.5)]


def test_stats_count_every_measured_in_range_reading_and_nothing_else() -> None:
    d = Detector(DetectorConfig())
    list(d.run([(0.0, 70.0), (1.0, None), (2.0, 250.0), (3.0, 80.0), (6.0, 90.0)]))
    assert (d.stats.count, d.stats.min, d.stats.max, d.stats.total) == (3, 70.0, 90.0, 240.0)


def test_an_event_comes_before_the_reading_at_its_end() -> None:
    out = list(Detector().run(then(FLAT, [110.0, 115.0, 108.0, 70.0, 70.0])))
    order = [("event" if isinstance(o, Anomaly) else "reading", o.end if isinstance(o, Anomaly) else o.ts) for o in out]
    assert order[10:] == [
        ("reading", 10.0),
        ("reading", 11.0),
        ("event", 12.0),
        ("reading", 12.0),
        ("reading", 13.0),
        ("reading", 14.0),
    ]


def test_a_level_of_one_reading() -> None:
    events = run([(0.0, 70.0), (1.0, 95.0), (2.0, 125.0), (3.0, 95.0), (4.0, 95.0)], level_readings=1)[1]
    assert events == [Anomaly(Kind.SPIKE, 2.0, 2.0, 125.0, 95.0, 30.0)]  # from the one reading before it, not two


def test_departures_are_judged_from_the_fourth_reading() -> None:
    """Three readings make a level; the fourth can leave it, the third cannot."""
    assert run([(0.0, 70.0), (1.0, 71.0), (2.0, 70.0), (3.0, 110.0), (4.0, 70.0), (5.0, 70.0)])[1] == [
        Anomaly(Kind.SPIKE, 3.0, 3.0, 110.0, 70.0, 40.0)
    ]
    assert run([(0.0, 70.0), (1.0, 71.0), (2.0, 110.0), (3.0, 70.0), (4.0, 70.0)])[1] == []


def test_a_drop_close_to_its_lowest_is_still_away() -> None:
    """100 → 60 → 72: 28 under the level but only 12 off the lowest: still away; back at 100."""
    assert run(then(HUNDRED, [60.0, 72.0, 100.0, 100.0]))[1] == [Anomaly(Kind.DROP, 10.0, 11.0, 60.0, 100.0, -40.0)]


def test_a_hole_ending_the_file_is_judged_by_the_step_before_it_even_right_after_a_retune() -> None:
    """16 steps of 1 s, the 16th of 30 s (the estimate is retuned there), then 80 s and the end: 80 ≤ 3 × 30, so the
    file slowed down; no gap."""
    samples = [(float(i), 70.0 + i % 3) for i in range(16)] + [(45.0, 71.0), (125.0, 72.0)]
    assert run(samples)[1] == [Anomaly(Kind.MISSING, 16.0, 44.0, 70.0, 1.0)]
    assert kinds_of(run([*samples[:-1], (136.0, 72.0)])[1]) == ["missing", "gap"]  # 91 s: more than 3 × 30


def kinds_of(events: list[Anomaly]) -> list[str]:
    return [str(e.kind) for e in events]


def test_the_usual_run_length_is_of_the_last_32_runs() -> None:
    """A source that repeated values 30 times, then stopped doing so: its old habit no longer excuses a stuck value."""
    samples: list[Sample] = []
    t = 0.0
    for r in range(40):
        for _ in range(30):
            samples.append((t, 60.0 + r % 3))
            t += 1
    for r in range(40):
        for _ in range(1 + r % 2):
            samples.append((t, 60.0 + r % 3))
            t += 1
    for _ in range(70):
        samples.append((t, 61.5))
        t += 1
    samples.append((t, 60.0))
    assert run(samples)[1] == [Anomaly(Kind.FLATLINE, 1260.0, 1329.0, 61.5)]


def test_defaults() -> None:
    d = Detector()
    assert (d.cadence.step, d.cadence.usual, d.cadence.missing_after) == (1.0, 0.0, 1.5)
    assert [len(b) for b, _ in Detector().batches(steady(5001))] == [5000, 1]
