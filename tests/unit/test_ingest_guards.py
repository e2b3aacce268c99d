"""What ingest refuses before (or instead of) storing, and the exact one-line message a user reads:
a file name that is not text, a file without a single value, and times outside 1970–2099 — whether a
reader let them through (ingest's own check) or they arrive chunk by chunk from the reader process
(the check on every batch before it is written)."""

from __future__ import annotations

import io
import json
import math
from array import array

import pytest

from hrviz.core import ingest as ingest_module
from hrviz.core.errors import InputError
from hrviz.core.ingest import IngestOptions, check_source, ingest, ingest_chunks
from hrviz.core.series import Series
from tests.unit.fakes import MemoryStore

LATEST = 4_102_444_800.0  # 2100-01-01T00:00:00Z: the first time hrviz does not store
CSV = b"time,bpm\n2024-05-01T10:00:00Z,70\n2024-05-01T10:00:01Z,71\n"


def test_a_file_name_that_is_not_text_is_refused_before_reading() -> None:
    name = "run\udcff.csv"  # a byte that was not UTF-8, as os.fsdecode hands it over
    expected = "run\\xff.csv: the file name is not valid UTF-8; rename the file"
    with pytest.raises(InputError) as direct:
        check_source(name)
    assert str(direct.value) == expected and direct.value.source == name
    store = MemoryStore()
    with pytest.raises(InputError) as whole:
        ingest(io.BytesIO(CSV), name, store)
    with pytest.raises(InputError) as chunked:
        ingest_chunks(iter(()), lambda: Series(None), name, "d" * 64, store, IngestOptions())
    assert str(whole.value) == str(chunked.value) == expected
    assert store.sessions == {} and store.aborted == 0
    check_source("Lauf 05·01 ❤.csv")  # any text is a fine name


def test_a_file_without_a_single_value_says_so_without_naming_a_subject() -> None:
    zeros = json.dumps([{"dateTime": f"05/01/24 10:00:0{i}", "value": {"bpm": 0}} for i in range(3)]).encode()
    with pytest.raises(InputError) as refused:  # Fitbit writes 0 for "no reading"; a CSV is refused by its reader
        ingest(io.BytesIO(zeros), "hr.json", MemoryStore())
    assert str(refused.value) == "hr.json: no usable heart-rate values: every value is blank or a placeholder"


def reader_giving(*ts: float) -> object:
    """A reader with a bug: it hands over these times as they are (every real reader refuses them)."""

    def read_series(stream: object, source: str, **options: object) -> list[Series]:
        return [Series(None, array("d", ts), array("d", [70.0] * len(ts)), rows=len(ts))]

    return read_series


@pytest.mark.parametrize(
    ("ts", "message"),
    [
        ((-100.0, 1e9, 2e9), "times out of range: year 1969 to year 2033 (hrviz stores 1970–2099)"),
        ((0.0, 1e9, 5e9), "times out of range: year 1970 to year 2128 (hrviz stores 1970–2099)"),
        ((0.0, 1e9, LATEST), "times out of range: year 1970 to year 2100 (hrviz stores 1970–2099)"),
    ],
)
def test_times_a_reader_let_through_are_refused_with_their_years(
    monkeypatch: pytest.MonkeyPatch, ts: tuple[float, ...], message: str
) -> None:
    monkeypatch.setattr(ingest_module, "read_series", reader_giving(*ts))
    store = MemoryStore()
    with pytest.raises(InputError) as refused:
        ingest(io.BytesIO(CSV), "bug.csv", store)
    assert str(refused.value) == f"bug.csv: {message}"
    assert store.sessions == {}


def test_the_first_and_last_second_of_the_range_are_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "read_series", reader_giving(0.0, 1.0, LATEST - 1))
    (s,) = ingest(io.BytesIO(CSV), "edges.csv", MemoryStore())
    assert (s.start, s.end, s.readings) == (0.0, LATEST - 1, 3)


def store_chunk(*ts: float) -> tuple[MemoryStore, object]:
    store = MemoryStore()
    chunk = (array("d", ts), array("d", [70.0] * len(ts)))
    try:
        s = ingest_chunks(iter([chunk]), lambda: Series(None, rows=len(ts)), "a.csv", "d" * 64, store, IngestOptions())
    except InputError as err:
        return store, str(err)
    return store, (s.readings, s.start, s.end)


@pytest.mark.parametrize(
    ("ts", "outcome"),
    [
        ((0.0, 1.0, 2.0), (3, 0.0, 2.0)),  # the epoch itself is in range
        ((0.0, 1.0, LATEST - 1), (3, 0.0, LATEST - 1)),  # so is the last second of 2099
        ((-1.0, 5.0, 6.0), "-1.0"),  # the first time out of range is named, in seconds
        ((0.0, 1.0, LATEST), "4102444800.0"),
        ((0.0, 0.5, LATEST + 10), "4102444810.0"),
        ((1.0, math.nan, 3.0), "nan"),  # in the middle of a batch: the sum is not finite
        ((1.0, 2.0, math.inf), "inf"),
    ],
)
def test_every_batch_from_the_reader_process_is_checked_before_it_is_written(
    ts: tuple[float, ...], outcome: object
) -> None:
    store, got = store_chunk(*ts)
    if isinstance(outcome, str):
        assert got == f"a.csv: times out of range: {outcome} s after 1970 (hrviz stores 1970–2099); nothing stored"
        assert store.sessions == {} and store.rows == {} and store.aborted == 1
    else:
        assert got == outcome and len(store.sessions) == 1


def test_a_readers_warning_reaches_the_session_and_again_when_the_file_is_found_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cut = "the file ends early (3,000 of the 5,597 bytes); kept the 120 heart-rate readings before the break"

    def read_series(stream: object, source: str, **options: object) -> list[Series]:  # as a FIT cut short
        ts = array("d", [1e9, 1e9 + 1, 1e9 + 2])
        return [Series(None, ts, array("d", [70.0, 71.0, 72.0]), rows=3, warnings=[cut])]

    monkeypatch.setattr(ingest_module, "read_series", read_series)
    store = MemoryStore()
    (first,) = ingest(io.BytesIO(b"FIT"), "cut.fit", store)
    (again,) = ingest(io.BytesIO(b"FIT"), "cut.fit", store)
    assert (first.existing, first.warnings) == (False, [cut])
    assert (again.existing, again.warnings) == (True, [cut])  # said each time: the store does not keep it
