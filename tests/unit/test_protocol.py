"""The API's parser refuses hostile messages with ``bad_message``, never with an exception of its own."""

from __future__ import annotations

import json

import pytest

from hrviz.core import protocol
from hrviz.core.model import Anomaly, Kind, Session
from hrviz.core.protocol import ProtocolError, Replay

MAX = 50 * 2**20
HUGE = "1" + "0" * 400  # an integer no float can hold


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type":"speed","speed":' + HUGE + "}", "bad_speed"),
        ('{"type":"speed","speed":-' + HUGE + "}", "bad_speed"),
        ('{"type":"upload","name":"a.csv","size":' + HUGE + "}", "too_large"),
        ('{"type":"replay","session_id":"\\ud800"}', "bad_message"),
        ('{"type":"resume_from","session_id":"abc","seq":' + HUGE + "}", "bad_message"),
        ('{"type":"upload","name":"\\ud800.csv","size":3}', "bad_message"),
        ('{"type":"upload","name":"a.csv","data":"\\udfff","encoding":"text"}', "bad_message"),
        ("[" * 100_000 + "]" * 100_000, "bad_message"),
        ('{"type":"x","a":' + "[" * 50_000 + "]" * 50_000 + "}", "bad_message"),
        ('{"type":"replay","session_id":"abc","paused":"false"}', "bad_message"),
        ('{"type":"replay","session_id":"abc","paused":0}', "bad_message"),
        ('{"type":"\\ud800"}', "unknown_type"),
    ],
)
def test_hostile_messages_are_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse(text, MAX)
    assert caught.value.code == code
    assert len(caught.value.message) < 300
    caught.value.message.encode("utf-8")  # can be sent back: no lone surrogate in the reply


def test_paused_is_a_boolean_and_may_be_left_out() -> None:
    assert protocol.parse('{"type":"replay","session_id":"abc","paused":false}', MAX) == Replay("abc", 0, None, False)
    assert protocol.parse('{"type":"replay","session_id":"abc","paused":true}', MAX) == Replay("abc", 0, None, True)
    assert protocol.parse('{"type":"replay","session_id":"abc","paused":null}', MAX) == Replay("abc", 0, None, False)
    assert protocol.parse('{"type":"replay","session_id":"abc"}', MAX) == Replay("abc", 0, None, False)


def test_a_session_sent_with_replay_lists_a_bounded_number_of_events() -> None:
    events = [Anomaly(Kind.SPIKE, float(i), float(i) + 1, 180.0, 60.0, 120.0) for i in range(5000)]
    session = Session("abc", "a.csv", None, "f", readings=10_000, start=0.0, end=9999.0, anomalies=events)
    brief = protocol.session_brief(session)
    assert brief["anomaly_count"] == 5000 and brief["anomalies_truncated"] is True
    assert len(brief["anomalies"]) == protocol.LISTED_EVENTS  # type: ignore[arg-type]
    assert len(protocol.dumps(brief)) < 20_000
    assert session.anomalies is events and len(events) == 5000  # the session itself is untouched
    small = protocol.session_brief(Session("abc", "a.csv", None, "f", anomalies=events[:3]))
    assert small["anomaly_count"] == 3 and "anomalies_truncated" not in small
    assert json.loads(protocol.dumps(small))["anomalies"] == session.as_dict()["anomalies"][:3]  # type: ignore[index]


def test_insights_and_export_requests() -> None:
    from hrviz.core.protocol import Export, InsightsRequest, ProtocolError

    assert protocol.parse('{"type":"insights","session_id":"abc"}', MAX) == InsightsRequest("abc", False)
    assert protocol.parse('{"type":"insights","session_id":"abc","html":true}', MAX) == InsightsRequest("abc", True)
    assert protocol.parse('{"type":"export","session_id":"abc"}', MAX) == Export("abc")
    for bad in (
        '{"type":"insights"}',
        '{"type":"export","session_id":"a b"}',
        '{"type":"insights","session_id":"a","html":"yes"}',
    ):
        with pytest.raises(ProtocolError) as err:
            protocol.parse(bad, MAX)
        assert err.value.code == "bad_message"


def test_trends_request() -> None:
    from hrviz.core.protocol import TrendsRequest

    assert protocol.parse('{"type":"trends"}', MAX) == TrendsRequest()
