"""Google Takeout's Fitbit heart-rate JSON, entry by entry: the times (UTC whatever the machine's
zone), which values are readings, and the exact message for each kind of file that is not one."""

from __future__ import annotations

import io
import json
import math

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.reader.takeout import read_takeout

T0 = 1_711_868_400  # 2024-03-31T07:00:00Z


def entries(*pairs: tuple[str, object]) -> bytes:
    return json.dumps([{"dateTime": when, "value": {"bpm": bpm, "confidence": 2}} for when, bpm in pairs]).encode()


def read(data: bytes):
    (series,) = read_series(io.BytesIO(data), "heart_rate-2024-03-31.json")
    return series


def refusal(data: bytes) -> str:
    with pytest.raises(InputError) as err:
        read_takeout(io.BytesIO(data), "day.json")
    return str(err.value)


@pytest.mark.usefixtures("new_york_machine")
def test_times_are_month_first_utc_whatever_the_machines_zone() -> None:
    series = read(entries(("03/31/24 07:00:05", 62), ("03/31/24 07:01:10", 63), ("03/31/24 08:00:00", 64)))
    assert list(series.ts) == [T0 + 5, T0 + 70, T0 + 3600]
    assert list(series.bpm) == [62.0, 63.0, 64.0]
    assert series.tz_offset_min == 0


def test_anything_after_the_seconds_is_ignored() -> None:
    # Fitbit writes whole seconds; a fraction (or a trailing zone) does not move the reading
    series = read(entries(("03/31/24 07:00:05.750", 62), ("03/31/24 07:00:06Z", 63)))
    assert list(series.ts) == [T0 + 5, T0 + 6]


def test_a_value_that_is_not_a_positive_finite_bpm_is_a_missing_reading() -> None:
    data = entries(
        ("03/31/24 07:00:00", 0), ("03/31/24 07:00:01", 1), ("03/31/24 07:00:02", -5), ("03/31/24 07:00:03", 0.5)
    )
    data = data[:-1] + b', {"dateTime": "03/31/24 07:00:04", "value": {"bpm": 1e999}}]'  # JSON's way to infinity
    series = read(data)
    assert list(series.ts) == [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4]
    bpm = list(series.bpm)
    assert [math.isnan(v) for v in bpm] == [True, False, True, False, True]
    assert bpm[1] == 1.0 and bpm[3] == 0.5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"dateTime": ', "malformed JSON: Expecting value: line 1 column 15 (char 14)"),
        (b"[\xff]", "malformed JSON: 'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON: nested too deeply for a Fitbit heart-rate file"),
        (
            b'{"dateTime": "03/31/24 07:00:05"}',
            "not a Fitbit heart-rate JSON file (expected a list of dateTime/value entries)",
        ),
        (b"[]", "no heart rate in this Fitbit JSON file (an empty list)"),
    ],
    ids=["cut", "not-utf8", "too-deep", "not-a-list", "empty"],
)
def test_a_file_that_is_not_a_list_of_readings_is_refused_saying_why(data: bytes, message: str) -> None:
    assert refusal(data) == f"day.json: {message}"


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ({"dateTime": "03/31/24 07:00:05"}, '{"dateTime": "03/31/24 07:00:05"}'),  # no value
        (
            {"dateTime": "2024-03-31 07:00:05", "value": {"bpm": 60}},
            '{"dateTime": "2024-03-31 07:00:05", "value": {"bpm": 60}}',
        ),
        ({"dateTime": "03/31/24 07:00", "value": {"bpm": 60}}, '{"dateTime": "03/31/24 07:00", "value": {"bpm": 60}}'),
        (
            # shown cut at 80 characters
            {"dateTime": "03/31/24 07:00:05", "value": {"bpm": "sixty", "confidence": 2, "note": "from the strap"}},
            '{"dateTime": "03/31/24 07:00:05", "value": {"bpm": "sixty", "confidence": 2, "no',
        ),
    ],
    ids=["no-value", "iso-date", "no-seconds", "long-entry"],
)
def test_an_entry_that_is_not_a_reading_refuses_the_file_naming_it(entry: dict[str, object], shown: str) -> None:
    good = {"dateTime": "03/31/24 07:00:00", "value": {"bpm": 60}}
    assert (
        refusal(json.dumps([good, entry]).encode()) == f"day.json: entry 2 is not a Fitbit heart-rate reading: {shown}"
    )


def test_a_file_over_16_mb_is_refused_before_parsing() -> None:
    data = entries(("03/31/24 07:00:05", 62))[:-1] + b" " * (16 * 2**20) + b"]"
    assert refusal(data) == "day.json: over 16 MB uncompressed: too big for a Fitbit JSON file"
