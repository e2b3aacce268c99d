"""The C kernels that print readings (store/_ctsv.c, queue/_crecords.c) give exactly the Python text.

Both kernels answer None for what they leave to Python; these tests hold them to the Python
functions on random and adversarial batches (every float repr() can meet, times outside what a
calendar shows, marks with odd kinds), and check that the plain case really is done in C.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hrviz.adapters.queue.records import RecordEncoder
from hrviz.adapters.store import rows
from hrviz.core.detector import Detector
from hrviz.core.errors import InputError
from hrviz.core.model import Reading, ReadingBatch
from hrviz.core.reader import read_series
from tests.real_data import REAL
from tests.unit import examples


def built(name: str) -> ModuleType:
    """The kernel itself, even under HRVIZ_PURE_PYTHON=1 (this test is about it)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not built (no C compiler): hrviz runs on the Python code")


SPECIAL = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e16, 1e16 - 2, -(1e16 - 2), 2.0**53, 2.0**53 + 2, 1e-7, 5e-324,
           1.7976931348623157e308, 0.1, 72.5, 30.000000000000004, 123456789.123, -1.5, 1e22, 9999999999999998.0]  # fmt: skip
# local seconds around what the kernel prints itself (years 1000-9999) and what it asks Python for
EDGES = [-30610224000.0, -30610224001.0, -30610224000.5, -30610223999.9995, 253402300799.0, 253402300800.0,
         253402300799.9996, 253402300799.4, 1e15, 1e15 - 0.5, -62135596800.0, 1_700_000_000.0005, -1e-7,
         1_700_000_000.9999996, 1_700_000_059.9999999, 0.0000025, -0.0000005, 0.9995, -0.9995]  # fmt: skip
FLOATS = st.one_of(
    st.floats(),
    st.sampled_from(SPECIAL),
    st.integers(-(10**17), 10**17).map(float),
    st.integers(0, 250).map(float),
    st.integers(0, 2000).map(lambda x: x / 8),
)
TIMES = st.one_of(
    FLOATS,
    st.sampled_from(EDGES),
    st.integers(-31_000_000_000, 254_000_000_000).map(float),
    st.tuples(st.integers(1_600_000_000, 1_900_000_000), st.floats(0, 1, exclude_max=True)).map(sum),
    st.tuples(st.integers(-(10**7), 10**7), st.integers(0, 999_999)).map(lambda p: p[0] + p[1] / 1e6),
    st.tuples(st.integers(-(10**7), 10**7), st.integers(0, 999_999)).map(lambda p: p[0] + (p[1] + 0.5) / 1e6),
)
KIND = st.one_of(st.sampled_from(["spike", "missing", "flatline", "gap", "out_of_range", "drop"]), st.text(max_size=5))
MARK = st.tuples(st.booleans(), st.lists(KIND, max_size=3).map(tuple))
OFFSETS = st.one_of(st.none(), st.sampled_from([0, 60, -300, 330, 345, -570, 840, 1439, -1439, 1440, -2000]))


@st.composite
def batches(draw: st.DrawFn, times: st.SearchStrategy[float] = TIMES) -> ReadingBatch:
    n = draw(st.integers(0, 30))
    ts = draw(st.lists(times, min_size=n, max_size=n))
    if n and draw(st.booleans()):  # consecutive seconds: the Python encoder's fast path
        ts = [ts[0] // 1 + i if math.isfinite(ts[0]) else ts[0] for i in range(n)]
    bpm = draw(st.lists(FLOATS, min_size=n, max_size=n))
    marks = draw(st.dictionaries(st.integers(0, n - 1), MARK, max_size=n)) if n else {}
    first_seq = draw(st.one_of(st.integers(0, 10**7), st.integers(-(2**63), 2**63 - 1 - n)))
    return ReadingBatch(first_seq, ts, bpm, marks)


def outcome(call: object) -> object:
    """What a call gives: its value, or the type and text of what it raised."""
    try:
        return call()  # type: ignore[operator]
    except (ValueError, OverflowError, OSError, UnicodeError, TypeError) as err:
        return type(err), str(err)


def plain(batch: ReadingBatch) -> bool:
    """A batch the kernels must print themselves: ASCII kinds only."""
    return all(all(k.isascii() for k in kinds) for _, kinds in batch.marks.values())


@settings(max_examples=examples(400), deadline=None)
@given(batches())
@example(ReadingBatch(0, [], [], {}))
@example(ReadingBatch(2**63 - 2, [1.0, 2.0], [3.0, 4.0], {}))  # the last seq past int64: Python's ints
def test_tsv_kernel_gives_the_python_bytes(batch: ReadingBatch) -> None:
    tsv = built("hrviz.adapters.store._ctsv").tsv
    got = outcome(lambda: tsv(batch.first_seq, batch.ts, batch.bpm, batch.marks))
    if got is None:
        assert not plain(batch) or batch.first_seq + len(batch) > 2**63 - 1
        return
    assert got == outcome(lambda: rows.tsv_python(batch))


@settings(max_examples=examples(400), deadline=None)
@given(batches(), OFFSETS, st.sampled_from(["25bf8f97e337", 'we"ird\\id', "ünï"]))
def test_records_kernel_gives_the_python_records(batch: ReadingBatch, tz: int | None, session_id: str) -> None:
    kernel = built("hrviz.adapters.queue._crecords")
    encoder = RecordEncoder(session_id, tz)
    args = encoder._kernel_args(batch)
    expected = outcome(lambda: encoder.encode_batch_python(batch))
    records = outcome(lambda: kernel.records(*args))
    block = outcome(lambda: kernel.block(*args))
    if records is None:  # left to Python: an offset of a day or more (timezone() refuses it), a seq past int64
        assert block is None
        assert (tz is not None and abs(tz) >= 1440) or batch.first_seq + len(batch) > 2**63 - 1
        return
    if isinstance(expected, list):
        assert records == expected
        assert block == ("\n".join(expected) + "\n").encode()
    else:  # a time no calendar shows, in whole seconds: Python's own error, raised the same in C
        assert records == block == expected


@settings(max_examples=examples(200), deadline=None)
@given(batches(st.one_of(FLOATS, st.sampled_from(EDGES))), OFFSETS)
def test_the_encoder_uses_the_kernel_when_it_is_built(batch: ReadingBatch, tz: int | None) -> None:
    """encode_batch and encode_block give the Python records whichever path they take."""
    encoder = RecordEncoder("s", tz)
    expected = outcome(lambda: encoder.encode_batch_python(batch))
    assert outcome(lambda: encoder.encode_batch(batch)) == expected
    if isinstance(expected, list):
        assert encoder.encode_block(batch) == ("\n".join(expected) + "\n").encode()
    assert outcome(lambda: rows.tsv_lines(batch)) == outcome(lambda: rows.tsv_python(batch))


def test_the_kernels_print_the_plain_case_themselves() -> None:
    """Not a None that sends every batch back to Python: the usual 1 Hz batch is printed in C."""
    batch = ReadingBatch.of(
        [Reading(i, 1_773_532_795.0 + i, 60.0 + i % 7, i == 3, ("missing",) * (i == 3)) for i in range(9)]
    )
    args = RecordEncoder("s", 60)._kernel_args(batch)
    assert built("hrviz.adapters.queue._crecords").records(*args) is not None
    assert built("hrviz.adapters.queue._crecords").block(*args) is not None
    assert built("hrviz.adapters.store._ctsv").tsv(0, batch.ts, batch.bpm, batch.marks) is not None


def test_tsv_lines_written_out() -> None:
    batch = ReadingBatch(41, [1_700_000_000.0, 1_700_000_000.5, 1_700_000_001.0], [72.0, 61.25, 1e-7],
                         {1: (True, ("missing",)), 2: (False, ("spike", "out_of_range"))})  # fmt: skip
    expected = (
        b"41\t1700000000.0\t72.0\t0\t\n"
        b"42\t1700000000.5\t61.25\t1\tmissing\n"
        b"43\t1700000001.0\t1e-07\t0\tspike,out_of_range\n"
    )
    assert rows.tsv_lines(batch) == rows.tsv_python(batch) == expected
    assert rows.tsv_lines(ReadingBatch(0)) == b""


def test_a_kind_mysql_cannot_take_is_refused_by_both_paths() -> None:
    batch = ReadingBatch(0, [1.0], [2.0], {0: (False, ("spïke",))})
    with pytest.raises(UnicodeEncodeError):
        rows.tsv_lines(batch)
    with pytest.raises(UnicodeEncodeError):
        rows.tsv_python(batch)


def test_encode_block_is_the_staging_files_text() -> None:
    batch = ReadingBatch(0, [1_773_532_799.0, 1_773_532_800.25], [60.0, 61.5], {1: (True, ("missing",))})
    encoder = RecordEncoder("s", -90)
    assert encoder.encode_block(batch) == (
        b'{"session":"s","seq":0,"ts":"2026-03-14T22:29:59-01:30","t":1773532799.0,"bpm":60.0,"filled":false,"kinds":[]}\n'
        b'{"session":"s","seq":1,"ts":"2026-03-14T22:30:00.250-01:30","t":1773532800.25,"bpm":61.5,"filled":true,"kinds":["missing"]}\n'
    )
    assert encoder.encode_block(ReadingBatch(0)) == b"\n"


@pytest.mark.skipif(not REAL.is_dir(), reason=f"no real recordings at {REAL}")
@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.csv")) if REAL.is_dir() else [])
def test_real_recordings_print_the_same_in_c_and_python(name: str) -> None:
    """Every batch ingest makes of a real device export: the same TSV and records both ways."""
    tsv = built("hrviz.adapters.store._ctsv").tsv
    kernel = built("hrviz.adapters.queue._crecords")
    try:
        with (REAL / name).open("rb") as f:
            all_series = read_series(f, name)
    except InputError:
        return  # a file that is no heart-rate recording (PROVENANCE.md): nothing to print
    for series in all_series:
        encoder = RecordEncoder("real", series.tz_offset_min)
        for batch, _ in Detector().batches(zip(series.ts, series.bpm, strict=True), 5000):
            assert tsv(batch.first_seq, batch.ts, batch.bpm, batch.marks) == rows.tsv_python(batch)
            expected = encoder.encode_batch_python(batch)
            assert kernel.records(*encoder._kernel_args(batch)) == expected
            assert kernel.block(*encoder._kernel_args(batch)) == ("\n".join(expected) + "\n").encode()
