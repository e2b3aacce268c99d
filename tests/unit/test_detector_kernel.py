"""The C kernel of the detector's calm path (hrviz/core/_cdetect.c) against the Python loop it twins.

Equality is the contract: for any stream, ingest's column path with the kernel gives bit for bit what
:meth:`Detector.batches` gives over tuples — every reading and mark, every event, the stats, the
cadence and its segments, and the state the detector is left in. Random streams (blanks as None and
NaN, impossible values, holes short and long, cadence changes, spikes, drops, flatlines, duplicates
and times going back), the rules' table of test_detector.py, and the real recordings.
"""

from __future__ import annotations

import importlib
import math
import random
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.core import columns
from hrviz.core.columns import column_batches
from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.reader import read_series
from hrviz.core.series import cadence_of
from tests.unit import examples
from tests.unit.test_detector import CASES, RHYTHMS, Sample, as_samples, rhythm_samples, rhythm_strategy


def built_kernel() -> ModuleType | None:
    """The kernel whatever HRVIZ_PURE_PYTHON says (under it, the Python loop is still held equal to the C one)."""
    try:
        return importlib.import_module("hrviz.core._cdetect")
    except ImportError:
        return None


KERNEL = built_kernel()
REAL = Path("/work/shared/data/real")


def outcome(detector: Detector, batches: object) -> list[str]:
    """Everything the detector produced and kept, as exact text (repr keeps every float's bits)."""
    out = [repr((b.first_seq, b.ts, b.bpm, b.marks, events)) for b, events in batches]  # type: ignore[attr-defined]
    cad = detector.cadence
    out.append(repr((detector.stats, cad.step, cad.usual, cad.missing_after, cad.gap_after, cad.steps, cad.window)))
    out.append(repr(cad.segments))
    out.append(repr(detector._load()) + repr((list(detector._level), list(detector._runs), detector._held)))
    return out


def split(samples: Sequence[Sample], cuts: Sequence[int]) -> list[tuple[array, array]]:
    """The samples as (ts, bpm) columns (None → NaN), cut into chunks of the given sizes (the rest in one)."""
    ts = array("d", (t for t, _ in samples))
    bpm = array("d", (math.nan if b is None else b for _, b in samples))
    chunks, i = [], 0
    for n in cuts:
        chunks.append((ts[i : i + n], bpm[i : i + n]))
        i += n
    chunks.append((ts[i:], bpm[i:]))
    return chunks


def compare(
    samples: Sequence[Sample], cuts: Sequence[int] = (), size: int = 5000, cadence: float = 1.0, usual: float = 0.0,
    config: DetectorConfig | None = None, kernel: ModuleType | None = KERNEL,
    prepare: Callable[[Detector], None] = lambda d: None,
) -> list[str]:  # fmt: skip
    """The reference (tuples through Detector.batches) and the column path must agree exactly."""
    samples = [(float(t), b if b is None else float(b)) for t, b in samples]
    reference = Detector(config, cadence=cadence, usual_step=usual)
    prepare(reference)
    expected = outcome(reference, list(reference.batches(samples, size)))
    for k in {None, kernel}:
        detector = Detector(config, cadence=cadence, usual_step=usual)
        prepare(detector)
        got = outcome(detector, list(column_batches(detector, split(samples, cuts), size, kernel=k)))
        assert got == expected, f"kernel={k}"
    return expected


messy_strategy = st.lists(  # anything a file can hold once read: blanks, NaN, impossible values, times going back
    st.tuples(
        st.one_of(
            st.sampled_from([1.0, 1.0, 1.0, 1.0, 0.5, 2.0, 0.0, -1.0, 5.0, 30.0, 61.0, 400.0]),
            st.floats(min_value=-10.0, max_value=5000.0, allow_nan=False),
        ),
        st.one_of(
            st.none(),
            st.just(math.nan),
            st.sampled_from([70.0, 70.0, 71.0, 72.0, 110.0, 20.0, 250.0, math.inf, -math.inf, 30.0, 220.0]),
            st.floats(min_value=-5.0, max_value=300.0, allow_nan=False),
        ),
    ),
    max_size=400,
)
cuts_strategy = st.lists(st.integers(min_value=0, max_value=50), max_size=8)


@settings(max_examples=examples(400), deadline=None)
@given(messy_strategy, cuts_strategy, st.sampled_from([1, 3, 7, 5000]), st.sampled_from([0.5, 1.0, 5.0]))
def test_random_streams_give_the_same_everything(
    steps: list[tuple[float, float | None]], cuts: list[int], size: int, cadence: float
) -> None:
    compare(as_samples(steps), cuts, size, cadence)


@settings(max_examples=examples(300), deadline=None)
@given(rhythm_strategy, st.sampled_from(RHYTHMS), cuts_strategy, st.sampled_from([1, 4, 5000]))
def test_changing_rhythms_give_the_same_everything(
    parts: list[tuple[float, int, list[float | None], list[int | None]]], first: float, cuts: list[int], size: int
) -> None:
    compare(rhythm_samples(parts), cuts, size, cadence=first, usual=first)


runs_strategy = st.lists(  # runs of one value, short and long, fast and slow: stuck sensors and integer sources
    st.tuples(
        st.sampled_from([70.0, 71.0, 70.0, 72.0, 66.0, 100.0, 104.0, 40.0, 250.0]),
        st.integers(min_value=1, max_value=90),
        st.sampled_from([1.0, 1.0, 0.5, 5.0, 7.0, 61.0]),
    ),
    max_size=12,
)
configs = st.builds(
    DetectorConfig,
    flatline_readings=st.sampled_from([10, 10, 2, 1, 0, 30]),
    flatline_seconds=st.sampled_from([60.0, 60.0, 0.0, 5.0, 200.0]),
    level_readings=st.sampled_from([5, 5, 1, 2, 3, 80]),
    delta=st.sampled_from([30.0, 30.0, 3.0]),
)


@settings(max_examples=examples(400), deadline=None)
@given(runs_strategy, configs, cuts_strategy, st.sampled_from([1, 6, 5000]))
def test_runs_of_one_value_give_the_same_everything(
    runs: list[tuple[float, int, float]], config: DetectorConfig, cuts: list[int], size: int
) -> None:
    """The kernel also book-keeps a long run that cannot be a flatline yet: at its edges, and under other settings."""
    t, samples = 0.0, list[Sample]()
    for value, n, step in runs:
        for _ in range(n):
            samples.append((t, value))
            t += step
    compare(samples, cuts, size, config=config)


@settings(max_examples=examples(200), deadline=None)
@given(messy_strategy, configs, cuts_strategy)
def test_random_streams_under_other_settings_give_the_same_everything(
    steps: list[tuple[float, float | None]], config: DetectorConfig, cuts: list[int]
) -> None:
    compare(as_samples(steps), cuts, 7, config=config)


@pytest.mark.parametrize("level_readings", [5, 4, 1])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_a_level_taken_afresh_on_every_reading_gives_the_same_bounds(level_readings: int, direction: float) -> None:
    """With runs of two counted as long, every reading takes the level's bounds afresh: ramps put the extreme
    at each end of the ring in turn."""
    config = DetectorConfig(flatline_readings=2, flatline_seconds=1000.0, level_readings=level_readings)
    for n in range(3, 40):
        samples = [(float(i), 100.0 + direction * (i % 13)) for i in range(n)]
        assert compare(samples, config=config)[-1] == compare(samples, (n // 2,), size=3, config=config)[-1]


@pytest.mark.parametrize(("name", "samples", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_rules_table_gives_the_same_everything(name: str, samples: list[Sample], expected: list[str]) -> None:
    compare(samples, (5, 17), size=4)
    compare(samples)


def calm_stream(n: int, seed: int, step: float = 1.0) -> list[Sample]:
    """Long calm stretches with now and then a spike, a blank, a hole, a stuck value or a new rhythm."""
    rnd, t, out = random.Random(seed), 0.0, list[Sample]()
    while len(out) < n:
        what = rnd.random()
        if what < 0.002:
            step = rnd.choice([1.0, 5.0, 60.0, 0.25])
        if what < 0.01:
            t += rnd.choice([3.0, 40.0, 700.0]) * step
        value: float | None = 70.0 + rnd.randint(-3, 3)
        if rnd.random() < 0.01:
            value = rnd.choice([None, math.nan, 140.0, 25.0, 260.0])
        if 0.01 <= what < 0.012:
            out += [(t + i * step, 66.0) for i in range(80)]
            t += 80 * step
        out.append((t, value))
        t += step
    return out


@pytest.mark.parametrize("seed", range(6))
def test_long_calm_streams_give_the_same_everything(seed: int) -> None:
    samples = calm_stream(20_000, seed)
    compare(samples, (1000, 4999, 1, 0, 3000), size=5000)
    compare(samples, size=997)


@pytest.mark.parametrize("where", [0, 20, 31])
def test_a_nan_in_the_cadence_window_is_sorted_by_python(where: int) -> None:
    """Python's sort decides where a NaN step goes; the kernel leaves such a retune to Python. (A NaN time
    would put one there, but then every later step is NaN too and no reading is calm: made by hand here.)"""

    def nan_in_window(d: Detector) -> None:
        for i in range(40):
            d.feed(float(i), 70.0 + i % 3)
        d.cadence.window[where] = math.nan

    samples = [(40.0 + i, 70.0 + i % 2) for i in range(100)]
    compare(samples, prepare=nan_in_window)
    compare(samples, (7,), size=11, prepare=nan_in_window)


def real_files() -> list[Path]:
    return sorted(p for p in REAL.glob("*.csv") if not p.name.endswith("_tags.csv")) if REAL.is_dir() else []


@pytest.mark.skipif(not real_files(), reason="no real recordings on this machine (/work/shared/data/real)")
@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
def test_real_recordings_give_the_same_everything(path: Path) -> None:
    with path.open("rb") as fh:
        for s in read_series(fh, path.name):
            samples = list(zip(s.ts, s.bpm, strict=True))
            step, usual = cadence_of(s.ts[:65536]) or (1.0, 0.0)
            compare(samples, cadence=step, usual=usual)


def test_the_kernel_takes_only_double_columns_of_equal_length() -> None:
    """Where it is not built (no compiler; a mutation-testing copy of the sources), ingest takes the Python loop."""
    if KERNEL is None:
        assert columns.KERNEL is None
        return
    d, limits = Detector(), (30.0, 220.0, 30.0, 10, 60.0)
    d.feed(0.0, 70.0)
    with pytest.raises(TypeError, match="array"):
        KERNEL.calm(d, array("f", [1.0]), array("d", [70.0]), 0, 1, [], [], limits)
    with pytest.raises(ValueError, match="lengths"):
        KERNEL.calm(d, array("d", [1.0]), array("d", [70.0, 71.0]), 0, 1, [], [], limits)
    with pytest.raises(TypeError, match="limits"):
        KERNEL.calm(d, array("d", [1.0]), array("d", [70.0]), 0, 1, [], [], limits[:4])
    out: tuple[list[float], list[float]] = ([], [])
    assert KERNEL.calm(d, array("d", [1.0, 2.0]), array("d", [70.0, 71.0]), 0, 2, *out, limits) == 2
    assert out == ([1.0, 2.0], [70.0, 71.0]) and d._seq == 3 and list(d._level) == [70.0, 70.0, 71.0]


def test_columns_of_other_sequences_are_read_as_floats() -> None:
    """Lists (of ints too) give what the same values as floats give; unequal columns are refused."""
    compare([(float(i), 70.0 + i % 2) for i in range(50)])
    d = Detector()
    got = list(column_batches(d, [(list(range(50)), [70 + i % 2 for i in range(50)])]))
    assert [(r.ts, r.bpm) for b, _ in got for r in b] == [(float(i), 70.0 + i % 2) for i in range(50)]
    assert all(type(x) is float for b, _ in got for x in b.ts + b.bpm)
    with pytest.raises(ValueError, match="different lengths"):
        list(column_batches(Detector(), [([1.0, 2.0], [70.0])]))
