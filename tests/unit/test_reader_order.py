"""Files out of time order: sorted, first-seen row kept per time, in compact arrays (issue 8, item 7)."""

from __future__ import annotations

import io
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.core.reader import collect, points, read_series
from hrviz.core.series import Series
from tests.unit import examples

T0 = 1_767_225_600


def read(text: str) -> Series:
    (series,) = read_series(io.BytesIO(text.encode()), "t.csv")
    return series


def reference(rows: list[tuple[int, int]]) -> tuple[list[float], list[float], int]:
    """Sorted by time, the first row seen kept for each time, and how many were dropped."""
    first: dict[int, int] = {}
    for t, v in rows:
        first.setdefault(t, v)
    ts = sorted(first)
    return [float(T0 + t) for t in ts], [float(first[t]) for t in ts], len(rows) - len(first)


@settings(max_examples=examples(300), deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 60), st.integers(40, 200)), min_size=1, max_size=120),
    block=st.sampled_from([1, 2, 3, 7, 65_536]),
)
def test_any_order_reads_as_a_stable_sort_keeping_the_first_seen(rows: list[tuple[int, int]], block: int) -> None:
    saved, collect.SORT_BLOCK = collect.SORT_BLOCK, block  # small blocks: many merges per file
    try:
        s = read("time,bpm\n" + "".join(f"{T0 + t},{v}\n" for t, v in rows))
    finally:
        collect.SORT_BLOCK = saved
    ts, bpm, dropped = reference(rows)
    assert (list(s.ts), list(s.bpm), s.duplicates, s.rows) == (ts, bpm, dropped, len(rows))


def issue_file(rows: int, ahead: int) -> str:
    """1 Hz rows with ``ahead`` of them, evenly spread, stamped 10 minutes ahead (the issue's case)."""
    every = rows // (ahead + 1) if ahead else rows + 1
    return "time,bpm\n" + "".join(
        f"{T0 + i + (600 if ahead and i % every == every - 1 else 0)},{60 + i % 50}\n" for i in range(rows)
    )


def peak_bytes(text: str) -> tuple[int, Series]:
    data = text.encode()
    tracemalloc.start()
    try:
        (series,) = read_series(io.BytesIO(data), "t.csv")
        return tracemalloc.get_traced_memory()[1], series
    finally:
        tracemalloc.stop()


def test_sorting_an_unsorted_file_costs_about_what_a_sorted_one_does() -> None:
    rows = 100_000
    sorted_peak, in_order = peak_bytes(issue_file(rows, 0))
    unsorted_peak, out_of_order = peak_bytes(issue_file(rows, 50))
    assert out_of_order.duplicates == 50 and len(out_of_order) == rows - 50
    assert list(out_of_order.ts) == sorted(out_of_order.ts)
    # Before: a list of row indices and one of keys, ~3× the sorted read's peak. Now: the arrays
    # (16 B a row, as when sorted) plus one block of stragglers being sorted (a few MB).
    assert unsorted_peak < 1.5 * sorted_peak + 2_000_000, (sorted_peak, unsorted_peak)
    assert len(in_order) == rows


def test_a_descending_file_is_sorted_in_blocks() -> None:
    rows = 200_000
    s = read("time,bpm\n" + "".join(f"{T0 + rows - i},{60 + i % 50}\n" for i in range(rows)))
    assert len(s) == rows and s.ts[0] == T0 + 1 and s.ts[-1] == T0 + rows
    assert all(a < b for a, b in zip(s.ts, s.ts[1:], strict=False))


@settings(max_examples=examples(100), deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 60), st.integers(40, 200)), min_size=1, max_size=80))
def test_structured_formats_points_sort_the_same_way(rows: list[tuple[int, int]]) -> None:
    c = collect.Collector(None)
    for t, v in rows:
        points.add(c, float(T0 + t), float(v))
    s = c.finish(None)
    ts, bpm, dropped = reference(rows)
    assert (list(s.ts), list(s.bpm), s.duplicates, s.rows) == (ts, bpm, dropped, len(rows))
