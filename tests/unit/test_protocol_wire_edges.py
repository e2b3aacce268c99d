"""The wire codec at its edges: the largest sequence number accepted, the exact codes and messages a client or a
viewer reads back, the bytes ``dumps`` puts on the wire, and the defaults of a ``reading`` message."""

from __future__ import annotations

import math

import pytest

from hrviz.core import protocol
from hrviz.core.model import Anomaly, Kind, Reading, Session
from hrviz.core.protocol import Browse, Chunk, ProtocolError, Replay

MAX = 1000
MAX_SEQ = 4611686018427387904  # 2**62, written out
OVER = 4611686018427387905


# -- MAX_SEQ is the largest number accepted, everywhere a sequence number or offset is read --


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'{{"type":"sessions","offset":{MAX_SEQ}}}', Browse(offset=MAX_SEQ)),
        (f'{{"type":"replay","session_id":"abc","from_seq":{MAX_SEQ}}}', Replay("abc", MAX_SEQ)),
        (f'{{"type":"resume_from","session_id":"abc","seq":{MAX_SEQ - 1}}}', Replay("abc", MAX_SEQ)),
        (
            f'{{"type":"replay","session_id":"abc","from_seq":5,"history_from":{MAX_SEQ}}}',
            Replay("abc", 5, history_from=5),
        ),
    ],
)
def test_max_seq_itself_is_accepted(text: str, expected: protocol.Message) -> None:
    assert protocol.parse(text, MAX) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'{{"type":"sessions","offset":{OVER}}}', '"offset" must be a non-negative integer'),
        (
            f'{{"type":"replay","session_id":"abc","from_seq":{OVER}}}',
            '"replay" needs "from_seq" as a non-negative integer',
        ),
        (f'{{"type":"resume_from","session_id":"abc","seq":{OVER}}}', '"resume_from" needs "seq" as an integer >= -1'),
        (
            f'{{"type":"replay","session_id":"abc","history_from":{OVER}}}',
            '"history_from" must be a non-negative integer',
        ),
    ],
)
def test_one_past_max_seq_is_refused(text: str, message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.parse(text, MAX)
    assert (refused.value.code, refused.value.message) == ("bad_message", message)


# -- the exact code and message of each refusal a person may read --


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type":"upload","name":"\\ud800.csv","size":3}', '"name" is not valid Unicode (a lone surrogate escape)'),
        (
            '{"type":"chunk","data":"\\udfff","encoding":"text"}',
            '"data" is not valid Unicode (a lone surrogate escape)',
        ),
        ('{"type":"replay","session_id":"abc","paused":"false"}', "\"paused\" must be true or false, not 'false'"),
        ('{"type":"chunk","data":"aGk=*"}', '"data" is not valid base64'),  # a stray character is not skipped
        ('{"type":"chunk","data":"aG k="}', '"data" is not valid base64'),
        ("[" * 100_000, "not valid JSON: nested too deeply"),
    ],
)
def test_a_refusal_says_exactly_this(text: str, message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.parse(text, MAX)
    assert (refused.value.code, refused.value.message) == ("bad_message", message)


def test_broken_json_is_a_bad_message() -> None:
    with pytest.raises(ProtocolError) as broken:
        protocol.parse('{"type":', MAX)
    assert broken.value.code == "bad_message"
    assert broken.value.message == "not valid JSON: Expecting value: line 1 column 9 (char 8)"


def test_valid_base64_and_text_chunks() -> None:
    assert protocol.parse('{"type":"chunk","data":"aGk="}', MAX) == Chunk(b"hi")
    assert protocol.parse('{"type":"chunk","data":"Zo\\u00eb","encoding":"text"}', MAX) == Chunk(b"Zo\xc3\xab")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("x" * 38, "unknown message type '" + "x" * 38 + "'"),  # 40 characters with its quotes: shown whole
        ("x" * 39, "unknown message type '" + "x" * 38 + "…"),  # 41: cut to 39 and an ellipsis
    ],
)
def test_an_unknown_type_is_shown_in_at_most_40_characters(kind: str, message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.parse('{"type":"' + kind + '"}', MAX)
    assert (refused.value.code, refused.value.message) == ("unknown_type", message)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("C:\\runs\\2024\\a.csv", "a.csv"),
        ("/home/me/runs/2024/b.csv", "b.csv"),
        ("../../etc/passwd", "passwd"),
        ("dir/", "upload.csv"),
    ],
)
def test_an_uploads_name_is_the_last_part_of_any_path(source: str, name: str) -> None:
    text = '{"type":"upload","name":"' + source.replace("\\", "\\\\") + '","size":0}'
    upload = protocol.parse(text, MAX)
    assert isinstance(upload, protocol.Upload) and upload.name == name


# -- what a viewer reads back (decode, reading_from, anomaly_from) --


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[1, 2]", 'every message is a JSON object with a "type"'),
        ('{"seq": 1}', 'every message is a JSON object with a "type"'),
        ('{"type": 3}', 'every message is a JSON object with a "type"'),
    ],
)
def test_decode_refuses_with_a_bad_message_saying_why(raw: str, message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.decode(raw)
    assert (refused.value.code, refused.value.message) == ("bad_message", message)


def test_a_reading_message_without_filled_or_kinds_is_a_plain_reading() -> None:
    assert protocol.reading_from({"type": "reading", "seq": 3, "t": 10, "bpm": 61}) == Reading(3, 10.0, 61.0)
    plain = protocol.reading_from({"type": "reading", "seq": 3, "t": 10, "bpm": 61})
    assert (plain.filled, plain.kinds) == (False, ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seq": -1}, '"reading" needs "seq" as a non-negative integer, not -1'),
        ({"filled": "no"}, '"reading" needs "filled" true/false and "kinds" a list of names'),
        ({"kinds": [1]}, '"reading" needs "filled" true/false and "kinds" a list of names'),
        ({"t": None}, '"t" must be a finite number, not None'),
        ({"bpm": "80"}, "\"bpm\" must be a finite number, not '80'"),
        ({"bpm": math.inf}, '"bpm" must be a finite number, not inf'),
    ],
)
def test_a_bad_reading_message_names_its_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.reading_from({"type": "reading", "seq": 3, "t": 10, "bpm": 61} | change)
    assert (refused.value.code, refused.value.message) == ("bad_message", message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"t_end": None}, '"t_end" must be a finite number, not None'),
        ({"bpm": "high"}, "\"bpm\" must be a finite number, not 'high'"),
        ({"baseline": math.nan}, '"baseline" must be a finite number, not nan'),
        ({"delta": True}, '"delta" must be a finite number, not True'),
    ],
)
def test_a_bad_anomaly_message_names_its_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.anomaly_from({"kind": "spike", "t_start": 1, "t_end": 2, "bpm": 110} | change)
    assert (refused.value.code, refused.value.message) == ("bad_message", message)


# -- what the server puts on the wire --


def test_a_reading_as_sent() -> None:
    sent = protocol.reading(Reading(7, 1_773_469_807.25, 92.5, True, ("missing",)), 60, after_gap=True)
    assert sent == (
        '{"type":"reading","seq":7,"ts":"2026-03-14T07:30:07.250+01:00","t":1773469807.25,"bpm":92.5,'
        '"filled":true,"kinds":["missing"],"after_gap":true}'
    )


def test_dumps_is_compact_utf8_and_refuses_nan() -> None:
    assert protocol.dumps({"name": "Zoë ♥", "n": [1, 2.5]}) == '{"name":"Zoë ♥","n":[1,2.5]}'
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        protocol.dumps({"bpm": math.nan})
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        protocol.dumps({"bpm": math.inf})


def test_display_source_finds_the_archive_at_either_end_of_the_path() -> None:
    assert protocol.display_source("rides.zip/a.fit") == "rides.zip/a.fit"  # the archive is the first part
    assert protocol.display_source("/home/me/export.zip/activities/a.fit") == "export.zip/activities/a.fit"
    assert protocol.display_source("/home/me/export.zip/apple_health_export/b/c.xml") == (
        "export.zip/apple_health_export/b/c.xml"
    )


def _session(events: int) -> Session:
    anomalies = [Anomaly(Kind.GAP, float(i), float(i) + 90) for i in range(events)]
    return Session("abc", "/home/me/runs/a.csv", None, "f", readings=10, start=0.0, end=9.0, anomalies=anomalies)


def test_a_brief_is_truncated_only_past_its_limit_and_shows_no_local_path() -> None:
    exactly = protocol.session_brief(_session(3), events=3)
    assert (exactly["source"], exactly["anomaly_count"], "anomalies_truncated" in exactly) == ("a.csv", 3, False)
    assert len(exactly["anomalies"]) == 3  # type: ignore[arg-type]
    over = protocol.session_brief(_session(4), events=3)
    assert (over["source"], over["anomaly_count"], over["anomalies_truncated"]) == ("a.csv", 4, True)
    assert len(over["anomalies"]) == 3  # type: ignore[arg-type]
