"""Apple Health ``export.xml`` record by record: Apple's date format and its zone, which values are
readings, the subjects, the --since/--until window, the exact message for what cannot be read, and
nested lists dropped once read (constant memory)."""

from __future__ import annotations

import io
import math
import tracemalloc

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.reader.apple import read_apple

T0 = 1_711_868_405  # 2024-03-31T07:00:05Z
HR = "HKQuantityTypeIdentifierHeartRate"


def record(
    start: str | None = "2024-03-31 07:00:05 +0000", value: str | None = "60", source: str | None = "Watch"
) -> str:
    attrs = [f'type="{HR}"']
    attrs += [f'sourceName="{source}"'] if source is not None else []
    attrs += [f'startDate="{start}"'] if start is not None else []
    attrs += [f'value="{value}"'] if value is not None else []
    return f"<Record {' '.join(attrs)}/>"


def export(*records: str) -> bytes:
    return ('<?xml version="1.0"?>\n<HealthData locale="en_US">\n' + "\n".join(records) + "\n</HealthData>").encode()


def read(data: bytes, window: tuple[float | None, float | None] = (None, None)):
    return read_apple(io.BytesIO(data), "export.xml", window)


def refusal(data: bytes, window: tuple[float | None, float | None] = (None, None)) -> str:
    with pytest.raises(InputError) as err:
        read(data, window)
    return str(err.value)


@pytest.mark.parametrize(
    ("start", "ts", "offset_min"),
    [
        ("2024-03-31 09:00:05 +0200", T0, 120),
        ("2024-03-31 12:30:05 +0530", T0, 330),
        ("2024-03-30 20:30:05 -1030", T0, -630),
        ("2024-03-31 07:00:05", T0, 0),  # no zone: UTC
        ("2024-03-31 09:00:05+0200", T0, 120),  # the zone without its space
        ("2024-03-31 09:59:59 +0200", T0 + 3594, 120),
    ],
)
def test_apples_date_is_local_time_and_its_zone(start: str, ts: float, offset_min: int) -> None:
    (series,) = read(export(record(start)))
    assert list(series.ts) == [ts]
    assert series.tz_offset_min == offset_min


def test_records_of_one_hour_in_different_zones_are_each_read_in_their_own() -> None:
    # the hour is parsed once and reused: the zone is part of what is reused
    (series,) = read(export(record("2024-03-31 09:00:05 +0200"), record("2024-03-31 09:00:06 +0100")))
    assert list(series.ts) == [T0, T0 + 3601]


def test_a_value_that_is_not_a_positive_finite_bpm_is_a_missing_reading() -> None:
    values = ["0", "1", "-3", "1e999", "61.5"]
    starts = [f"2024-03-31 07:00:0{i} +0000" for i in range(5)]
    (series,) = read(export(*[record(s, v) for s, v in zip(starts, values, strict=True)]))
    assert list(series.ts) == [T0 - 5, T0 - 4, T0 - 3, T0 - 2, T0 - 1]
    bpm = list(series.bpm)
    assert [math.isnan(v) for v in bpm] == [True, False, True, True, False]
    assert (bpm[1], bpm[4]) == (1.0, 61.5)


def test_each_device_is_a_subject_and_a_record_without_one_is_apple_healths() -> None:
    strap, watch, unnamed = read(
        export(record(source="Polar H10"), record(source="Watch"), record(source=None), record(source=""))
    )
    assert (strap.subject, watch.subject, unnamed.subject) == ("Polar H10", "Watch", "Apple Health")
    assert len(unnamed) == 1 and unnamed.duplicates == 1  # no name and an empty name are the same subject


def test_the_window_keeps_since_and_drops_until() -> None:
    records = [record(f"2024-03-31 07:00:0{i} +0000") for i in range(4)]
    (series,) = read(export(*records), (T0 - 4, T0 - 2))
    assert list(series.ts) == [T0 - 4, T0 - 3]
    assert refusal(export(*records), (T0, None)) == (
        "export.xml: none of its 4 heart-rate records is in the --since/--until window"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (export(record(start=None)), "unreadable heart-rate record: startDate='' value='60'"),
        (
            export(record(value=None)),
            "unreadable heart-rate record: startDate='2024-03-31 07:00:05 +0000' value=None",
        ),
        (
            export(record(value="sixty")),
            "unreadable heart-rate record: startDate='2024-03-31 07:00:05 +0000' value='sixty'",
        ),
        (
            export('<Record type="HKQuantityTypeIdentifierStepCount" value="5"/>'),
            f"no heart rate in this Apple Health export (no {HR} record)",
        ),
    ],
    ids=["no-date", "no-value", "bad-value", "no-heart-rate"],
)
def test_an_unreadable_record_or_none_at_all_is_refused(data: bytes, message: str) -> None:
    assert refusal(data) == f"export.xml: {message}"


def test_broken_xml_is_refused_naming_its_line() -> None:
    data = b'<?xml version="1.0"?>\n<HealthData>\n<Record type="x">\n</HealthData>\n'
    assert refusal(data) == "export.xml, line 4: malformed Apple Health XML: mismatched tag: line 4, column 2"


def test_more_devices_than_the_subject_limit_is_refused_at_the_first_one_over() -> None:
    data = export(*[record(source=f"d{i}") for i in range(10_001)])
    assert refusal(data) == "export.xml: more than 10,000 subjects: each would be a session of its own"


def test_a_records_nested_list_of_beats_is_dropped_as_it_is_read() -> None:
    beats = '<InstantaneousBeatsPerMinute bpm="61" time="7:00:05.00 AM"/>' * 3_000
    hrv = (
        '<Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" value="40">'
        f"<HeartRateVariabilityMetadataList>{beats}</HeartRateVariabilityMetadataList></Record>"
    )
    data = export(record(), hrv)
    tracemalloc.start()
    try:
        (series,) = read_series(io.BytesIO(data), "export.xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert list(series.bpm) == [60.0]
    assert peak < 600_000, f"{peak:,} bytes at peak for {len(data):,} bytes of XML"
