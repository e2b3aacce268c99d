"""The insights fold's C twin (``hrviz/core/insights/_cfold.c``) gives what its Python function gives, to the bit.

Random and hostile batches go through ``fold_batch`` once with each ``fold_plain``; the summaries,
the builder's state in progress and any exception must be identical (floats compared by ``repr``,
which is exact). The Python one is held equal to ``SummaryBuilder.add`` in test_insights.py.
"""

from __future__ import annotations

import importlib
import math
import traceback
from collections.abc import Callable
from dataclasses import asdict
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.insights import batch as batch_mod
from hrviz.core.insights.summary import SummaryBuilder
from hrviz.core.model import ReadingBatch
from hrviz.core.reader import read_series
from tests.real_data import REAL

T0 = 1_700_000_000.0


Impl = tuple[Callable[..., bool | None], Callable[..., bool | None]]  # fold_plain, fold_inline
PY: Impl = (batch_mod.fold_plain, batch_mod.fold_inline)


def kernel(name: str) -> ModuleType:
    try:  # directly, not through speedups.kernel: the comparison runs under HRVIZ_PURE_PYTHON=1 too
        return importlib.import_module(f"hrviz.core.insights.{name}")
    except ImportError:  # pragma: no cover — test_speedups fails when a compiler is there and it is not built
        pytest.skip("the C kernels are not built (no compiler): hrviz runs on its Python code")


def cfold() -> ModuleType:
    return kernel("_cfold")


def c_impl() -> Impl:
    return (cfold().fold_plain, kernel("_cinline").fold_inline)


class Raising(SummaryBuilder):
    """A builder whose ``_track`` or ``_track_effort`` raises at its ``at``-th call (the kernels must
    leave what the Python loop leaves when a callback fails)."""

    def __init__(self, max_hr: float | None, at: int, which: str) -> None:
        super().__init__(max_hr)
        self.calls, self.at, self.which = 0, at, which

    def _count(self) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise ValueError(f"callback {self.at}")

    def _track(self, kind: str, inside: bool, ts: float, span: float, bpm: float) -> None:
        if self.which == "track":
            self._count()
        super()._track(kind, inside, ts, span, bpm)

    def _track_effort(self, ts: float, span: float, bpm: float) -> None:
        if self.which == "effort":
            self._count()
        super()._track_effort(ts, span, bpm)


def fold_with(
    impl: Impl,
    batches: list[ReadingBatch],
    max_hr: float | None,
    monkeypatch: pytest.MonkeyPatch,
    builder: SummaryBuilder | None = None,
) -> str:
    """Everything the fold leaves (or the exception it raised), as exact text."""
    monkeypatch.setattr(batch_mod, "_FOLD_PLAIN", impl[0])
    monkeypatch.setattr(batch_mod, "_FOLD_INLINE", impl[1])
    b = SummaryBuilder(max_hr) if builder is None else builder
    try:
        for batch in batches:
            batch_mod.fold_batch(b, batch)
    except (ValueError, OverflowError) as err:
        minute = None if b._minute is None else asdict(b._minute)
        return f"raised {type(err).__name__}: {err} after {asdict(b.s)!r} {minute!r} {b._prev!r}"
    runs = {k: None if r is None else (r.start, r.end, r.peak, r.count, r.out_since) for k, r in b._runs.items()}
    effort = None if b._effort is None else (b._effort.start, b._effort.end, b._effort.peak, b._effort.last_measured)
    state = repr((runs, effort, b._pending is None, b._prev, b._minute))
    return state + repr(asdict(b.finish()))


def batches_of(steps: list[float], values: list[float], marks: list[int], cuts: list[int]) -> list[ReadingBatch]:
    """Readings ``steps`` apart (from T0) with ``values``; ``marks`` mark some (filled, spike, out of
    range), ``cuts`` split them into batches; both are taken modulo the number of readings."""
    n = min(len(steps), len(values))
    ts, t = [], T0
    for step in steps[:n]:
        t += step
        ts.append(t)
    out, lo = [], 0
    for hi in [*sorted({c % (n + 1) for c in cuts}), n]:
        if hi <= lo:
            continue
        batch = ReadingBatch(lo, ts[lo:hi], values[lo:hi])
        for m in marks:
            if lo <= m % n < hi:
                batch.marks[m % n - lo] = (m % 3 == 0, ("spike",) if m % 3 == 1 else ("out_of_range",))
        out.append(batch)
        lo = hi
    return out


# spacings: a steady 1 Hz or 5 s watch, jitter, fractions that do not add up exactly, zero, backwards, gaps,
# and times no file can hold (NaN, past 2**53 s: Python raises)
STEPS = st.one_of(
    st.sampled_from([1.0, 1.0, 1.0, 5.0, 0.5, 0.1, 0.3, 2.0, 59.9, 61.0, 150.0, 3600.0, 0.0, -1.0]),
    st.floats(0.01, 200.0),
    st.sampled_from([math.nan, 1e20]),
)
# values: around every threshold (40 low, 120 high, 152 = 0.8 x 190 effort), fractions, and the impossible
VALUES = st.one_of(
    st.sampled_from([39.0, 40.0, 41.0, 119.0, 120.0, 121.0, 151.0, 152.0, 153.0, 0.0, -0.0, 72.5]),
    st.integers(25, 230).map(float),
    st.floats(20.0, 240.0),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -5.0]),
)
# a stretch: this many readings this far apart, from a value drifting by this much a reading
SEGMENTS = st.lists(
    st.tuples(STEPS, VALUES, st.integers(1, 400), st.sampled_from([0.0, 0.0, 1.0, -1.0, 0.25, 0.1])),
    min_size=1,
    max_size=8,
)


def readings_of(lead: tuple[float, float], segments: list[tuple[float, float, int, float]]) -> tuple[list, list]:
    """The builder's first 260 readings (what sets its typical interval), then the segments."""
    steps, values = [lead[0]] * 260, [lead[1]] * 260
    for step, value, count, drift in segments:
        steps += [step] * count
        values += [value + drift * (i % 40) for i in range(count)]
    return steps, values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lead=st.tuples(st.sampled_from([1.0, 5.0, 0.5, 0.3, 1.7]), st.sampled_from([70.0, 130.0, 35.0, 160.0, 72.5])),
    segments=SEGMENTS,
    marks=st.lists(st.integers(0, 10_000), max_size=12),
    cuts=st.lists(st.integers(0, 10_000), max_size=6),
    max_hr=st.sampled_from([None, 190.0]),
    fail=st.one_of(st.none(), st.none(), st.tuples(st.integers(1, 3000), st.sampled_from(["track", "effort"]))),
)
def test_the_c_fold_equals_the_python_fold_to_the_bit(
    lead: tuple[float, float],
    segments: list[tuple[float, float, int, float]],
    marks: list[int],
    cuts: list[int],
    max_hr: float | None,
    fail: tuple[int, str] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``fail``: a callback of the builder raises at that call; both leave the same state behind."""
    batches = batches_of(*readings_of(lead, segments), marks, cuts)

    def builder() -> SummaryBuilder | None:
        return None if fail is None else Raising(max_hr, *fail)

    expected = fold_with(PY, batches, max_hr, monkeypatch, builder())
    assert fold_with(c_impl(), batches, max_hr, monkeypatch, builder()) == expected


def test_long_steady_stretches_with_episodes_and_efforts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hours at 1 Hz rising through every threshold and back: the common case, with runs open across batches."""
    values = [float(60 + (i // 97) % 110) for i in range(30_000)]
    batches = batches_of([1.0] * 30_000, values, [7_777, 20_001], [5000 * k for k in range(1, 6)])
    expected = fold_with(PY, batches, 190.0, monkeypatch)
    assert "'kind': 'high'" in expected and "'after_bpm'" in expected
    assert fold_with(c_impl(), batches, 190.0, monkeypatch) == expected


@pytest.mark.parametrize(("which", "at"), [("track", 10006), ("track", 10057), ("effort", 5005), ("effort", 5056)])
def test_a_failing_callback_leaves_what_the_python_loop_leaves(
    which: str, at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``at``-th call of the callback is one the per-reading loop makes (not the builder's own _close)."""
    values = [float(60 + (i // 97) % 110) for i in range(12_000)]
    batches = batches_of([1.0] * 12_000, values, [7_777], [5000, 10_000])
    monkeypatch.setattr(batch_mod, "_FOLD_INLINE", batch_mod.fold_inline)
    builder = Raising(190.0, at, which)
    with pytest.raises(ValueError, match=f"callback {at}") as raised:
        for batch in batches:
            batch_mod.fold_batch(builder, batch)
    assert [f.name for f in traceback.extract_tb(raised.value.__traceback__)][-3] == "fold_inline"
    expected = fold_with(PY, batches, 190.0, monkeypatch, Raising(190.0, at, which))
    assert expected.startswith(f"raised ValueError: callback {at}")
    assert fold_with(c_impl(), batches, 190.0, monkeypatch, Raising(190.0, at, which)) == expected


def test_times_past_float_minutes_raise_as_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 2**53 s a minute's start + 60 is the start itself: Python's min() of no readings raises."""
    ts = [T0 + i for i in range(300)] + [1e20 + 2**20 * i for i in range(300)]
    batches = [ReadingBatch(0, ts[:300], [70.0] * 300), ReadingBatch(300, ts[300:], [70.0] * 300)]
    expected = fold_with(PY, batches, None, monkeypatch)
    assert expected.startswith("raised ValueError") or "1e+20" in expected
    assert fold_with(c_impl(), batches, None, monkeypatch) == expected


def test_readings_that_are_not_floats_are_left_to_python() -> None:
    b = SummaryBuilder(None)
    b.add(ReadingBatch(0, [T0 + i for i in range(300)], [70.0] * 300))
    ints: list[float] = [70, 71]  # as a caller's own lists might hold
    args = (b, [T0 + 300, T0 + 301], ints, 0, 2, T0 + 299, 70.0, 60.0, batch_mod._tracks, batch_mod.Minute)
    assert cfold().fold_plain(*args) is None
    assert batch_mod.fold_plain(*args) is True  # ints: the Python function folds them
    inline = (b, [T0 + 302, T0 + 303], ints, 0, 2, 302, 60.0, batch_mod.Reading, batch_mod.Minute)
    assert kernel("_cinline").fold_inline(*inline) is None
    assert batch_mod.fold_inline(*inline) is True
    b.high = 120  # type: ignore[assignment]  # an int threshold: Python compares it, the C loop does not
    inline = (b, [T0 + 304], [71.0], 0, 1, 304, 60.0, batch_mod.Reading, batch_mod.Minute)
    assert kernel("_cinline").fold_inline(*inline) is None


@pytest.mark.parametrize(
    "name",
    [
        "apple_health_export_2015-2017.csv",
        "whoop4_openwhoop_2026-02-19.csv",
        "welltory_covid19_heart_rate_2020-04-17.csv",
        "fitbit_kaggle_user8877689391_2016-05-10_to_05-12.csv",
        "polar_flow_running_2015-09-06.csv",
    ],
)
def test_real_recordings_fold_the_same_both_ways(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real recordings not here ({REAL})")
    with path.open("rb") as f:
        every = read_series(f, name)
    for series in every:
        step, usual = series.cadence() or (1.0, 0.0)
        detector = Detector(DetectorConfig(), cadence=step, usual_step=usual)
        batches = [b for b, _ in detector.batches(zip(series.ts, series.bpm, strict=True), 5000) if b]
        expected = fold_with(PY, batches, 190.0, monkeypatch)
        assert fold_with(c_impl(), batches, 190.0, monkeypatch) == expected
