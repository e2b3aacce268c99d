"""The detector's rules, one table row per rule and edge, plus properties that must always hold."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.model import Anomaly, Kind, Reading
from tests.unit import examples

Sample = tuple[float, float | None]


def run(
    samples: Sequence[Sample], cadence: float = 1.0, usual: float = 0.0, **config: float
) -> tuple[list[Reading], list[Anomaly]]:
    """Both paths: one sample at a time and in batches (ingest's path) must agree, stats included."""
    config_ = DetectorConfig(**config)  # type: ignore[arg-type]
    live = Detector(config_, cadence=cadence, usual_step=usual)
    outputs = list(live.run(samples))
    readings = [o for o in outputs if isinstance(o, Reading)]
    events = [o for o in outputs if isinstance(o, Anomaly)]
    chunked_readings: list[Reading] = []
    chunked_events: list[Anomaly] = []
    fast = Detector(config_, cadence=cadence, usual_step=usual)
    for batch, e in fast.batches(samples, size=4):
        chunked_readings += list(batch)
        chunked_events += e
    assert chunked_readings == readings
    assert sorted(chunked_events, key=repr) == sorted(events, key=repr)
    assert same_stats(fast, live)
    return readings, sorted(events, key=lambda a: (a.start, a.end))


def same_stats(a: Detector, b: Detector) -> bool:
    """Equal counts and extremes; the totals may differ in the last bit (summed in another order)."""
    x, y = a.stats, b.stats
    return (x.count, x.min, x.max) == (y.count, y.min, y.max) and math.isclose(x.total, y.total, abs_tol=1e-6)


def steady(n: int, bpm: float = 70.0, start: float = 0.0, step: float = 1.0, wobble: bool = True) -> list[Sample]:
    """Resting heart rate with a 1-bpm wobble (a real sensor is never perfectly flat)."""
    return [(start + i * step, bpm + ((i % 3) - 1 if wobble else 0)) for i in range(n)]


def then(samples: Sequence[Sample], values: Sequence[float | None], step: float = 1.0) -> list[Sample]:
    t = samples[-1][0]
    return [*samples] + [(t + step * (i + 1), v) for i, v in enumerate(values)]


def kinds(events: list[Anomaly]) -> list[str]:
    return [str(e.kind) for e in events]


def stats(samples: Sequence[Sample], **config: float) -> tuple[int, float, float]:
    d = Detector(DetectorConfig(**config))  # type: ignore[arg-type]
    list(d.run(samples))
    return d.stats.count, d.stats.min, d.stats.max


CASES: list[tuple[str, list[Sample], list[str]]] = [
    ("steady resting rate: nothing", steady(120), []),
    ("spike of 40 bpm for 3 s: one spike, its return is not a drop", then(steady(40), [110, 112, 108] + [70] * 20), ["spike"]),
    ("drop of 40 bpm: one drop", then(steady(40, 100), [60, 58] + [100] * 20), ["drop"]),
    ("rise of 29 bpm: below the threshold", then(steady(40), [99, 99] + [70] * 20), []),
    ("exercise ramp 70 to 170 over 200 s: gradual, not a spike", steady(40) + [(40.0 + i, 70 + i / 2) for i in range(200)], []),
    ("rise of 40 bpm spread over 10 s: the level follows it", then(steady(40), [74, 78, 82, 86, 90, 94, 98, 102, 106, 110] + [110] * 30), []),
    ("blank cells: one missing event per run", then(steady(30), [None, None, None] + [70] * 10), ["missing"]),
    ("a 10 s hole at 1 Hz: missing, filled", steady(30) + steady(10, start=40.0), ["missing"]),
    ("a 5 min hole: a gap, not filled", steady(30) + steady(10, start=330.0), ["gap"]),
    ("a jump across a gap is not a spike", steady(30) + steady(30, 150.0, start=400.0), ["gap"]),
    ("impossible values: out_of_range, once per run", then(steady(30), [250, 251] + [70] * 5), ["out_of_range"]),
    ("impossible low value", then(steady(30), [12] + [70] * 5), ["out_of_range"]),
    ("identical value for 70 s: flatline", then(steady(10), [66] * 70 + [70]), ["flatline"]),
    ("identical value for 30 s: too short for a flatline", then(steady(10), [66] * 30 + [70]), []),
    ("a level change that stays (exercise starting) is no spike", then(steady(40), [120, 121, 119] * 40), []),
    ("four readings away for 4 s and back: a spike at 1 Hz", then(steady(40), [120, 121, 119, 120] + [70] * 10), ["spike"]),
    ("away for 11 s: a new level", then(steady(40), [120] * 12 + [70] * 10), []),
    ("four readings away at 15 s steps: a new level", then(steady(10, step=15.0), [120, 121, 119, 120] + [70, 71, 69] * 4, step=15.0), []),
    # sparse sources: a spike is an excursion whatever the step (issue #10's examples)
    ("1 reading a minute: 95 97 107 103 39 39 107 107 has a drop",
     then(steady(5, 100, step=60.0), [95, 97, 107, 103, 39, 39, 107, 107], step=60.0), ["drop"]),
    ("15 s steps: 69, 106, 71 is a spike, not a drop from 106",
     then(steady(10, 70, step=15.0), [69, 106, 71, 70, 69], step=15.0), ["spike"]),
    ("15 s steps: 121 121 is one spike, no drop afterwards",
     then(steady(10, 70, step=15.0), [121, 121, 70, 71, 69, 70, 70], step=15.0), ["spike"]),
    ("2 min steps: a spike of one reading", then(steady(10, 60, step=120.0), [100, 61, 60], step=120.0), ["spike"]),
]  # fmt: skip


@pytest.mark.parametrize(("samples", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_rules(samples: list[Sample], expected: list[str]) -> None:
    cadence = samples[1][0] - samples[0][0]
    _, events = run(samples, cadence=cadence)
    assert kinds(events) == expected


# -- boundaries: exact events and exact stats ----------------------------------------------------

FLAT: list[Sample] = [(float(i), 70.0 + (i % 3) - 1) for i in range(10)]  # 69 70 71 …: mean 70 over 10 readings


@pytest.mark.parametrize(
    ("rise", "expected"), [(29.0, []), (30.0, [Anomaly(Kind.SPIKE, 10.0, 10.0, 100.0, 70.0, 30.0)])]
)
def test_a_change_of_exactly_delta_is_a_spike(rise: float, expected: list[Anomaly]) -> None:
    samples = then(FLAT, [70 + rise, 70, 70])
    readings, events = run(samples)
    assert events == expected
    assert [r.kinds for r in readings if r.ts == 10.0] == [("spike",) if expected else ()]
    assert stats(samples) == (13, 69.0, 70 + rise)


@pytest.mark.parametrize(
    ("fall", "expected"), [(29.0, []), (30.0, [Anomaly(Kind.DROP, 10.0, 10.0, 40.0, 70.0, -30.0)])]
)
def test_a_fall_of_exactly_delta_is_a_drop(fall: float, expected: list[Anomaly]) -> None:
    _, events = run(then(FLAT, [70 - fall, 70, 70]))
    assert events == expected


@pytest.mark.parametrize(
    ("after", "came_back"),
    [
        ([84.9, 70], True),  # within delta / 2 of the baseline
        ([95.0, 95.0, 70], True),  # within delta of it and delta / 2 off the peak (110 - 95 = 15)
        ([95.1] * 11 + [70], False),  # 25.1 above, only 14.9 off the peak: still away; 11 s: a new level
        ([100.0] * 11 + [70], False),  # a full delta above: still away
    ],
)
def test_coming_back_is_near_the_baseline_or_well_off_the_peak(after: list[float], came_back: bool) -> None:
    events = run(then(FLAT, [110.0, *after]))[1]
    assert events == ([Anomaly(Kind.SPIKE, 10.0, 10.0, 110.0, 70.0, 40.0)] if came_back else [])


@pytest.mark.parametrize(
    ("hole", "expected_kind", "filled"), [(60.0, "missing", 59), (61.0, "gap", 0)], ids=["60 s: filled", "61 s: gap"]
)
def test_a_hole_longer_than_max_fill_is_a_gap(hole: float, expected_kind: str, filled: int) -> None:
    samples = FLAT + steady(10, start=9.0 + hole)
    readings, events = run(samples)
    assert kinds(events) == [expected_kind]
    (e,) = events
    if expected_kind == "gap":
        assert e == Anomaly(Kind.GAP, 9.0, 9.0 + hole, baseline=1.0)
    else:
        assert e == Anomaly(Kind.MISSING, 10.0, 9.0 + hole - 1, 69.0, 1.0)
    assert sum(r.filled for r in readings) == filled
    assert stats(samples) == (20, 69.0, 71.0)  # filled readings never count


def test_a_step_of_exactly_one_and_a_half_cadences_misses_nothing() -> None:
    on = [(0.0, 70.0), (5.0, 71.0), (10.0, 70.0), (17.5, 71.0), (22.5, 70.0)]
    past = [(0.0, 70.0), (5.0, 71.0), (10.0, 70.0), (17.6, 71.0), (22.6, 70.0)]
    assert run(on, cadence=5.0)[1] == []
    readings, events = run(past, cadence=5.0)
    assert events == [Anomaly(Kind.MISSING, 15.0, 15.0, 70.0, 5.0)]
    assert [(r.ts, r.bpm) for r in readings if r.filled] == [(15.0, 70.0)]


def test_non_integer_steps_fill_on_the_files_grid() -> None:
    samples = [(i * 0.5, 70.0 + (i % 2)) for i in range(8)] + [(5.0, 70.0)]  # last at 3.5, then 5.0: 2 missing
    readings, events = run(samples, cadence=0.5)
    assert [r.ts for r in readings if r.filled] == [4.0, 4.5]
    assert events == [Anomaly(Kind.MISSING, 4.0, 4.5, 71.0, 0.5)]


@pytest.mark.parametrize(("seconds", "flat"), [(59, False), (60, True)])
def test_flatline_needs_sixty_seconds(seconds: int, flat: bool) -> None:
    samples = then(FLAT, [66.0] * (seconds + 1) + [70.0])  # n + 1 readings span n seconds
    readings, events = run(samples)
    assert events == ([Anomaly(Kind.FLATLINE, 10.0, 10.0 + seconds, 66.0)] if flat else [])
    marked = [r.ts for r in readings if "flatline" in r.kinds]
    assert marked == ([10.0 + seconds] if flat else [])  # marked from the moment it qualifies
    assert stats(samples) == (len(samples), 66.0, 71.0)


def test_flatline_needs_ten_readings_not_just_sixty_seconds() -> None:
    nine = [(i * 10.0, 66.0) for i in range(9)] + [(90.0, 70.0)]
    ten = [(i * 10.0, 66.0) for i in range(10)] + [(100.0, 70.0)]
    assert run(nine, cadence=10.0)[1] == []
    assert run(ten, cadence=10.0)[1] == [Anomaly(Kind.FLATLINE, 0.0, 90.0, 66.0)]


def test_flatline_only_where_the_source_normally_varies() -> None:
    """A device that repeats each value 25 times is not stuck when it repeats one 70 times."""
    chunky = [(float(i), 60.0 + (i // 25) % 3) for i in range(250)]
    samples = then(chunky, [61.0] * 70 + [62.0])
    assert run(samples)[1] == []
    assert kinds(run(then(chunky, [61.0] * 100 + [62.0]))[1]) == ["flatline"]


def test_out_of_range_keeps_the_most_extreme_value_and_stays_out_of_the_stats() -> None:
    samples = then(FLAT, [250, 255, 240, 90, 70])
    readings, events = run(samples)
    assert events == [Anomaly(Kind.OUT_OF_RANGE, 10.0, 12.0, 255.0)]
    assert [r.bpm for r in readings if "out_of_range" in r.kinds] == [250, 255, 240]
    assert stats(samples) == (12, 69.0, 90.0)
    low = run(then(FLAT, [25, 12, 20, 70]))[1]
    assert low == [Anomaly(Kind.OUT_OF_RANGE, 10.0, 12.0, 12.0)]


def test_spike_event_carries_peak_baseline_and_delta() -> None:
    readings, events = run(then(steady(40), [110, 115, 108] + [70] * 20))
    assert events == [Anomaly(Kind.SPIKE, 40.0, 42.0, 115.0, 70.0, 45.0)]
    assert [r.seq for r in readings if "spike" in r.kinds] == [40, 41, 42]


def test_a_level_change_leaves_its_readings_unmarked() -> None:
    readings, events = run(then(steady(40), [120, 121, 119, 120, 121] * 3))
    assert events == []
    assert not any(r.kinds for r in readings)


def test_missing_readings_are_filled_with_the_previous_value_and_marked() -> None:
    readings, events = run([(0.0, 70.0), (1.0, 71.0), (5.0, 72.0)])
    assert [(r.ts, r.bpm, r.filled) for r in readings] == [
        (0.0, 70.0, False), (1.0, 71.0, False), (2.0, 71.0, True), (3.0, 71.0, True), (4.0, 71.0, True), (5.0, 72.0, False),
    ]  # fmt: skip
    assert events == [Anomaly(Kind.MISSING, 2.0, 4.0, 71.0, 1.0)]
    assert all(r.kinds == ("missing",) for r in readings if r.filled)


def test_fill_follows_the_files_own_cadence() -> None:
    """A 5-s recording with a 20-s step misses three readings, not nineteen."""
    readings, events = run([(0.0, 70.0), (5.0, 70.0), (10.0, 71.0), (30.0, 72.0)], cadence=5.0)
    assert [r.ts for r in readings if r.filled] == [15.0, 20.0, 25.0]
    assert events == [Anomaly(Kind.MISSING, 15.0, 25.0, 71.0, 5.0)]


def test_gap_has_start_end_and_is_not_filled() -> None:
    readings, events = run([(0.0, 70.0), (1.0, 70.0), (301.0, 71.0)])
    assert events == [Anomaly(Kind.GAP, 1.0, 301.0, baseline=1.0)]
    assert not any(r.filled for r in readings)


def test_max_fill_is_configurable() -> None:
    assert kinds(run([(0.0, 70.0), (1.0, 70.0), (41.0, 71.0)], max_fill=30)[1]) == ["gap"]


def test_delta_is_configurable() -> None:
    assert kinds(run(then(steady(40), [92, 93] + [70] * 20), delta=20)[1]) == ["spike"]


def test_leading_blank_cells_cannot_be_filled_but_are_reported() -> None:
    readings, events = run([(0.0, None), (1.0, None), (2.0, 70.0)])
    assert [r.bpm for r in readings] == [70.0]
    assert events == [Anomaly(Kind.MISSING, 0.0, 1.0, None, 1.0)]


def test_non_increasing_timestamps_are_ignored_not_fatal() -> None:
    readings, _ = run([(0.0, 70.0), (1.0, 71.0), (1.0, 99.0), (0.5, 80.0), (2.0, 72.0)])
    assert [r.bpm for r in readings] == [70.0, 71.0, 72.0]


# -- the file's own rhythm, as it changes -------------------------------------------------------


def test_fitbit_rhythm_is_neither_missing_nor_gaps() -> None:
    steps = [5.0, 10.0, 15.0, 5.0, 5.0, 10.0, 15.0, 5.0] * 40
    t, samples = 0.0, []
    for i, s in enumerate(steps):
        t += s
        samples.append((t, 70.0 + (i % 3)))
    readings, events = run(samples, cadence=5.0, usual=15.0)
    assert events == [] and not any(r.filled for r in readings)


def test_a_file_going_hourly_then_2_minutes_then_seconds_has_only_its_true_hole_as_a_gap() -> None:
    hourly = steady(48, 60, step=3600.0)
    two_min = steady(200, 62, start=hourly[-1][0] + 3600.0, step=120.0)
    hole_end = two_min[-1][0] + 5 * 3600.0  # five hours without a reading where there is one every 2 min
    after = steady(100, 63, start=hole_end, step=120.0)
    seconds = steady(600, 65, start=after[-1][0] + 120.0, step=1.0)
    detector = Detector(cadence=3600.0, usual_step=3600.0)
    events = [o for o in detector.run(hourly + two_min + after + seconds) if isinstance(o, Anomaly)]
    assert events == [Anomaly(Kind.GAP, two_min[-1][0], hole_end, baseline=120.0)]
    assert [round(s.step) for s in detector.cadence.segments] == [3600, 120, 1]


# -- properties -----------------------------------------------------------------------------------

samples_strategy = st.lists(
    st.tuples(
        st.floats(min_value=0.01, max_value=400.0, allow_nan=False),  # step to the next sample
        st.one_of(st.none(), st.floats(min_value=-5.0, max_value=300.0, allow_nan=False)),
    ),
    max_size=300,
)
RHYTHMS = [1.0, 5.0, 60.0, 120.0, 3600.0]
rhythm_strategy = st.lists(  # runs of one cadence with jitter, holes and spikes: sparse sources too
    st.tuples(
        st.sampled_from(RHYTHMS),
        st.integers(min_value=1, max_value=40),
        st.lists(st.one_of(st.none(), st.sampled_from([0.5, 1.0, 1.0, 1.0, 2.0, 3.0, 40.0]))),
        st.lists(st.one_of(st.none(), st.integers(min_value=20, max_value=250)), max_size=40),
    ),
    max_size=6,
)


def as_samples(steps: list[tuple[float, float | None]]) -> list[Sample]:
    t, out = 0.0, []
    for step, bpm in steps:
        t += step
        out.append((t, bpm))
    return out


def rhythm_samples(parts: list[tuple[float, int, list[float | None], list[int | None]]]) -> list[Sample]:
    t, out = 0.0, []
    for cadence, n, factors, values in parts:
        for i in range(n):
            factor = factors[i % len(factors)] if factors else 1.0
            t += cadence * (factor or 1.0)
            value = values[i % len(values)] if values else 70 + i % 3
            out.append((t, None if value is None else float(value)))
    return out


def check_accounting(samples: list[Sample], readings: list[Reading], events: list[Anomaly]) -> None:
    assert [r.seq for r in readings] == list(range(len(readings)))
    assert all(a.ts < b.ts for a, b in zip(readings, readings[1:], strict=False))
    measured = [r for r in readings if not r.filled]
    assert [(r.ts, r.bpm) for r in measured] == [(t, b) for t, b in samples if b is not None]
    missing = [e for e in events if e.kind is Kind.MISSING]
    gaps = [e for e in events if e.kind is Kind.GAP]
    for r in readings:
        if r.filled:  # every filled reading belongs to exactly one missing event
            assert sum(e.start <= r.ts <= e.end for e in missing) == 1
        assert not any(g.start < r.ts < g.end for g in gaps)  # nothing is drawn inside a gap
    for e in events:
        assert e.start <= e.end
        if e.kind in (Kind.SPIKE, Kind.DROP):
            assert not any(e.start < g.start < e.end for g in gaps)  # never across a gap
            assert e.delta is not None and abs(e.delta) >= 30
            marked = [r for r in readings if str(e.kind) in r.kinds and e.start <= r.ts <= e.end]
            n = len([r for r in marked if not r.filled])
            assert n >= 1 and (n <= 3 or e.end - e.start <= 10)  # an excursion: 1–3 readings, or 10 s


@settings(max_examples=examples(300), deadline=None)
@given(samples_strategy, st.sampled_from([0.5, 1.0, 5.0]))
def test_detector_never_raises_and_its_accounting_adds_up(
    steps: list[tuple[float, float | None]], cadence: float
) -> None:
    samples = as_samples(steps)
    readings, events = run(samples, cadence=cadence)
    check_accounting(samples, readings, events)


@settings(max_examples=examples(300), deadline=None)
@given(rhythm_strategy, st.sampled_from(RHYTHMS))
def test_changing_rhythms_keep_the_accounting_and_both_paths_equal(
    parts: list[tuple[float, int, list[float | None], list[int | None]]], first: float
) -> None:
    samples = rhythm_samples(parts)
    readings, events = run(samples, cadence=first)
    check_accounting(samples, readings, events)


@settings(max_examples=examples(400), deadline=None)
@given(samples_strategy)
def test_feeding_one_by_one_equals_batch(steps: list[tuple[float, float | None]]) -> None:
    """Feeding one sample at a time and ingest's chunks see the same thing, at any chunk size."""
    samples = as_samples(steps)
    live = Detector()
    streamed = [o for t, b in samples for o in live.feed(t, b)] + live.finish()
    readings, events = [], []
    batched = Detector()
    for batch, chunk_events in batched.batches(samples, size=7):
        readings += list(batch)
        events += chunk_events
    assert same_stats(batched, live)
    assert [o for o in streamed if isinstance(o, Reading)] == readings
    assert sorted((o for o in streamed if isinstance(o, Anomaly)), key=repr) == sorted(events, key=repr)


@pytest.mark.parametrize(("hole", "gap"), [(600.0, False), (601.0, True)])
def test_at_a_sparse_cadence_a_gap_is_longer_than_ten_cadences(hole: float, gap: bool) -> None:
    before = steady(40, 60, step=60.0)
    samples = before + steady(10, 61, start=before[-1][0] + hole, step=60.0)
    readings, events = run(samples, cadence=60.0, usual=60.0)
    assert events == ([Anomaly(Kind.GAP, before[-1][0], before[-1][0] + hole, baseline=60.0)] if gap else [])
    assert not any(r.filled for r in readings)  # longer than max_fill: never filled either way


@pytest.mark.parametrize(("after_step", "gap"), [(200.0, True), (201.0, False)])
def test_a_long_step_is_a_slower_rhythm_when_the_file_carries_on_at_a_third_of_it(after_step: float, gap: bool) -> None:
    before = steady(40, 60, step=10.0)
    t = before[-1][0] + 601.0
    after: list[Sample] = [(t + i * after_step, 61.0 + i % 2) for i in range(5)]
    events = run(before + after, cadence=10.0, usual=10.0)[1]
    assert kinds(events) == (["gap"] if gap else [])
