"""What ingest stores for a recording longer than one batch (5,000 readings) or than the cadence sample
(65,536 timestamps), in the chunked path of the reader process: counts summed over batches, events from
every batch, the rhythm from the first timestamps, the summary's effort maximum, and the session as
the writer is begun (its fingerprint, the UTC offset the reader told early)."""

from __future__ import annotations

import hashlib
import io
import json
import math
from array import array
from collections.abc import Iterator

import pytest

from hrviz.core.ingest import IngestOptions, ingest, ingest_chunks
from hrviz.core.model import Session
from hrviz.core.series import Series
from tests.unit.fakes import MemoryStore, MemoryWriter

BASE = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DIGEST = "d" * 64  # the reader process's digest of the file's bytes and settings
FINGERPRINT = hashlib.sha256(f"{DIGEST}\0None".encode()).hexdigest()  # the digest and the (absent) subject


def chunks(ts: list[float], bpm: list[float], size: int) -> Iterator[tuple[array, array]]:
    t, b = array("d", ts), array("d", bpm)
    return iter([(t[i : i + size], b[i : i + size]) for i in range(0, len(t), size)])


def chunked(
    ts: list[float], bpm: list[float], size: int, store: MemoryStore | None = None, **options: object
) -> Session:
    return ingest_chunks(
        chunks(ts, bpm, size), lambda: Series(None, rows=len(ts)), "long.csv", DIGEST, store or MemoryStore(),
        IngestOptions(**options),  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_recording_of_several_batches_adds_up_over_all_of_them() -> None:
    n = 12_000  # three batches
    bpm = [70.0 + i % 3 for i in range(n)]
    bpm[100] = bpm[101] = bpm[11_900] = math.nan  # missing readings in the first batch and the last
    bpm[2_000] = bpm[10_000] = 130.0  # a spike in the first batch and one in the second
    store = MemoryStore()
    s = chunked([BASE + i for i in range(n)], bpm, 3_000, store)
    assert (s.readings, s.filled, s.start, s.end) == (12_000, 3, BASE, BASE + 11_999)
    assert [(str(a.kind), a.start - BASE, a.end - BASE) for a in s.anomalies] == [
        ("missing", 100.0, 101.0),
        ("spike", 2_000.0, 2_000.0),
        ("spike", 10_000.0, 10_000.0),
        ("missing", 11_900.0, 11_900.0),
    ]
    assert len(store.rows[s.id]) == 12_000 and s.fingerprint == FINGERPRINT


def test_the_rhythm_comes_from_the_first_65536_timestamps_as_when_the_file_is_read_whole() -> None:
    head = [BASE, BASE + 1, BASE + 2] + [BASE + 5 + i for i in range(65_533)]  # one a second, a 3 s hole ...
    tail = [head[-1] + 5 * (j + 1) for j in range(14_464)]  # ... then one every 5 s (17 % of the first 79,000)
    ts, bpm = array("d", head + tail), array("d", [70.0 + i % 3 for i in range(80_000)])
    cuts = [0, 65_000, 79_000, 80_000]  # the cadence sample ends inside the second chunk
    s = ingest_chunks(
        iter([(ts[a:b], bpm[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]),
        lambda: Series(None, rows=80_000), "long.csv", DIGEST, MemoryStore(), IngestOptions(),
    )  # fmt: skip
    assert (s.readings - s.filled, s.end) == (80_000, BASE + 65_537 + 5 * 14_464)  # all of it, every chunk
    first = s.anomalies[0]  # judged on 1 s, as usual as the first 65,536 say: the hole is 2 missing readings
    assert (str(first.kind), first.start - BASE, first.end - BASE) == ("missing", 3.0, 4.0)


def test_a_file_every_5_s_is_filled_on_its_own_grid_from_the_start() -> None:
    times = [0, 5, 10, 25] + [25 + 5 * i for i in range(1, 40)]  # a 15 s hole before the rhythm could be learnt
    csv = b"time,bpm\n" + b"".join(b"%d,%d\n" % (BASE + t, 70 + i % 3) for i, t in enumerate(times))
    (s,) = ingest(io.BytesIO(csv), "five.csv", MemoryStore())
    assert (s.readings, s.filled) == (45, 2)  # 15 and 20 filled, not 14 readings a second apart
    assert [(str(a.kind), a.start - BASE, a.end - BASE) for a in s.anomalies] == [("missing", 15.0, 20.0)]


def test_a_chunked_file_every_5_s_is_analysed_on_its_own_rhythm() -> None:
    ts = [BASE + 5 * i for i in range(40)]
    s = chunked(ts, [70.0 + i % 3 for i in range(40)], 16)
    assert s.cadence == {
        "median_s": 5,
        "segments": [
            {"start": "2023-11-14T22:13:20", "end": "2023-11-14T22:16:35", "every_s": 5, "usual_max_s": 5, "notes": []}
        ],
    }
    assert (s.filled, s.anomalies) == (0, [])


def test_a_single_reading_is_analysed_at_one_a_second() -> None:
    (s,) = ingest(io.BytesIO(b"time,bpm\n2024-05-01T10:00:00Z,70\n"), "one.csv", MemoryStore())
    assert s.cadence == {
        "median_s": 1,
        "segments": [
            {
                "start": "2024-05-01T10:00:00Z",
                "end": "2024-05-01T10:00:00Z",
                "every_s": 1,
                "usual_max_s": 0,
                "notes": ["spike, drop: not looked for, too few readings here (one every 1 s) to know a level"],
            }
        ],
    }


def effort_file() -> bytes:
    """A minute at 100, 90 s at 160 (a hard effort for a maximum of 190: ≥ 152), two minutes back at 100."""
    values = [100] * 60 + [160] * 90 + [100] * 120
    return b"time,bpm\n" + b"".join(
        b"2024-05-01T10:%02d:%02dZ,%d\n" % (i // 60, i % 60, v) for i, v in enumerate(values)
    )


@pytest.mark.parametrize(
    ("max_hr", "recoveries"),
    [
        (190.0, [[1714557660.0, 1714557750.0, 160.0, 100.0, 160.0]]),  # the default (220 - 30): HRR60 of 60
        (None, []),  # no maximum: no effort is hard
        (210.0, []),  # 160 is under 80 % of 210
    ],
)
def test_the_stored_summary_judges_efforts_by_the_maximum_it_was_given(max_hr: float | None, recoveries: list) -> None:
    (s,) = ingest(io.BytesIO(effort_file()), "effort.csv", MemoryStore(), IngestOptions(max_hr=max_hr))
    assert s.summary is not None and s.summary.effort_max_hr == max_hr
    assert json.loads(s.summary.summary_json)["recoveries"] == recoveries


def test_the_chunked_path_gives_the_summary_the_same_maximum() -> None:
    values = [100.0] * 60 + [160.0] * 90 + [100.0] * 120
    ts = [1_714_557_600.0 + i for i in range(len(values))]
    assert chunked(ts, values, 100).summary.effort_max_hr == 190.0  # type: ignore[union-attr]
    s = chunked(ts, values, 100, max_hr=170.0)  # 136 and up is hard
    assert s.summary is not None and s.summary.effort_max_hr == 170.0
    assert json.loads(s.summary.summary_json)["recoveries"] == [[1714557660.0, 1714557750.0, 160.0, 100.0, 160.0]]


class BeginSeen(MemoryStore):
    """Remembers the session as the writer was begun (a queue's staging is set up from it)."""

    def begin(self, session: Session) -> MemoryWriter:
        self.begun = (session.id, session.fingerprint, session.tz_offset_min, session.source)
        return super().begin(session)


def test_the_writer_is_begun_with_the_offset_the_reader_told_early() -> None:
    store = BeginSeen()
    ts = [BASE + i for i in range(3)]
    totals = Series(None, rows=3, tz_offset_min=120)
    s = ingest_chunks(chunks(ts, [70.0] * 3, 3), lambda: totals, "a.csv", DIGEST, store, IngestOptions(), 120)
    assert store.begun == (FINGERPRINT[:12], FINGERPRINT, 120, "a.csv")
    assert (s.fingerprint, s.tz_offset_min, s.as_dict()["start"]) == (FINGERPRINT, 120, "2023-11-15T00:13:20+02:00")


def test_a_chunk_whose_columns_differ_in_length_is_a_caller_bug_not_a_shorter_session() -> None:
    bad = iter([(array("d", [BASE, BASE + 1, BASE + 2]), array("d", [70.0, 71.0]))])
    store = MemoryStore()
    with pytest.raises(ValueError, match="columns of different lengths"):
        ingest_chunks(bad, lambda: Series(None, rows=3), "a.csv", DIGEST, store, IngestOptions())
    assert store.sessions == {} and store.aborted == 1
