"""The detector's rules, one table row per rule and edge, plus properties that must always hold."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.model import Anomaly, Kind, Reading

Sample = tuple[float, float | None]


def run(samples: Sequence[Sample], cadence: float = 1.0, **config: float) -> tuple[list[Reading], list[Anomaly]]:
    """Both paths: one sample at a time (live replay) and in chunks (ingest's fast path) must agree."""
    config_ = DetectorConfig(**config)  # type: ignore[arg-type]
    outputs = list(Detector(config_, cadence=cadence).run(samples))
    readings = [o for o in outputs if isinstance(o, Reading)]
    events = [o for o in outputs if isinstance(o, Anomaly)]
    chunked_readings: list[Reading] = []
    chunked_events: list[Anomaly] = []
    for batch, e in Detector(config_, cadence=cadence).chunks(samples, size=4):
        chunked_readings += list(batch)
        chunked_events += e
    assert chunked_readings == readings
    assert sorted(chunked_events, key=repr) == sorted(events, key=repr)
    return readings, events


def steady(n: int, bpm: float = 70.0, start: float = 0.0, step: float = 1.0, wobble: bool = True) -> list[Sample]:
    """Resting heart rate with a 1-bpm wobble (a real sensor is never perfectly flat)."""
    return [(start + i * step, bpm + ((i % 3) - 1 if wobble else 0)) for i in range(n)]


def then(samples: list[Sample], values: Sequence[float | None], step: float = 1.0) -> list[Sample]:
    t = samples[-1][0]
    return samples + [(t + step * (i + 1), v) for i, v in enumerate(values)]


def kinds(events: list[Anomaly]) -> list[str]:
    return [str(e.kind) for e in events]


CASES: list[tuple[str, list[Sample], list[str]]] = [
    ("steady resting rate: nothing", steady(120), []),
    ("spike of 40 bpm for 3 s: one spike, its return is not a drop", then(steady(40), [110, 112, 108] + [70] * 20), ["spike"]),
    ("drop of 40 bpm: one drop", then(steady(40, 100), [60, 58] + [100] * 20), ["drop"]),
    ("rise of 29 bpm: below the threshold", then(steady(40), [99, 99] + [70] * 20), []),
    ("exercise ramp 70 to 170 over 200 s: gradual, not a spike", steady(40) + [(40.0 + i, 70 + i / 2) for i in range(200)], []),
    ("rise of 40 bpm spread over 10 s: not within 5 s", then(steady(40), [74, 78, 82, 86, 90, 94, 98, 102, 106, 110] + [110] * 30), []),
    ("blank cells: one missing event per run", then(steady(30), [None, None, None] + [70] * 10), ["missing"]),
    ("a 10 s hole at 1 Hz: missing, filled", steady(30) + steady(10, start=40.0), ["missing"]),
    ("a 5 min hole: a gap, not filled", steady(30) + steady(10, start=330.0), ["gap"]),
    ("a jump across a gap is not a spike", steady(30) + steady(30, 150.0, start=400.0), ["gap"]),
    ("impossible values: out_of_range, once per run", then(steady(30), [250, 251] + [70] * 5), ["out_of_range"]),
    ("impossible low value", then(steady(30), [12] + [70] * 5), ["out_of_range"]),
    ("identical value for 70 s: flatline", then(steady(10), [66] * 70 + [70]), ["flatline"]),
    ("identical value for 30 s: too short for a flatline", then(steady(10), [66] * 30 + [70]), []),
    ("level shift that stays: one spike, then the new level is normal",
     then(steady(40), [120, 121, 119] * 40), ["spike"]),
]  # fmt: skip


@pytest.mark.parametrize(("samples", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_rules(samples: list[Sample], expected: list[str]) -> None:
    _, events = run(samples)
    assert kinds(events) == expected


def test_flatline_needs_ten_readings_not_just_sixty_seconds() -> None:
    nine = [(i * 10.0, 66.0) for i in range(9)] + [(90.0, 70.0)]
    ten = [(i * 10.0, 66.0) for i in range(10)] + [(100.0, 70.0)]
    assert kinds(run(nine, cadence=10.0)[1]) == []
    assert kinds(run(ten, cadence=10.0)[1]) == ["flatline"]


def test_spike_event_carries_peak_baseline_and_delta() -> None:
    readings, events = run(then(steady(40), [110, 115, 108] + [70] * 20))
    (spike,) = events
    assert (spike.start, spike.end) == (40.0, 42.0)
    assert spike.bpm == 115 and spike.baseline == 70 and spike.delta == 45
    flagged = [r.seq for r in readings if "spike" in r.kinds]
    assert flagged == [40, 41, 42]


def test_missing_readings_are_filled_with_the_previous_value_and_marked() -> None:
    readings, events = run([(0.0, 70.0), (1.0, 71.0), (5.0, 72.0)])
    assert [(r.ts, r.bpm, r.filled) for r in readings] == [
        (0.0, 70.0, False), (1.0, 71.0, False), (2.0, 71.0, True), (3.0, 71.0, True), (4.0, 71.0, True), (5.0, 72.0, False),
    ]  # fmt: skip
    assert events == [Anomaly(Kind.MISSING, 2.0, 4.0, 71.0)]
    assert all(r.kinds == ("missing",) for r in readings if r.filled)


def test_fill_follows_the_files_own_cadence() -> None:
    """A 5-s recording with a 20-s step misses three readings, not nineteen."""
    readings, events = run([(0.0, 70.0), (5.0, 70.0), (10.0, 71.0), (30.0, 72.0)], cadence=5.0)
    assert [r.ts for r in readings if r.filled] == [15.0, 20.0, 25.0]
    assert kinds(events) == ["missing"]


def test_gap_has_start_end_and_is_not_filled() -> None:
    readings, events = run([(0.0, 70.0), (1.0, 70.0), (301.0, 71.0)])
    assert events == [Anomaly(Kind.GAP, 1.0, 301.0)]
    assert not any(r.filled for r in readings)


def test_max_fill_is_configurable() -> None:
    _, events = run([(0.0, 70.0), (1.0, 70.0), (41.0, 71.0)], max_fill=30)
    assert kinds(events) == ["gap"]


def test_delta_is_configurable() -> None:
    _, events = run(then(steady(40), [92, 93] + [70] * 20), delta=20)
    assert kinds(events) == ["spike"]


def test_out_of_range_values_are_kept_but_never_become_the_level() -> None:
    readings, events = run(then(steady(30), [250] * 5 + [70] * 5))
    assert [r.bpm for r in readings if "out_of_range" in r.kinds] == [250] * 5
    assert events[0].bpm == 250
    assert not any(e.kind in (Kind.SPIKE, Kind.DROP) for e in events)


def test_leading_blank_cells_cannot_be_filled_but_are_reported() -> None:
    readings, events = run([(0.0, None), (1.0, None), (2.0, 70.0)])
    assert [r.bpm for r in readings] == [70.0]
    assert events == [Anomaly(Kind.MISSING, 0.0, 1.0, None)]


def test_flatline_marks_the_readings_once_it_qualifies() -> None:
    readings, events = run(then(steady(5), [66] * 70 + [70]))
    assert events[0].kind is Kind.FLATLINE and events[0].bpm == 66
    assert events[0].end - events[0].start >= 60
    assert any("flatline" in r.kinds for r in readings)


def test_non_increasing_timestamps_are_ignored_not_fatal() -> None:
    readings, _ = run([(0.0, 70.0), (1.0, 71.0), (1.0, 99.0), (0.5, 80.0), (2.0, 72.0)])
    assert [r.bpm for r in readings] == [70.0, 71.0, 72.0]


# -- properties -----------------------------------------------------------------------------------

samples_strategy = st.lists(
    st.tuples(
        st.floats(min_value=0.01, max_value=400.0, allow_nan=False),  # step to the next sample
        st.one_of(st.none(), st.floats(min_value=-5.0, max_value=300.0, allow_nan=False)),
    ),
    max_size=300,
)


def as_samples(steps: list[tuple[float, float | None]]) -> list[Sample]:
    t, out = 0.0, []
    for step, bpm in steps:
        t += step
        out.append((t, bpm))
    return out


@settings(max_examples=300, deadline=None)
@given(samples_strategy, st.sampled_from([0.5, 1.0, 5.0]))
def test_detector_never_raises_and_its_accounting_adds_up(
    steps: list[tuple[float, float | None]], cadence: float
) -> None:
    samples = as_samples(steps)
    readings, events = run(samples, cadence=cadence)
    # one reading per measured sample, in order, seq contiguous
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


@settings(max_examples=400, deadline=None)
@given(samples_strategy)
def test_feeding_one_by_one_equals_batch(steps: list[tuple[float, float | None]]) -> None:
    """Live replay (feed) and batch ingest (chunks) see the same thing: the detector keeps no look-ahead."""
    samples = as_samples(steps)
    live = Detector()
    streamed = [o for t, b in samples for o in live.feed(t, b)] + live.finish()
    readings, events = [], []
    batched = Detector()
    for batch, chunk_events in batched.chunks(samples, size=7):
        readings += list(batch)
        events += chunk_events
    assert (batched.stats.count, batched.stats.min, batched.stats.max) == (
        live.stats.count,
        live.stats.min,
        live.stats.max,
    )
    assert [o for o in streamed if isinstance(o, Reading)] == readings
    assert sorted((o for o in streamed if isinstance(o, Anomaly)), key=repr) == sorted(events, key=repr)
