"""Structured files' points (core/reader/points.py): reading a decoded member whole, within a
limit that stops a gzip/zip "bomb", and adding timed points to a subject's collector."""

from __future__ import annotations

import io

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.points import MAX_WHOLE, add, read_whole

MIB = 2**20


class Trickle(io.BytesIO):
    """A stream that gives at most ``most`` bytes per read, whatever was asked (a pipe, a zip
    member), and records what was asked."""

    def __init__(self, data: bytes, most: int) -> None:
        super().__init__(data)
        self.most = most
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size >= 0, "read_whole must never ask for everything"
        self.asked.append(size)
        return super().read(min(size, self.most))


def test_the_default_limit_is_16_mib() -> None:
    assert MAX_WHOLE == 16 * MIB


@pytest.mark.parametrize("size", [0, 1, 9, 10])
def test_up_to_the_limit_the_bytes_come_back_whole(size: int) -> None:
    data = bytes(range(size))
    assert read_whole(io.BytesIO(data), "f.fit", "FIT", limit=10) == data
    assert read_whole(Trickle(data, 3), "f.fit", "FIT", limit=10) == data


def test_one_byte_over_the_limit_is_refused_in_whole_mib() -> None:
    data = b"x" * (3 * MIB + 1)
    with pytest.raises(InputError) as err:
        read_whole(io.BytesIO(data), "export.json", "Fitbit JSON", limit=3 * MIB)
    assert str(err.value) == "export.json: over 3 MB uncompressed: too big for a Fitbit JSON file"


def test_a_stream_that_gives_little_at_a_time_is_still_stopped_at_the_limit() -> None:
    stream = Trickle(b"x" * 100, 4)
    with pytest.raises(InputError):
        read_whole(stream, "f.fit", "FIT", limit=10)
    assert stream.tell() == 11  # the limit + 1 byte, in reads of at most 4, and not one more


def test_it_asks_for_1_mib_at_most_and_never_past_the_limit() -> None:
    stream = Trickle(b"x" * (2 * MIB + 5), 2 * MIB)
    assert len(read_whole(stream, "f.fit", "FIT", limit=3 * MIB)) == 2 * MIB + 5
    assert stream.asked == [MIB, MIB, MIB, MIB - 4]  # the third read gets 5 bytes, the fourth the end
    small = Trickle(b"x" * 8, 3)
    read_whole(small, "f.fit", "FIT", limit=10)
    assert small.asked == [11, 8, 5, 3]  # up to one byte past the limit: enough to tell it was passed


def test_points_outside_1980_to_2099_are_skipped_and_counted() -> None:
    c = Collector(None)
    for t in (315_532_799.0, 315_532_800.0, 4_102_444_799.0, 4_102_444_800.0, float("nan")):
        add(c, t, 70.0)
    assert list(c.ts) == [315_532_800.0, 4_102_444_799.0]  # 1980-01-01T00:00:00Z and 2099-12-31T23:59:59Z
    assert (c.rows, c.skipped) == (2, 3)


def test_points_in_order_equal_and_late() -> None:
    c = Collector("ann")
    for t, bpm in ((1e9, 60.0), (1e9 + 2, 62.0), (1e9 + 2, 99.0), (1e9 + 1, 61.0), (1e9 + 3, 63.0)):
        add(c, t, bpm)
    assert (list(c.ts), list(c.bpm)) == ([1e9, 1e9 + 2, 1e9 + 3], [60.0, 62.0, 63.0])
    assert (list(c.late_ts), list(c.late_bpm)) == ([1e9 + 1], [61.0])
    assert (c.rows, c.duplicates, c.last) == (5, 1, 1e9 + 3)
