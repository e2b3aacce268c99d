"""read_series (core/reader/__init__.py), the reader's entry point: its arguments, its callbacks
(the layout's offset, chunks handed out as the file is read) and the refusals it makes itself."""

from __future__ import annotations

import gzip
import io
from array import array

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import Unstreamable, read_series
from hrviz.core.series import Series

T0 = 1714557600.0  # 2024-05-01T10:00:00Z


def read(data: str | bytes, **kw: object) -> list[Series]:
    raw = data.encode() if isinstance(data, str) else data
    return read_series(io.BytesIO(raw), "t.csv", **kw)  # type: ignore[arg-type]


def rows(n: int, start: int = 0, bpm: str = "70") -> str:
    return "".join(f"{T0 + start + i:.0f},{bpm}\n" for i in range(n))


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="^interval must be positive$"):
        read("bpm\n70\n", interval=0)
    assert list(read("bpm\n70\n71\n", interval=0.25)[0].ts) == [0.0, 0.25]


def test_the_file_offset_is_told_before_any_row_is_read() -> None:
    told: list[int | None] = []
    read("time,bpm\n2024-05-01T12:00:00+02:00,70\n", on_layout=told.append)
    assert told == [120]


def test_chunks_are_handed_out_as_the_file_is_read() -> None:
    chunks: list[tuple[list[float], list[float]]] = []

    def keep(ts: array, bpm: array) -> None:
        chunks.append((list(ts), list(bpm)))

    (series,) = read("time,bpm\n" + rows(5), on_chunk=keep, chunk_rows=2)
    assert chunks == [([T0, T0 + 1], [70.0, 70.0]), ([T0 + 2, T0 + 3], [70.0, 70.0])]
    assert (list(series.ts), series.rows) == ([T0 + 4], 5)  # what was left; rows count the whole file


def test_chunks_of_65536_rows_by_default() -> None:
    sizes: list[int] = []
    (series,) = read("time,bpm\n" + rows(65_537), on_chunk=lambda ts, bpm: sizes.append(len(ts)))
    assert sizes == [65_536] and len(series.ts) == 1


def test_a_file_whose_values_all_went_out_in_chunks_is_not_empty() -> None:
    """The rows left at the end are all blank, but the chunks held readings: the file is good."""
    (series,) = read("time,bpm\n" + rows(2) + rows(1, 2, ""), on_chunk=lambda ts, bpm: None, chunk_rows=2)
    assert series.rows == 3 and len(series.bpm) == 1
    with pytest.raises(InputError) as err:
        read("time,bpm\n" + rows(3, 0, ""), on_chunk=lambda ts, bpm: None, chunk_rows=2)
    assert str(err.value) == "t.csv: nothing parseable: every 'bpm' cell is blank, zero, negative or not a number"


UNSTREAMABLE: list[tuple[str, str | bytes, str | None, str]] = [
    ("several subjects", "time,user,bpm\n2024-05-01T10:00:00Z,ann,70\n", None, "several subjects are read whole"),
    ("a subject chosen", "time,bpm\n2024-05-01T10:00:00Z,70\n", "ann", "several subjects are read whole"),
    (
        "a gzipped TCX",
        gzip.compress(b"<TrainingCenterDatabase></TrainingCenterDatabase>"),
        None,
        "a tcx file is read whole",
    ),
]


@pytest.mark.parametrize("data, subject, why", [c[1:] for c in UNSTREAMABLE], ids=[c[0] for c in UNSTREAMABLE])
def test_what_cannot_be_handed_out_in_chunks(data: str | bytes, subject: str | None, why: str) -> None:
    with pytest.raises(Unstreamable) as err:
        read(data, on_chunk=lambda ts, bpm: None, subject=subject)
    assert str(err.value) == f"t.csv: {why}"


def test_a_chosen_subject_with_only_empty_rows_is_nothing_parseable() -> None:
    """Rows with an empty subject cell are the unnamed subject ''; here its only row is empty."""
    data = "time,user,bpm\n2024-05-01T10:00:00Z,ann,70\n2024-05-01T10:00:01Z,ann,71\n,,\n"
    with pytest.raises(InputError) as err:
        read(data, subject="")
    assert str(err.value) == "t.csv: nothing parseable: no data row has a readable time and heart rate"
