"""The WebSocket API's codec both ways: what the server encodes, a client decodes to the same values."""

from __future__ import annotations

import json

import pytest

from hrviz.core import protocol
from hrviz.core.model import Anomaly, Kind, Reading
from hrviz.core.protocol import ProtocolError
from hrviz.core.replay import WIRE_SPEEDS

READINGS = [
    Reading(0, 1_773_469_800.0, 61.0),
    Reading(7, 1_773_469_807.25, 92.5, True, ("missing",)),
    Reading(2**40, 0.0, 255.0, False, ("out_of_range", "flatline")),
]
ANOMALIES = [
    Anomaly(Kind.SPIKE, 1_773_469_802.0, 1_773_469_804.0, 140.0, 70.0, 70.0),
    Anomaly(Kind.GAP, 1_773_469_810.0, 1_773_469_900.5),
]


@pytest.mark.parametrize("tz", [None, 0, 60, -330])
def test_a_reading_survives_the_round_trip(tz: int | None) -> None:
    for r in READINGS:
        assert protocol.reading_from(protocol.decode(protocol.reading(r, tz, after_gap=True))) == r


def test_an_anomaly_survives_the_round_trip() -> None:
    for a in ANOMALIES:
        assert protocol.anomaly_from(protocol.decode(protocol.anomaly(a, 60, seq=3))) == a


def test_unknown_fields_are_ignored() -> None:
    msg = protocol.decode(protocol.reading(READINGS[1], None, False)) | {"heart_zone": 3, "future": {"x": 1}}
    assert protocol.reading_from(msg) == READINGS[1]
    event = protocol.decode(protocol.anomaly(ANOMALIES[0], None, 0)) | {"confidence": 0.9}
    assert protocol.anomaly_from(event) == ANOMALIES[0]


@pytest.mark.parametrize(
    "change",
    [
        {"seq": -1},
        {"seq": "3"},
        {"seq": True},
        {"bpm": "80"},
        {"bpm": float("nan")},
        {"t": None},
        {"filled": "false"},
        {"kinds": "spike"},
        {"kinds": [1]},
    ],
)
def test_a_reading_with_a_bad_value_is_refused_by_name(change: dict[str, object]) -> None:
    msg = protocol.decode(protocol.reading(READINGS[0], None, False)) | change
    with pytest.raises(ProtocolError) as err:
        protocol.reading_from(msg)
    assert err.value.code == "bad_message" and next(iter(change)) in err.value.message


@pytest.mark.parametrize("change", [{"kind": "wobble"}, {"t_start": "x"}, {"bpm": "high"}, {"t_end": None}])
def test_an_anomaly_with_a_bad_value_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        protocol.anomaly_from(protocol.decode(protocol.anomaly(ANOMALIES[0], None, 0)) | change)


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"seq": 1}', '{"type": 3}', "[" * 100_000])
def test_decode_wants_a_json_object_with_a_type(raw: str) -> None:
    with pytest.raises(ProtocolError):
        protocol.decode(raw)


def test_hello_tells_clients_the_limits_they_must_not_hard_code() -> None:
    hello = json.loads(protocol.dumps(protocol.hello(1234)))
    assert hello == {
        "type": "hello",
        "api": protocol.API_VERSION,
        "max_upload_bytes": 1234,
        "chunk_bytes": protocol.CHUNK_BYTES,
        "speeds": list(WIRE_SPEEDS),
    }
