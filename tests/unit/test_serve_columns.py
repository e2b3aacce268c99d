"""A hub window's columns give back, byte for byte, the message ``protocol.reading`` makes."""

from __future__ import annotations

import pytest

from hrviz.adapters.serve.columns import RECENT, Columns
from hrviz.core import protocol
from hrviz.core.model import Reading

READINGS = [
    Reading(10, 1767225600.0, 61.0, False, ()),
    Reading(11, 1767225601.25, 62.5, True, ("blank",)),
    Reading(12, 1767225661.5, 240.0, False, ("spike", "out_of_range")),
    Reading(13, 1767225662.0, 60.0, False, ()),
]
AFTER_GAP = [False, False, True, False]


def filled() -> Columns:
    cols = Columns(10)
    for r, gap in zip(READINGS, AFTER_GAP, strict=True):
        cols.append(r, gap)
    return cols


@pytest.mark.parametrize("tz", [None, 0, 60, -330])
def test_each_message_is_what_the_protocol_encodes(tz: int | None) -> None:
    cols = filled()
    for r, gap in zip(READINGS, AFTER_GAP, strict=True):
        assert cols.message(r.seq, tz) == protocol.reading(r, tz, gap)
        assert cols.ts_at(r.seq) == r.ts
    assert len(cols) == 4


def test_dropping_keeps_the_rest_and_refuses_what_went() -> None:
    cols = filled()
    cols.drop(2)
    assert cols.base == 12 and len(cols) == 2
    assert cols.message(12, 60) == protocol.reading(READINGS[2], 60, True)
    assert list(cols.kinds) == [12]  # the dropped reading's kinds went with it
    with pytest.raises(IndexError):
        cols.ts_at(11)


def test_the_recent_messages_stay_bounded() -> None:
    cols = Columns(0)
    for seq in range(3 * RECENT):
        cols.append(Reading(seq, 1767225600.0 + seq, 70.0, False, ()), False)
        assert cols.message(seq, None) == protocol.reading(
            Reading(seq, 1767225600.0 + seq, 70.0, False, ()), None, False
        )
        assert len(cols._recent) <= RECENT
