"""The parser of client messages, message by message: the exact object for each valid one, the exact code and
message for each refusal (docs/api.md). Written out, so that scripts/mutation.sh finds no branch that could move."""

from __future__ import annotations

import pytest

from hrviz.core import protocol
from hrviz.core.model import Anomaly, Kind, Session
from hrviz.core.protocol import (
    Browse,
    Chunk,
    Control,
    Delete,
    Export,
    InsightsRequest,
    ProtocolError,
    Replay,
    SetSpeed,
    Upload,
)

MAX = 1000

VALID: list[tuple[str, protocol.Message]] = [
    ('{"type":"pause"}', Control(type="pause")),
    ('{"type":"resume"}', Control(type="resume")),
    ('{"type":"restart"}', Control(type="restart")),
    ('{"type":"sessions"}', Browse(offset=0, limit=20, query="", order="uploaded")),
    (
        '{"type":"sessions","offset":5,"limit":100,"q":"run","sort":"name"}',
        Browse(offset=5, limit=100, query="run", order="name"),
    ),
    ('{"type":"sessions","limit":1}', Browse(offset=0, limit=1, query="", order="uploaded")),
    (
        '{"type":"sessions","q":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}',
        Browse(
            offset=0,
            limit=20,
            query="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            order="uploaded",
        ),
    ),
    ('{"type":"delete","session_id":"ab_c.1:-"}', Delete(session_id="ab_c.1:-")),
    ('{"type":"insights","session_id":"abc"}', InsightsRequest(session_id="abc", html=False)),
    ('{"type":"insights","session_id":"abc","html":true}', InsightsRequest(session_id="abc", html=True)),
    ('{"type":"export","session_id":"abc"}', Export(session_id="abc")),
    ('{"type":"speed","speed":60}', SetSpeed(speed=60.0)),
    ('{"type":"speed","speed":1000000}', SetSpeed(speed=1000000.0)),
    ('{"type":"speed","speed":2.0}', SetSpeed(speed=2.0)),
    ('{"type":"upload","name":"C:\\\\runs\\\\a.csv","size":3}', Upload(name="a.csv", size=3, data=None)),
    ('{"type":"upload","name":"dir/","size":0}', Upload(name="upload.csv", size=0, data=None)),
    (
        '{"type":"upload","name":"runs/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn","size":1}',
        Upload(
            name="nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
            size=1,
            data=None,
        ),
    ),
    ('{"type":"upload","name":"a.csv","data":"aGk="}', Upload(name="a.csv", size=2, data=b"hi")),
    ('{"type":"upload","name":"a.csv","data":"hi","encoding":"text"}', Upload(name="a.csv", size=2, data=b"hi")),
    ('{"type":"upload","name":"a.csv","size":1000}', Upload(name="a.csv", size=1000, data=None)),
    ('{"type":"chunk","data":"aGk="}', Chunk(data=b"hi")),
    (
        '{"type":"replay","session_id":"abc","from_seq":7,"speed":10,"paused":true,"history_from":3}',
        Replay(session_id="abc", from_seq=7, speed=10.0, paused=True, history_from=3),
    ),
    (
        '{"type":"replay","session_id":"abc","from_seq":7,"history_from":9}',
        Replay(session_id="abc", from_seq=7, speed=None, paused=False, history_from=7),
    ),
    (
        '{"type":"resume_from","session_id":"abc","seq":-1}',
        Replay(session_id="abc", from_seq=0, speed=None, paused=False, history_from=None),
    ),
    (
        '{"type":"resume_from","session_id":"abc","seq":41,"history_from":0}',
        Replay(session_id="abc", from_seq=42, speed=None, paused=False, history_from=0),
    ),
]

REFUSED: list[tuple[str, str, str]] = [
    ('{"type":"sessions","offset":-1}', "bad_message", '"offset" must be a non-negative integer'),
    ('{"type":"sessions","offset":true}', "bad_message", '"offset" must be a non-negative integer'),
    ('{"type":"sessions","limit":0}', "bad_message", '"limit" must be an integer from 1 to 100'),
    ('{"type":"sessions","limit":101}', "bad_message", '"limit" must be an integer from 1 to 100'),
    ('{"type":"sessions","q":5}', "bad_message", '"q" must be a string of at most 200 characters'),
    (
        '{"type":"sessions","q":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}',
        "bad_message",
        '"q" must be a string of at most 200 characters',
    ),
    (
        '{"type":"sessions","sort":"size"}',
        "bad_message",
        "\"sort\" must be one of uploaded, start, name, readings, anomalies, not 'size'",
    ),
    ('{"type":"delete"}', "bad_message", '"delete" needs a "session_id" (letters, digits, "_.:-", at most 64)'),
    (
        '{"type":"delete","session_id":"a b"}',
        "bad_message",
        '"delete" needs a "session_id" (letters, digits, "_.:-", at most 64)',
    ),
    ('{"type":"insights","session_id":"abc","html":"yes"}', "bad_message", "\"html\" must be true or false, not 'yes'"),
    ('{"type":"export"}', "bad_message", '"export" needs a "session_id" (letters, digits, "_.:-", at most 64)'),
    (
        '{"type":"insights","session_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}',
        "bad_message",
        '"insights" needs a "session_id" (letters, digits, "_.:-", at most 64)',
    ),
    ('{"type":"speed","speed":3}', "bad_speed", "speed must be one of 1, 2, 5, 10, 60, 600, 1e+06, not 3"),
    ('{"type":"speed","speed":"2"}', "bad_speed", "speed must be one of 1, 2, 5, 10, 60, 600, 1e+06, not '2'"),
    ('{"type":"speed","speed":true}', "bad_speed", "speed must be one of 1, 2, 5, 10, 60, 600, 1e+06, not True"),
    ('{"type":"speed"}', "bad_speed", "speed must be one of 1, 2, 5, 10, 60, 600, 1e+06, not None"),
    (
        '{"type":"upload","name":"a.csv","size":5,"data":"aGk="}',
        "bad_message",
        '"size" says 5 bytes but "data" holds 2',
    ),
    ('{"type":"upload","name":"  ","size":3}', "bad_message", '"upload" needs the file "name"'),
    ('{"type":"upload","size":3}', "bad_message", '"upload" needs the file "name"'),
    ('{"type":"upload","name":"a.csv"}', "bad_message", '"upload" needs "size" in bytes'),
    ('{"type":"upload","name":"a.csv","size":-1}', "bad_message", '"upload" needs "size" in bytes'),
    (
        '{"type":"upload","name":"a.csv","size":1001}',
        "too_large",
        "the file is 0.0 MB, over this server's upload limit of 0.0 MB (start the server with a larger --max-upload-mb)",
    ),
    ('{"type":"chunk","data":"aGk"}', "bad_message", '"data" is not valid base64'),
    ('{"type":"chunk","data":5}', "bad_message", '"data" must be a string (base64, or text with "encoding": "text")'),
    (
        '{"type":"chunk","data":"x","encoding":"hex"}',
        "bad_message",
        '"encoding" must be "base64" or "text", not \'hex\'',
    ),
    ('{"type":"chunk"}', "bad_message", '"data" must be a string (base64, or text with "encoding": "text")'),
    (
        '{"type":"replay","session_id":"abc","from_seq":-1}',
        "bad_message",
        '"replay" needs "from_seq" as a non-negative integer',
    ),
    (
        '{"type":"replay","session_id":"abc","from_seq":1.5}',
        "bad_message",
        '"replay" needs "from_seq" as a non-negative integer',
    ),
    (
        '{"type":"replay","session_id":"abc","history_from":-1}',
        "bad_message",
        '"history_from" must be a non-negative integer',
    ),
    (
        '{"type":"replay","session_id":"abc","history_from":"0"}',
        "bad_message",
        '"history_from" must be a non-negative integer',
    ),
    ('{"type":"resume_from","session_id":"abc"}', "bad_message", '"resume_from" needs "seq" as an integer >= -1'),
    (
        '{"type":"resume_from","session_id":"abc","seq":-2}',
        "bad_message",
        '"resume_from" needs "seq" as an integer >= -1',
    ),
    ('{"type":"replay"}', "bad_message", '"replay" needs a "session_id" (letters, digits, "_.:-", at most 64)'),
    ('{"not":"typed"}', "bad_message", 'every message is a JSON object with a "type"'),
    ("[1]", "bad_message", 'every message is a JSON object with a "type"'),
    ('{"type":5}', "bad_message", 'every message is a JSON object with a "type"'),
    ('{"type":"fly"}', "unknown_type", "unknown message type 'fly'"),
    (
        '{"type":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}',
        "unknown_type",
        "unknown message type 'ffffffffffffffffffffffffffffffffffffff…",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_a_valid_message_parses_to_exactly_this(text: str, expected: protocol.Message) -> None:
    assert protocol.parse(text, MAX) == expected


@pytest.mark.parametrize(("text", "code", "message"), REFUSED)
def test_a_refused_message_says_exactly_why(text: str, code: str, message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.parse(text, MAX)
    assert (refused.value.code, refused.value.message) == (code, message)
    assert str(refused.value) == message


def test_binary_frames_and_broken_json_are_refused() -> None:
    with pytest.raises(ProtocolError) as binary:
        protocol.parse(b'{"type":"pause"}', MAX)
    assert (binary.value.code, binary.value.message) == ("bad_message", "send JSON text frames, not binary frames")
    with pytest.raises(ProtocolError) as broken:
        protocol.parse("{nope", MAX)
    assert broken.value.message.startswith("not valid JSON: Expecting property name")


def test_sizes_in_megabytes() -> None:
    assert protocol.mib(1536 * 1024) == "1.5 MB"
    assert protocol.mib(2**70 - 1) == "1125899906842624.0 MB"
    assert protocol.mib(2**70) == "more than 1e15 MB"
    with pytest.raises(ProtocolError) as big:
        protocol.check_size(3 * 2**20 + 1, 3 * 2**20)
    assert big.value.message == (
        "the file is 3.0 MB, over this server's upload limit of 3.0 MB (start the server with a larger --max-upload-mb)"
    )
    protocol.check_size(3 * 2**20, 3 * 2**20)  # exactly the limit is allowed


# -- what the server sends ---------------------------------------------------------------------------------

SESSION = Session(
    "abc", "/home/me/rides.zip/a.fit", None, "f", readings=10, start=0.0, end=9.0,
    anomalies=[Anomaly(Kind.SPIKE, 1.0, 2.0, 110.0, 70.0, 40.0)],
)  # fmt: skip


def test_a_listed_session_has_no_events_but_their_count_and_never_a_local_path() -> None:
    summary = protocol.session_summary(SESSION, 5.0)
    assert summary == {
        "id": "abc", "source": "rides.zip/a.fit", "subject": None, "rows": 0, "readings": 10, "filled": 0,
        "duplicates": 0, "start": "1970-01-01T00:00:00", "end": "1970-01-01T00:00:09", "existing": False,
        "warnings": [], "skipped_rows": 0, "skipped_lines": [], "ignored": {},
        "stats": {"min": None, "mean": None, "max": None}, "cadence": None, "uploaded_at": 5.0, "anomaly_count": 1,
    }  # fmt: skip
    counted = protocol.session_summary(SESSION, None, 7)  # the store's count wins when it has one
    assert (counted["uploaded_at"], counted["anomaly_count"]) == (None, 7)
    assert SESSION.anomalies  # the session itself keeps its events


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("C:\\data\\run.csv", "run.csv"),
        ("/a/b/rides.zip/a.fit", "rides.zip/a.fit"),
        ("/a/x.ZIP/b.zip/c.fit", "b.zip/c.fit"),  # the innermost archive
        ("/a/R.ZIP/c.fit", "R.ZIP/c.fit"),
        ("dir/", "dir/"),
        ("plain.csv", "plain.csv"),
    ],
)
def test_display_source(source: str, shown: str) -> None:
    assert protocol.display_source(source) == shown


def test_error_and_anomaly_messages_as_sent() -> None:
    assert protocol.error("bad_file", "x.csv: empty", file="x.csv") == (
        '{"type":"error","code":"bad_file","message":"x.csv: empty","file":"x.csv"}'
    )
    assert protocol.anomaly(Anomaly(Kind.SPIKE, 1.0, 2.0, 110.0, 70.0, 40.0), 60, 3) == (
        '{"type":"anomaly","seq":3,"t_start":1.0,"t_end":2.0,"kind":"spike","start":"1970-01-01T01:00:01+01:00",'
        '"end":"1970-01-01T01:00:02+01:00","bpm":110.0,"baseline":70.0,"delta":40.0,"severity":0.57,'
        '"sentence":"Rose 40 bpm from a 70 bpm baseline to 110 bpm for 1 s, then came back"}'
    )


def test_an_anomaly_read_back_keeps_missing_values_missing() -> None:
    msg = {"kind": "gap", "t_start": 1, "t_end": 5.5, "bpm": None, "baseline": 2}
    assert protocol.anomaly_from(msg) == Anomaly(Kind.GAP, 1.0, 5.5, None, 2.0, None)
    with pytest.raises(ProtocolError) as bad:
        protocol.anomaly_from({"kind": "blip", "t_start": 1, "t_end": 2})
    assert (bad.value.code, bad.value.message) == ("bad_message", "unknown anomaly kind 'blip'")
    with pytest.raises(ProtocolError) as nan:
        protocol.anomaly_from({"kind": "gap", "t_start": float("nan"), "t_end": 2})
    assert nan.value.message == '"t_start" must be a finite number, not nan'
