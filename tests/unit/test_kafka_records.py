"""The Kafka record codec (pure: no broker): both encoders give exactly the documented JSON."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.adapters.queue.records import RecordEncoder, decode
from hrviz.core.model import Reading, ReadingBatch, format_ts
from tests.unit import examples

KINDS = st.sampled_from([(), ("spike",), ("missing",), ("missing", "flatline"), ("gap", "out_of_range")])
OFFSETS = st.sampled_from([None, 0, 60, -300, 330, 345, -570, 840])


def documented(session_id: str, r: Reading, tz: int | None) -> dict[str, object]:
    """docs/outbox.md's record, the slow obvious way."""
    return {
        "session": session_id,
        "seq": r.seq,
        "ts": format_ts(r.ts, tz),
        "t": r.ts,
        "bpm": r.bpm,
        "filled": r.filled,
        "kinds": list(r.kinds),
    }


@st.composite
def batches(draw: st.DrawFn) -> ReadingBatch:
    """Runs of consecutive whole seconds (the fast path), steps and fractions (the general one),
    crossing minute, hour and day boundaries, with a few marked readings."""
    first_seq = draw(st.integers(0, 10**7))
    t = float(draw(st.integers(1_600_000_000, 1_900_000_000)) - draw(st.integers(0, 200)))
    n = draw(st.integers(0, 400))
    regular = draw(st.booleans())
    readings = []
    for i in range(n):
        if i:
            t += 1.0 if regular else draw(st.sampled_from([1.0, 2.0, 0.25, 61.0, 3600.0, 0.001]))
        bpm = draw(st.sampled_from([61.0, 72.5, 180.0, 30.000000000000004, 0.0]))
        marked = draw(st.integers(0, 9)) == 0
        kinds = draw(KINDS) if marked else ()
        filled = marked and draw(st.booleans())
        readings.append(Reading(first_seq + i, t, bpm, filled, kinds))
    return ReadingBatch.of(readings, first_seq)


@settings(max_examples=examples(100), deadline=None)
@given(batches(), OFFSETS, st.sampled_from(["25bf8f97e337", "s-json", 'we"ird\\id']))
def test_batch_and_reading_encoders_give_the_documented_record(
    batch: ReadingBatch, tz: int | None, session_id: str
) -> None:
    encoder = RecordEncoder(session_id, tz)
    records = encoder.encode_batch(batch)
    assert records == [encoder.encode(r) for r in batch]  # byte for byte: one wire format
    expected = [documented(session_id, r, tz) for r in batch]
    assert [json.loads(x) for x in records] == expected
    assert all(list(json.loads(x)) == list(e) for x, e in zip(records, expected, strict=True))  # field order
    for record, r in zip(records, batch, strict=True):
        assert encoder.seq_of(record) == encoder.seq_of(record.encode()) == r.seq
        assert decode(record.encode()) == (session_id, r)


def test_the_fast_path_crosses_midnight_in_the_files_offset() -> None:
    start = 1_773_532_795.0  # 2026-03-14T23:59:55Z
    batch = ReadingBatch(7, [start + i for i in range(10)], [60.0] * 10)
    records = [json.loads(r) for r in RecordEncoder("s", 0).encode_batch(batch)]
    assert [r["ts"] for r in records[4:6]] == ["2026-03-14T23:59:59Z", "2026-03-15T00:00:00Z"]
    records = [json.loads(r) for r in RecordEncoder("s", -90).encode_batch(batch)]
    assert records[0]["ts"] == "2026-03-14T22:29:55-01:30" and records[0]["seq"] == 7


def test_a_batch_grown_after_it_was_printed_is_printed_again() -> None:
    batch = ReadingBatch(0, [1_700_000_000.0], [60.0])
    encoder = RecordEncoder("s", None)
    assert len(encoder.encode_batch(batch)) == 1
    batch.append(Reading(1, 1_700_000_001.0, 61.5, True, ("missing",)))
    second = json.loads(encoder.encode_batch(batch)[1])
    assert (second["seq"], second["bpm"], second["filled"], second["kinds"]) == (1, 61.5, True, ["missing"])
