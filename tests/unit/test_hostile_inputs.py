"""Hostile and unlucky inputs to the readers: bombs, entity tricks and random bytes behind each
format's magic bytes give an InputError (exit 2) or a clean result, never a crash, a hang or
gigabytes of memory."""

from __future__ import annotations

import gzip
import io
import math
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.reader.points import MAX_WHOLE

FIT_HEADER = bytes([14, 0x10, 0, 0]) + struct.pack("<I", 0xFFFF_FFF0) + b".FIT\x00\x00"


def bomb(head: bytes, size: int = MAX_WHOLE + 2**20) -> bytes:
    """A gzip of ``head`` then zeros up to ``size`` bytes: a few KB that inflate past the limit."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        gz.write(head)
        block = b"\x00" * 2**20
        for _ in range((size - len(head)) // len(block)):
            gz.write(block)
    return out.getvalue()


def read(data: bytes, name: str):
    return read_series(io.BytesIO(data), name)


@pytest.mark.parametrize(
    ("head", "what"),
    [(FIT_HEADER, "FIT"), (b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 62}}, "', "Fitbit JSON")],
)
def test_a_gzip_bomb_of_a_file_decoded_in_memory_is_refused_after_the_limit(head: bytes, what: str) -> None:
    """Before: the FIT decoder and json.load were handed the whole inflated stream (1.5 GB RSS for a
    1.5 MB upload, a MemoryError traceback under a limit)."""
    data = bomb(head)
    assert len(data) < 200_000
    with pytest.raises(InputError, match=f"over 16 MB uncompressed: too big for a {what} file"):
        read(data, "bomb.gz")


def test_a_takeout_json_longer_than_the_first_read_still_reads_whole() -> None:
    """The bounded read loops: a stream that returns short reads (the peeked head first) is read to the end."""
    entries = ",".join(
        f'{{"dateTime":"03/31/24 07:{m:02d}:{s:02d}","value":{{"bpm":{60 + s},"confidence":2}}}}'
        for m in range(60)
        for s in range(60)
    )
    data = f"[{entries}]".encode()
    assert len(data) > 200_000
    (plain,) = read(data, "heart_rate-2024-03-31.json")
    (packed,) = read(gzip.compress(data), "heart_rate-2024-03-31.json.gz")
    assert len(plain) == len(packed) == 3600


def test_a_zip_member_bomb_is_skipped_and_the_rest_of_the_archive_read(tmp_path: Path) -> None:
    from hrviz.adapters.ingest.archives import ingest_path
    from hrviz.adapters.store.sqlite import SqliteStore
    from hrviz.core.ingest import IngestOptions

    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.fit", gzip.decompress(bomb(FIT_HEADER)))
        z.writestr("b.csv", "time,bpm\n2024-01-01T00:00:00Z,70\n2024-01-01T00:00:01Z,71\n")
    store = SqliteStore(tmp_path / "t.db")
    try:
        got = ingest_path(path, store, IngestOptions(), parallel=False)
    finally:
        store.close()
    assert [s.source for s in got.sessions] == [f"{path}/b.csv"]
    assert got.skipped == [(f"{path}/a.fit", "over 16 MB uncompressed: too big for a FIT file")]


def test_entities_are_never_expanded_nor_read_from_disk(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("72")
    point = "<Trackpoint><Time>2024-01-01T00:00:00Z</Time><HeartRateBpm><Value>{}</Value></HeartRateBpm></Trackpoint>"
    body = "<TrainingCenterDatabase><Activities><Activity><Lap><Track>{}</Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    xxe = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>' + body.format(
        point.format("&xxe;")
    )
    with pytest.raises(InputError, match="undefined entity"):
        read(xxe.encode(), "xxe.tcx")
    lols = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    laughs = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">{lols}]>' + body.format(point.format("&l9;"))
    with pytest.raises(InputError, match="amplification"):
        read(laughs.encode(), "laughs.tcx")


MAGICS = {
    "fit": FIT_HEADER,
    "gzip": b"\x1f\x8b\x08\x00",
    "tcx": b'<?xml version="1.0"?><TrainingCenterDatabase>',
    "gpx": b"<gpx><trk><trkseg><trkpt>",
    "apple": b"<HealthData><Record ",
    "takeout": b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 62}}',
    "csv": b"time,bpm\n",
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(MAGICS)), tail=st.binary(max_size=400))
def test_random_bytes_after_each_formats_magic_give_an_input_error_or_series(kind: str, tail: bytes) -> None:
    try:
        found = read(MAGICS[kind] + tail, f"fuzz.{kind}")
    except InputError as err:
        assert "\n" not in str(err)
    else:
        assert all(len(s) > 0 for s in found)


@pytest.mark.parametrize("damage", ["cut", "garbage"])
def test_a_gzip_damaged_past_its_head_is_an_input_error_whatever_reader_pulls(damage: str) -> None:
    """Before: exit 1 with 'unexpected EOFError' / zlib's 'invalid block type' (not bad input, exit 2)."""
    rows = "".join(
        f"2024-01-01T{h:02d}:{m:02d}:{s:02d}Z,{60 + s}\n" for h in range(3) for m in range(60) for s in range(60)
    )
    points = "".join(
        f"<Trackpoint><Time>2024-01-01T00:{m:02d}:{s:02d}Z</Time><HeartRateBpm><Value>{60 + s}</Value></HeartRateBpm></Trackpoint>"
        for m in range(60)
        for s in range(60)
    )
    for name, text in [
        ("a.csv.gz", "time,bpm\n" + rows),
        ("a.tcx.gz", f"<TrainingCenterDatabase><Track>{points}</Track></TrainingCenterDatabase>"),
    ]:
        packed = bytearray(gzip.compress(text.encode()))
        half = len(packed) // 2
        data = bytes(packed[:half]) if damage == "cut" else bytes(packed[:half] + b"\xff" * 64 + packed[half + 64 :])
        # garbage may still inflate (to garbage the reader then refuses); a cut never does
        with pytest.raises(InputError, match="broken gzip file" if damage == "cut" else "broken gzip file|malformed"):
            read(data, name)


def test_control_characters_in_a_name_or_subject_are_stored_escaped_never_sent_to_a_terminal() -> None:
    """Before: a subject cell ``ESC[2J ESC]0;pwn BEL`` reached the terminal raw in the ingest summary,
    ``hrviz sessions`` and ``hrviz report`` (clearing the screen, retitling the window)."""
    from hrviz.core.ingest import IngestOptions, ingest
    from hrviz.core.live import LiveIngest, LiveOptions
    from tests.unit.fakes import MemoryLive, MemoryStore

    evil = "\x1b[2J\x1b]0;pwn\x07"
    rows = "".join(  # the evil subject after the 64 KB the binary check looks at
        f"2024-01-01T{h:02d}:{m:02d}:{s:02d}Z,{evil if h == 2 else 'A'},{60 + s}\n"
        for h in range(3)
        for m in range(60)
        for s in range(60)
    )
    store = MemoryStore()
    sessions = ingest(io.BytesIO(f"time,user,bpm\n{rows}".encode()), f"a{evil}.csv", store, IngestOptions())
    assert sorted(s.subject or "" for s in sessions) == ["A", "\\x1b[2J\\x1b]0;pwn\\x07"]
    assert {s.source for s in sessions} == {"a\\x1b[2J\\x1b]0;pwn\\x07.csv"}
    for s in store.list_sessions():
        assert (s.source + (s.subject or "")).isprintable()
    live = LiveIngest(store, MemoryLive(store), "key", "-\n" + evil, LiveOptions(subject=evil))
    assert live.session.source == "-\\n\\x1b[2J\\x1b]0;pwn\\x07" and (live.session.subject or "").isprintable()


@pytest.mark.parametrize("root", ["TrainingCenterDatabase", "HealthData"])
def test_a_refused_entity_bomb_frees_its_memory_at_once_not_at_the_next_full_collection(root: str) -> None:
    """Before: the ParseError's traceback held the parser and the ~60 MB it had expanded, in a cycle
    with the InputError: each hostile upload grew serve by 60 MB until a full collection."""
    import gc
    import tracemalloc

    lols = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    laughs = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">{lols}]><{root}><a>&l9;</a></{root}>'.encode()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(2):
            with pytest.raises(InputError, match="amplification"):
                read(laughs, "laughs.xml")
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held < 5_000_000, f"{held:,} bytes still held after two refused files"


@pytest.mark.parametrize(
    ("name", "head", "filler", "tail"),
    [
        (
            "w.gpx",
            b"<gpx><trk><trkseg><trkpt><time>2024-01-01T00:00:00Z</time><extensions><hr>70</hr></extensions></trkpt>"
            b"</trkseg></trk>",
            b'<wpt lat="1" lon="2"><name>x</name></wpt>',
            b"</gpx>",
        ),
        (
            "p.tcx",
            b"<TrainingCenterDatabase><Track>",
            b"<Trackpoint><Time>2024-01-01T00:00:00Z</Time><HeartRateBpm><Value>70</Value></HeartRateBpm></Trackpoint>",
            b"</Track></TrainingCenterDatabase>",
        ),
    ],
)
def test_a_track_of_many_elements_is_read_in_constant_memory(
    name: str, head: bytes, filler: bytes, tail: bytes
) -> None:
    """Before: waypoints were never dropped and cleared points stayed in their track (a 0.9 MB
    gpx.gz of 7.5M waypoints took 3.1 GB RSS; now 33 MB)."""
    import tracemalloc

    data = head + filler * 60_000 + tail
    tracemalloc.start()
    try:
        (series,) = read(data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(series) == 1
    assert peak < 2_000_000, f"{peak:,} bytes at peak for {len(data):,} bytes of XML"


def test_an_apple_element_of_many_children_is_read_in_constant_memory() -> None:
    """Before: children of a top-level element were kept until it ended (one Workout of 60,000 events)."""
    import tracemalloc

    record = b'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" startDate="2024-03-31 07:00:05 +0200" value="60"/>'
    data = (
        b"<HealthData>"
        + record
        + b"<Workout>"
        + b'<WorkoutEvent type="pause" date="x"/>' * 60_000
        + b"</Workout></HealthData>"
    )
    tracemalloc.start()
    try:
        (series,) = read(data, "export.xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(series) == 1
    assert peak < 2_000_000, f"{peak:,} bytes at peak for {len(data):,} bytes of XML"


def test_a_file_of_more_subjects_than_the_limit_is_refused_at_the_first_one_over() -> None:
    """Before: a 9.5 MB CSV whose subject column was unique after a repeating head ran > 2 min (one
    session per row) at 390 MB; an Apple export of as many devices likewise."""
    from hrviz.core.reader.parse import MAX_SUBJECTS

    head = "".join(f"2024-01-01T00:00:{i:02d}Z,{'ab'[i % 2]},70\n" for i in range(40))
    rows = "".join(f"2024-01-01T01:00:00Z,u{i},70\n" for i in range(MAX_SUBJECTS + 10))
    with pytest.raises(InputError, match="more than 10,000 subjects") as err:
        read(f"time,user,bpm\n{head}{rows}".encode(), "s.csv")
    assert err.value.line == 2 + 40 + MAX_SUBJECTS - 2
    record = '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="d{}" startDate="2024-03-31 07:00:05 +0200" value="60"/>'
    apple = "<HealthData>" + "".join(record.format(i) for i in range(MAX_SUBJECTS + 1)) + "</HealthData>"
    with pytest.raises(InputError, match="more than 10,000 subjects"):
        read(apple.encode(), "export.xml")


def _zip_variants() -> dict[str, bytes]:
    """Two CSV members, then the same archive damaged in the ways zipfile raises for."""
    csv = b"time,bpm\n" + b"".join(b"2024-01-01T00:%02d:%02dZ,70\n" % (m, s) for m in range(60) for s in range(60))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.csv", csv)
        z.writestr("b.csv", csv.replace(b",70", b",71"))
    good = buffer.getvalue()

    def patched(sig: bytes, offset: int, change: Callable[[bytearray, int], None]) -> bytearray:
        data, at = bytearray(good), 0
        while (at := data.find(sig, at)) >= 0:
            change(data, at + offset)
            at += 4
        return data

    def method99(data: bytearray, at: int) -> None:
        data[at : at + 2] = struct.pack("<H", 99)

    def encrypt(data: bytearray, at: int) -> None:
        data[at] |= 1

    m99 = patched(b"PK\x03\x04", 8, method99)
    m99 = bytearray(m99[: m99.find(b"PK\x01\x02")]) + patched(b"PK\x01\x02", 10, method99)[m99.find(b"PK\x01\x02") :]
    enc = patched(b"PK\x03\x04", 6, encrypt)
    enc = bytearray(enc[: enc.find(b"PK\x01\x02")]) + patched(b"PK\x01\x02", 8, encrypt)[enc.find(b"PK\x01\x02") :]
    corrupt = bytearray(good)
    corrupt[60:260] = b"\xff" * 200
    cut = good.find(b"PK\x01\x02")
    return {
        "method99": bytes(m99),
        "encrypted": bytes(enc),
        "corrupt": bytes(corrupt),
        "cut": good[: cut - 100] + good[cut:],
    }


@pytest.mark.parametrize("damage", ["method99", "encrypted", "corrupt", "cut"])
def test_a_damaged_encrypted_or_exotic_zip_member_is_skipped_or_refused_never_unexpected(
    tmp_path: Path, damage: str
) -> None:
    """Before: NotImplementedError, RuntimeError (encrypted), zlib.error and OSError escaped as
    'unexpected' errors (exit 1), ending the whole archive's ingest."""
    from hrviz.adapters.ingest.archives import ingest_path
    from hrviz.adapters.store.sqlite import SqliteStore
    from hrviz.core.ingest import IngestOptions

    path = tmp_path / "rides.zip"
    path.write_bytes(_zip_variants()[damage])
    store = SqliteStore(tmp_path / "t.db")
    try:
        got = ingest_path(path, store, IngestOptions(), parallel=False)
    except InputError as err:
        assert "unreadable zip member" in str(err)
    else:  # the corrupt one: a.csv is skipped, b.csv (intact) is stored
        assert damage == "corrupt" and [s.source for s in got.sessions] == [f"{path}/b.csv"]
        assert "unreadable zip member" in got.skipped[0][1]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.json", b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": ' + b"9" * 400 + b"}}]", "entry 1 is not"),
        (
            "deep.json",
            b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 60}}, ' + b"[" * 100_000 + b"]" * 100_001,
            "nested too deeply",
        ),
        (
            "late.tcx",
            b"<TrainingCenterDatabase><Trackpoint><Time>9999-12-31T23:59:59Z</Time><HeartRateBpm><Value>60</Value>"
            b"</HeartRateBpm></Trackpoint></TrainingCenterDatabase>",
            "all 1 of its points with a heart rate have times outside 1980–2099",
        ),
    ],
)
def test_crafted_values_are_input_errors_not_crashes(name: str, data: bytes, message: str) -> None:
    """Before: OverflowError (a 400-digit bpm), RecursionError (JSON nested 100,000 deep); a TCX of
    year-9999 times said it had no heart rate."""
    with pytest.raises(InputError, match=message):
        read(data, name)


def test_an_infinite_apple_value_is_a_missing_reading_never_stored_as_infinity() -> None:
    record = '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" startDate="2024-03-31 07:00:0{} +0200" value="{}"/>'
    data = f"<HealthData>{record.format(5, '1e999')}{record.format(6, 61)}</HealthData>".encode()
    (series,) = read(data, "export.xml")
    assert math.isnan(series.bpm[0]) and series.bpm[1] == 61


def test_the_html_report_of_a_years_long_session_stays_small() -> None:
    """Before: one SVG line per minute with readings: a year of a reading every 5 minutes (105,000
    minutes) made a 10+ MB page, over serve's 1 MiB send queue (the viewer asking was closed 1013)."""
    from hrviz.core.insights import insights, profile, summarize
    from hrviz.core.insights.html import render
    from hrviz.core.model import Reading, Session

    t0 = 1_704_067_200.0
    readings = [Reading(i, t0 + 300 * i, 60.0 + (i % 40)) for i in range(105_120)]
    p = profile(190)
    page = render([insights(Session("s1", "watch.xml", None, "fp"), summarize(readings, p.max_hr), p)], "now")
    assert page.count("<line") <= 1_100
    assert len(page) < 300_000, f"{len(page):,} characters"


def test_an_export_whose_session_is_deleted_midway_fails_instead_of_looking_complete() -> None:
    """Before: the store's reader ended quietly at the delete, and the export (CLI, and the page's
    download, whose last part was marked ``last``) held 15,000 of 300,000 readings without a word."""
    from hrviz.core.errors import SessionGone
    from hrviz.core.export import csv_lines, json_chunks
    from hrviz.core.model import Reading, Session

    session = Session("s1", "run.csv", None, "fp", readings=5)
    cut = [Reading(i, 1_704_067_200.0 + i, 60.0) for i in range(2)]  # the delete landed after two
    for export in (csv_lines, json_chunks):
        with pytest.raises(SessionGone, match="deleted while it was exported: only 2 of its 5 readings"):
            "".join(export(session, iter(cut)))
    whole = [Reading(i, 1_704_067_200.0 + i, 60.0) for i in range(5)]
    assert "".join(csv_lines(session, iter(whole))).count("\n") == 6


def test_a_named_time_column_empty_in_every_row_is_refused_not_an_index_error() -> None:
    """Found by fuzzing the live reader: a first data row shorter than the time column raised
    IndexError in the sniffer (file and live input alike: 'unexpected', exit 1)."""
    from hrviz.core.reader.lines import LineReader

    data = b"Date,Time,HR\nfoo\nbar,,70\nbaz,,71\n"
    with pytest.raises(InputError, match="the time column 'Time' is empty in every row read") as err:
        read(data, "short.csv")
    assert err.value.line == 2
    live = LineReader("-")
    with pytest.raises(InputError, match="is empty in every row read"):
        for line in [*data.decode().splitlines(keepends=True), *[f"q{i},,72\n" for i in range(30)]]:
            live.line(line)
