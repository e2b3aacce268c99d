"""``Stats.add_batch``: what a loop of ``Stats.add`` over the counted readings gives (its sum taken by ``sum``)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.core.model import ReadingBatch, Stats, counts_in_stats

MARKS = st.sampled_from([(True, ()), (False, ("spike",)), (False, ("out_of_range",)), (True, ("out_of_range",))])


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(20.0, 240.0), st.integers(30, 220).map(float)), min_size=1, max_size=300),
    marks=st.dictionaries(st.integers(0, 299), MARKS, max_size=40),
    before=st.lists(st.floats(20.0, 240.0), max_size=3),
)
def test_a_batch_counts_its_measured_in_range_readings_as_one_by_one(
    values: list[float], marks: dict[int, tuple[bool, tuple[str, ...]]], before: list[float]
) -> None:
    batch = ReadingBatch(0, [float(i) for i in range(len(values))], values)
    batch.marks = {i: m for i, m in marks.items() if i < len(values)}
    kept = [v for i, v in enumerate(values) if i not in batch.marks or counts_in_stats(*batch.marks[i])]
    by_batch, one_by_one = Stats(), Stats()
    for v in before:
        by_batch.add(v)
        one_by_one.add(v)
    total = by_batch.total
    by_batch.add_batch(batch)
    for v in kept:
        one_by_one.add(v)
    assert (by_batch.count, by_batch.min, by_batch.max) == (one_by_one.count, one_by_one.min, one_by_one.max)
    assert by_batch.total == (total + sum(kept) if kept else total)
    assert math.isclose(by_batch.total, one_by_one.total, rel_tol=1e-12)


def test_a_batch_of_only_filled_readings_changes_nothing() -> None:
    batch = ReadingBatch(0, [1.0, 2.0], [70.0, 80.0], {0: (True, ()), 1: (False, ("out_of_range",))})
    stats = Stats()
    stats.add_batch(batch)
    assert (stats.count, stats.total, stats.min, stats.max) == (0, 0.0, math.inf, -math.inf)
