"""FIT files built byte by byte: which records are readings, the device's UTC offset, and what the user
is told for each kind of damage the decoder reports (refused, or kept with a warning).

A FIT file is a 14-byte header (size, protocol, profile, data size, ``.FIT``, header CRC), definition
messages (``0x40 | local``, global message number, fields as (number, size, base type)), data
messages (``local`` then the field values) and a 2-byte CRC of everything before it.
"""

from __future__ import annotations

import io
import struct

import pytest
from garmin_fit_sdk.crc_calculator import CrcCalculator

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.reader.fit import FIT_EPOCH, _judge

T0 = 1_704_103_200  # 2024-01-01T10:00:00Z
UINT32, UINT8, ENUM = 0x86, 0x02, 0x00
FILE_ID, RECORD, ACTIVITY = 0, 20, 34


def define(local: int, message: int, fields: list[tuple[int, int, int]]) -> bytes:
    out = bytes([0x40 | local, 0, 0]) + struct.pack("<HB", message, len(fields))
    return out + b"".join(bytes(field) for field in fields)


def records(*bpm: int) -> bytes:
    """Local message 0 = record (timestamp, heart_rate), one a second from T0."""
    body = define(0, RECORD, [(253, 4, UINT32), (3, 1, UINT8)])
    return body + b"".join(bytes([0]) + struct.pack("<IB", T0 - FIT_EPOCH + i, b) for i, b in enumerate(bpm))


def activity(local_minus_utc: int) -> bytes:
    """Local message 1 = activity (timestamp, local_timestamp)."""
    utc = 1_000_000
    return (
        define(1, ACTIVITY, [(253, 4, UINT32), (5, 4, UINT32)])
        + bytes([1])
        + struct.pack("<II", utc, utc + local_minus_utc)
    )


def file_id(kind: int) -> bytes:
    return define(2, FILE_ID, [(0, 1, ENUM)]) + bytes([2, kind])


def fit(body: bytes, *, good_crc: bool = True) -> bytes:
    header = bytes([14, 0x20]) + struct.pack("<HI", 2132, len(body)) + b".FIT" + b"\0\0"
    crc = CrcCalculator()
    crc.add_bytes(header + body, 0, len(header + body))
    return header + body + struct.pack("<H", crc.get_crc() ^ (0 if good_crc else 1))


def read(data: bytes):
    (series,) = read_series(io.BytesIO(data), "ride.fit")
    return series


def refusal(data: bytes) -> str:
    with pytest.raises(InputError) as err:
        read_series(io.BytesIO(data), "ride.fit")
    return str(err.value)


def test_a_record_is_a_reading_when_its_heart_rate_is_positive() -> None:
    # 0 is the strap's "no contact"; 255 is FIT's "invalid" for a uint8 (decoded as absent); 1 is a value
    series = read(fit(records(60, 0, 1, 255, 61)))
    assert list(series.ts) == [T0, T0 + 2, T0 + 4]
    assert list(series.bpm) == [60.0, 1.0, 61.0]
    assert series.warnings == [] and series.rows == 3


@pytest.mark.parametrize(
    ("local_minus_utc", "offset_min"),
    [
        (-7 * 3600, -420),  # PDT
        (5 * 3600 + 30 * 60 + 20, 330),  # rounded to the quarter hour: India
        (14 * 3600, 840),  # Kiribati, the largest offset there is
        (14 * 3600 + 15 * 60, 0),  # beyond any zone: not an offset, UTC
        (-14 * 3600 - 15 * 60, 0),
    ],
)
def test_the_utc_offset_is_the_activitys_local_minus_utc_time(local_minus_utc: int, offset_min: int) -> None:
    assert read(fit(records(60) + activity(local_minus_utc))).tz_offset_min == offset_min


def test_without_an_activity_message_the_times_are_utc() -> None:
    assert read(fit(records(60))).tz_offset_min == 0


def test_a_checksum_mismatch_keeps_every_reading_with_a_warning() -> None:
    series = read(fit(records(60, 61), good_crc=False))
    assert list(series.bpm) == [60.0, 61.0]
    assert series.warnings == [
        "the file's checksum does not match (it may be damaged): the 2 heart-rate readings decoded before that were kept"
    ]


def test_a_file_cut_short_keeps_the_readings_before_the_cut_with_a_warning() -> None:
    whole = fit(records(60, 61, 62))  # 14 header + 12 definition + 3 x 6 records + 2 CRC = 46 bytes
    series = read(whole[:40])
    assert list(series.bpm) == [60.0, 61.0]
    assert series.warnings == [
        "the file ends early (40 of the 46 bytes its header announces): "
        "the 2 heart-rate readings decoded before that were kept"
    ]


def test_a_file_cut_before_any_reading_says_both_what_is_missing_and_why() -> None:
    assert refusal(fit(records(60))[:30]) == (
        "ride.fit: no heart rate in this FIT file (it has no record messages); "
        "the file ends early (30 of the 34 bytes its header announces)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            fit(records(60) + bytes([5, 1, 2, 3])),  # a data message of a local number never defined
            "malformed FIT message definitions at byte 33: the file cannot be decoded past them",
        ),
        (
            fit(records(60) + define(1, RECORD, [(3, 1, 0x1F)])),  # base type 0x1F does not exist
            "malformed FIT message definitions at byte 41: the file cannot be decoded past them",
        ),
        (
            fit(records(60) + bytes([0x80 | 3])),  # a compressed-timestamp record header
            "FIT compressed-timestamp records at byte 32 are not supported by the decoder",
        ),
        (
            bytes([13]) + fit(records(60))[1:],  # a header size that is neither 12 nor 14
            "corrupt FIT file header",
        ),
        (
            # a data message whose field runs into the CRC: the decoder's error names no byte
            fit(records(60) + define(1, RECORD, [(3, 1, UINT8)]) + bytes([1])),
            "undecodable FIT file: FIT Runtime Error number of bytes provided is longer than the number of bytes remaining",
        ),
    ],
    ids=["undefined-local-message", "unknown-base-type", "compressed-timestamp", "bad-header-size", "field-past-end"],
)
def test_damage_that_stops_the_decoder_is_refused_naming_it(data: bytes, message: str) -> None:
    assert refusal(data) == f"ride.fit: {message}"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (file_id(4), "it has no record messages"),  # an activity file that recorded nothing
        (file_id(2), "a settings file, not an activity"),
        (file_id(4) + records(0, 0), "its records carry no heart_rate"),
    ],
)
def test_a_file_without_heart_rate_says_what_kind_of_file_it_is(body: bytes, why: str) -> None:
    assert refusal(fit(body)) == f"ride.fit: no heart rate in this FIT file ({why})"


def test_an_error_without_any_text_is_named_by_its_type() -> None:
    whole = fit(records(60))
    with pytest.raises(InputError) as err:
        _judge(RuntimeError(), "ride.fit", whole)
    assert str(err.value) == "ride.fit: undecodable FIT file: RuntimeError"


def test_a_fit_over_16_mb_is_refused_before_decoding() -> None:
    data = fit(records(60))[:14] + bytes(16 * 2**20)
    assert refusal(data) == "ride.fit: over 16 MB uncompressed: too big for a FIT file"
