"""The WebSocket API as a client sees it: a real server in-process on a free port, a tmp SQLite db.

The server runs on its own event loop in a thread; tests talk to it with websockets' sync client,
exactly as docs/api.md describes the messages.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from hrviz.adapters.queue.local import LocalQueue
from hrviz.adapters.serve.server import ServerConfig
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ingest import ingest
from hrviz.wiring import load_settings, open_backends
from tests.running_server import RunningServer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Any]:
    started: list[RunningServer] = []

    def make(mysql: str | None = None, kafka: str | None = None, **overrides: Any) -> RunningServer:
        config = ServerConfig(host="127.0.0.1", port=0, **overrides)
        settings = load_settings(db=tmp_path / "hrviz.sqlite3", mysql=mysql, kafka=kafka)
        started.append(RunningServer(lambda: open_backends(settings), config))
        return started[-1]

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def server(make_server: Any) -> RunningServer:
    return make_server()


def send(ws: ClientConnection, **msg: Any) -> None:
    ws.send(json.dumps(msg))


def recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return json.loads(ws.recv(timeout))


def until(ws: ClientConnection, kind: str, timeout: float = 15) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Receive until a message of ``kind``; returns it and everything received before it."""
    before: list[dict[str, Any]] = []
    end = time.monotonic() + timeout
    while True:
        msg = recv(ws, max(0.01, end - time.monotonic()))
        if msg["type"] == kind:
            return msg, before
        before.append(msg)


@contextmanager
def client(server: RunningServer, **kw: Any) -> Iterator[ClientConnection]:
    with connect(server.url, **kw) as ws:
        assert recv(ws)["type"] == "hello"
        yield ws


def upload(ws: ClientConnection, data: bytes, name: str = "demo_run.csv", chunk: int | None = None) -> None:
    if chunk is None:
        send(ws, type="upload", name=name, size=len(data), data=base64.b64encode(data).decode())
        return
    send(ws, type="upload", name=name, size=len(data))
    for i in range(0, len(data), chunk):
        send(ws, type="chunk", data=base64.b64encode(data[i : i + chunk]).decode())


def uploaded_and_replaying(ws: ClientConnection) -> dict[str, Any]:
    up, _ = until(ws, "uploaded")
    replay, _ = until(ws, "replay")
    assert replay["session"]["id"] == up["sessions"][0]["id"] and replay["from_seq"] == 0
    return replay["session"]


# -- the page --------------------------------------------------------------------------------------


def test_serves_the_page_with_security_headers(server: RunningServer) -> None:
    with urllib.request.urlopen(server.http + "/") as resp:
        body = resp.read().decode()
        assert resp.headers["Content-Type"].startswith("text/html")
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "connect-src 'self'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert 'id="file"' in body and 'id="anomalies"' in body and '<script type="module" src="app.js">' in body
    with urllib.request.urlopen(server.http + "/app.js") as resp:
        assert resp.headers["Content-Type"].startswith("text/javascript")
    for path in ("/nope", "/../pyproject.toml", "/%2e%2e/pyproject.toml"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.http + path)
        assert err.value.code == 404
        err.value.close()


# -- upload and replay -----------------------------------------------------------------------------


def test_upload_then_every_reading_and_anomaly_in_order(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes(), chunk=4096)
        progress, _ = until(ws, "progress")
        assert progress["phase"] == "upload" and progress["total"] == DEMO.stat().st_size
        session = uploaded_and_replaying(ws)
        send(ws, type="speed", speed=60)
        assert session["readings"] == 520 and session["source"] == "demo_run.csv"
        end, got = until(ws, "end", timeout=30)
    readings = [m for m in got if m["type"] == "reading"]
    anomalies = [m for m in got if m["type"] == "anomaly"]
    assert [r["seq"] for r in readings] == list(range(520))
    assert end["seq"] == 519
    assert {"seq", "ts", "t", "bpm", "filled", "kinds", "after_gap"} <= set(readings[0])
    assert readings[0]["ts"] == "2026-03-14T07:30:00+01:00"
    assert sum(r["filled"] for r in readings) == session["filled"]
    # every event of the session arrives once, before the reading that reaches it
    assert [(a["kind"], a["start"]) for a in anomalies] == [(a["kind"], a["start"]) for a in session["anomalies"]]
    order = [(m["type"], m["seq"]) for m in got if m["type"] in ("reading", "anomaly")]
    for a in anomalies:
        assert order.index(("anomaly", a["seq"])) < order.index(("reading", a["seq"]))
        assert readings[a["seq"]]["t"] >= a["t_start"]
    gaps = [a for a in anomalies if a["kind"] == "gap"]
    assert gaps and all(any(r["after_gap"] and r["t"] == g["t_end"] for r in readings) for g in gaps)


def test_pace_is_one_reading_per_second_at_1x(server: RunningServer) -> None:
    """Never faster than the recording (a stall cannot make it so), a median step of a second (one stall makes one
    step long and the next short, the replay catching up), and the server's own ticks woke on time."""
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        uploaded_and_replaying(ws)
        arrivals: list[tuple[int, float]] = []
        while len(arrivals) < 5:
            msg = recv(ws, 15)
            if msg["type"] == "reading":
                arrivals.append((msg["seq"], time.monotonic()))
    assert [s for s, _ in arrivals] == [0, 1, 2, 3, 4]
    assert arrivals[4][1] - arrivals[0][1] >= 3.8  # four steps of the recording: four seconds, less a little jitter
    steps = sorted(b - a for (_, a), (_, b) in zip(arrivals, arrivals[1:], strict=False))
    assert 0.8 <= (steps[1] + steps[2]) / 2 <= 1.2, steps
    lateness = sorted(server.server.app.pacing.samples)
    assert len(lateness) >= 4 and lateness[len(lateness) // 2] < 0.1, lateness


def test_pause_resume_speed_and_restart(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        uploaded_and_replaying(ws)
        send(ws, type="speed", speed=10)
        state, _ = until(ws, "state")
        assert state["speed"] == 10 and not state["paused"]
        t0 = time.monotonic()
        seqs = [until(ws, "reading")[0]["seq"] for _ in range(10)]
        assert 0.6 < time.monotonic() - t0 < 1.4  # ten readings at 10x take about a second
        send(ws, type="pause")
        state, late = until(ws, "state")
        assert state["paused"]
        last = max([seqs[-1]] + [m["seq"] for m in late if m["type"] == "reading"])
        with pytest.raises(TimeoutError):
            while True:  # nothing but the odd in-flight reading while paused
                msg = recv(ws, 1.0)
                assert msg["type"] != "reading" or msg["seq"] == last + 1
                last = max(last, msg.get("seq", last))
        send(ws, type="resume")
        msg, _ = until(ws, "reading")
        assert msg["seq"] == last + 1  # resumes exactly where it stopped
        send(ws, type="restart")
        replay, _ = until(ws, "replay")
        assert replay["from_seq"] == 0 and replay["speed"] == 10
        first, between = until(ws, "reading")
        assert first["seq"] == 0
        send(ws, type="speed", speed=3)
        err, _ = until(ws, "error")
        assert err["code"] == "bad_speed" and "1, 2, 5, 10, 60, 600, 1e+06" in err["message"]


def test_resume_from_after_a_dropped_connection_has_no_gap_and_no_duplicate(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        send(ws, type="speed", speed=60)
        first: list[dict[str, Any]] = []
        while not any(m["type"] == "reading" and m["seq"] == 130 for m in first):
            first.append(recv(ws))
        # the connection drops abruptly: no close handshake
        ws.socket.close()
    last = max(m["seq"] for m in first if m["type"] == "reading")
    with client(server) as ws:
        send(ws, type="resume_from", session_id=session["id"], seq=last, speed=60)
        replay, _ = until(ws, "replay")
        assert replay["from_seq"] == last + 1
        _, second = until(ws, "end", timeout=30)
    both = first + second
    seqs = [m["seq"] for m in both if m["type"] == "reading"]
    assert seqs == list(range(session["readings"]))
    events = [(m["kind"], m["start"]) for m in both if m["type"] == "anomaly"]
    assert events == [(a["kind"], a["start"]) for a in session["anomalies"]]


def test_a_paused_resume_sends_nothing_until_resumed(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
    with client(server) as ws:
        send(ws, type="resume_from", session_id=session["id"], seq=99, speed=60, paused=True)
        replay, _ = until(ws, "replay")
        assert replay["paused"] and replay["from_seq"] == 100
        with pytest.raises(TimeoutError):  # the session's overview and events, and nothing of the replay
            while True:
                assert recv(ws, 1.0)["type"] in ("overview", "events")
        send(ws, type="resume")
        first, _ = until(ws, "reading")
        assert first["seq"] == 100


def test_past_sessions_are_listed_and_replayed(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
    with client(server) as ws:
        send(ws, type="sessions")
        listing, _ = until(ws, "sessions")
        assert [s["id"] for s in listing["sessions"]] == [session["id"]]
        assert "anomalies" not in listing["sessions"][0]
        send(ws, type="replay", session_id=session["id"], from_seq=500, speed=60)
        replay, _ = until(ws, "replay")
        assert replay["session"]["anomalies"] == session["anomalies"]
        _, got = until(ws, "end")
        assert [m["seq"] for m in got if m["type"] == "reading"] == list(range(500, 520))
        send(ws, type="replay", session_id="nope")
        err, _ = until(ws, "error")
        assert err["code"] == "unknown_session"


def test_uploading_the_same_file_again_reports_the_existing_session(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        first = uploaded_and_replaying(ws)
        upload(ws, DEMO.read_bytes())
        up, _ = until(ws, "uploaded")
        assert up["sessions"][0]["id"] == first["id"] and up["sessions"][0]["existing"] is True


# -- bad input and limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "bad.csv: empty file: no data rows"),
        (
            b"timestamp,bpm\n2026-01-01T00:00:00,\n2026-01-01T00:00:01,\n",
            "bad.csv: nothing parseable: every 'bpm' cell is blank, zero, negative or not a number",
        ),
        (b"\x00\x01\x02 not a csv \xff\xfe" * 50, "bad.csv: binary file, not a CSV text (NUL byte at offset 0)"),
        # issue 8: these got `internal` ("field larger than field limit"), or were stored
        (
            b"time,bpm\n1767225600,70\n1767225601," + b"7" * 2_000_000 + b"\n",
            "bad.csv, line 3: a line over 1,048,576 bytes long: not a CSV row",
        ),
        (
            b"time,bpm\n1767225600,70\n" + b",".join([b"1"] * 100_000) + b"\n",
            "bad.csv, line 3: 100,000 fields in one row: not a heart-rate table (at most 1,000)",
        ),
        (
            b"time,bpm\n1e300,70\n1767225601,71\n",
            "bad.csv, line 2: the time '1e300' in column 'time' is out of range (as unix seconds far outside any"
            " calendar, as milliseconds far outside any calendar; times must fall in 1980–2099)",
        ),
    ],
    ids=["empty", "no-values", "binary", "long-line", "wide-row", "first-time-1e300"],
)
def test_a_bad_file_gets_the_readers_precise_message(server: RunningServer, data: bytes, message: str) -> None:
    """The message is written out here, not computed by the code under test: a changed message must be noticed."""
    with client(server) as ws:
        upload(ws, data, name="bad.csv", chunk=500_000 if len(data) > 500_000 else None)
        err, _ = until(ws, "error")
        assert (err["code"], err["file"], err["message"]) == ("bad_file", "bad.csv", message)
        send(ws, type="sessions")
        assert until(ws, "sessions")[0]["sessions"] == []  # nothing stored


def test_a_stray_time_is_skipped_reported_and_listing_still_works(server: RunningServer) -> None:
    rows = [str(1_767_225_600 + i) for i in range(3_000)]
    rows[1_000] = "1e300"  # before issue 8: stored, and every `sessions` request closed 1011 after
    data = ("time,bpm\n" + "".join(f"{t},{60 + i % 9}\n" for i, t in enumerate(rows))).encode()
    with client(server) as ws:
        upload(ws, data, name="stray.csv")
        up, _ = until(ws, "uploaded")
        (session,) = up["sessions"]
        assert (session["skipped_rows"], session["skipped_lines"]) == (1, [1_002])
        assert session["end"] == "2026-01-01T00:49:59Z"
    with client(server) as ws:
        send(ws, type="sessions")
        listing, _ = until(ws, "sessions")
        assert [s["id"] for s in listing["sessions"]] == [session["id"]]


def test_protocol_errors_are_precise(server: RunningServer) -> None:
    with client(server) as ws:
        ws.send("{not json")
        assert until(ws, "error")[0]["code"] == "bad_message"
        send(ws, type="fly")
        assert "unknown message type 'fly'" in until(ws, "error")[0]["message"]
        send(ws, type="pause")
        assert until(ws, "error")[0]["code"] == "no_session"
        send(ws, type="chunk", data="aGk=")
        assert until(ws, "error")[0]["code"] == "no_upload"
        send(ws, type="upload", name="x.csv", size=3)
        send(ws, type="chunk", data=base64.b64encode(b"abcd").decode())
        assert "more data than the announced 3 bytes" in until(ws, "error")[0]["message"]


def test_an_oversize_upload_is_refused_with_a_clear_message(make_server: Any) -> None:
    server = make_server(max_upload=10_000)
    with client(server) as ws:
        send(ws, type="upload", name="big.csv", size=2_000_000)
        err, _ = until(ws, "error")
        assert err["code"] == "too_large"
        assert "1.9 MB" in err["message"] and "--max-upload-mb" in err["message"]
        # the connection stays usable
        upload(ws, DEMO.read_bytes()[:5000])
        until(ws, "uploaded")
    with client(server) as ws:  # a frame over max_size closes the connection (1009)
        with pytest.raises(ConnectionClosed) as closed:
            ws.send(json.dumps({"type": "chunk", "data": "A" * 2_000_000}))
            recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_the_origin_of_a_handshake_is_checked(make_server: Any) -> None:
    server = make_server(allow_origins=("https://dash.example.org",))
    port = server.server.port
    with pytest.raises(InvalidStatus) as refused:
        connect(server.url, origin=Origin("http://evil.example:8765"))
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as other_port:  # same host, another port: another site
        connect(server.url, origin=Origin(f"http://127.0.0.1:{port + 1}"))
    assert other_port.value.response.status_code == 403
    for ok in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", "https://dash.example.org"):
        with connect(server.url, origin=Origin(ok)) as ws:
            assert recv(ws)["type"] == "hello"


# -- sharing ---------------------------------------------------------------------------------------


def test_two_viewers_of_one_session_read_it_once(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []
    original = LocalQueue.replay

    def counting(self: LocalQueue, session_id: str, position: Any, from_seq: int = 0, **kw: Any) -> Any:
        calls.append((session_id, from_seq))
        return original(self, session_id, position, from_seq, **kw)

    monkeypatch.setattr(LocalQueue, "replay", counting)
    with client(server) as a:
        upload(a, DEMO.read_bytes())
        session = uploaded_and_replaying(a)
        with client(server) as b:
            send(b, type="replay", session_id=session["id"], speed=60)
            send(a, type="speed", speed=60)
            _, got_b = until(b, "end", timeout=30)
            _, got_a = until(a, "end", timeout=30)
    reads_a = [m for m in got_a if m["type"] == "reading"]
    reads_b = [m for m in got_b if m["type"] == "reading"]
    assert reads_b == reads_a[-len(reads_b) :] and len(reads_b) == 520
    assert calls == [(session["id"], 0)]
    assert len(server.server.app.hubs) == 1


def test_a_stalled_viewer_is_closed_1013_alone_and_the_other_keeps_every_reading(
    make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real socket that stops reading: its send queue overflows and it is closed 1013 (too slow, resume); a viewer
    of the same session on the same server gets every reading, in order, before the close and after it."""
    from hrviz.adapters.serve import viewer

    # a 32 KiB cap instead of 1 MiB so it overflows in seconds; the rule under test is the same
    monkeypatch.setattr(viewer.SendQueue.__init__, "__defaults__", (32 * 1024,))
    server = make_server()
    n = 12_000  # at 10 Hz: 20 min of recording, 1.2 MB of reading messages
    rows = "".join(f"{1_767_225_600 + i / 10:.1f},{60 + i % 7}\n" for i in range(n))
    with client(server) as ws:
        upload(ws, ("time,bpm\n" + rows).encode(), name="long.csv")
        up, _ = until(ws, "uploaded")
    session_id = up["sessions"][0]["id"]
    stalled_sock = socket.socket()
    # the kernel must hold little for it either: a small receive buffer, and small segments (on loopback a 64 KiB
    # segment would let the server's send buffer start at megabytes)
    stalled_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    stalled_sock.connect(("127.0.0.1", server.server.port))
    with connect(server.url, sock=stalled_sock, max_queue=2) as stalled, client(server) as healthy:
        # max_queue=2: the client stops reading the socket once two frames wait; the test reads none until it is
        # closed. It asks the whole session as fast as the server sends (overflowing whatever the load); the
        # healthy viewer plays at 60x, a pace a loaded machine keeps (600x in a Python reader thread did not)
        send(healthy, type="replay", session_id=session_id, speed=60)
        send(stalled, type="replay", session_id=session_id, speed=1_000_000)
        got: list[dict[str, Any]] = []
        with ThreadPoolExecutor(1) as pool:  # the healthy viewer reads all the while

            def read_healthy() -> None:
                while not got or got[-1].get("seq", -1) < 600 or server.server.app.counters["slow_closed"] == 0:
                    msg = recv(healthy, 30)
                    if msg["type"] == "reading":
                        got.append(msg)

            healthy_done = pool.submit(read_healthy)
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # what it had been sent before the close, then the close itself
                    stalled.recv(30)
            healthy_done.result(90)  # 10 s of readings at least, and on past the close
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert [m["seq"] for m in got] == list(range(len(got))) and len(got) > 600
    assert server.server.app.counters["slow_closed"] == 1


# -- state lives in the store and the queue --------------------------------------------------------


def test_serve_publishes_pending_sessions_at_start(tmp_path: Path, make_server: Any) -> None:
    """A session stored but never published (a crash between the two) is published at start."""
    store = SqliteStore(tmp_path / "hrviz.sqlite3")
    with DEMO.open("rb") as f:
        (session,) = ingest(f, "demo_run.csv", store)
    assert [b.session_id for b in store.unpublished()] == [session.id]
    store.close()
    server = make_server()
    store = SqliteStore(tmp_path / "hrviz.sqlite3")
    assert store.unpublished() == []
    store.close()
    with client(server) as ws:
        send(ws, type="replay", session_id=session.id, from_seq=515, speed=60)
        _, got = until(ws, "end")
    assert [m["seq"] for m in got if m["type"] == "reading"] == [515, 516, 517, 518, 519]


@pytest.mark.mysql
@pytest.mark.kafka
def test_any_server_replays_any_session_from_mysql_and_kafka(
    mysql_url: str, kafka_topic: str, make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' worth of servers on one MySQL + Kafka: upload on one, resume on the other."""
    from tests import services

    monkeypatch.setenv("HRVIZ_KAFKA_TOPIC", kafka_topic)
    kafka = services.require("kafka")
    a = make_server(mysql=mysql_url, kafka=kafka)
    b = make_server(mysql=mysql_url, kafka=kafka)
    with client(a) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        send(ws, type="speed", speed=60)
        first: list[dict[str, Any]] = []
        while not any(m["type"] == "reading" and m["seq"] == 200 for m in first):
            first.append(recv(ws))
    last = max(m["seq"] for m in first if m["type"] == "reading")
    with client(b) as ws:  # b never saw this session: everything comes from MySQL + Kafka
        send(ws, type="sessions")
        listing, _ = until(ws, "sessions")
        assert session["id"] in [s["id"] for s in listing["sessions"]]
        send(ws, type="resume_from", session_id=session["id"], seq=last, speed=60)
        _, second = until(ws, "end", timeout=30)
    seqs = [m["seq"] for m in first + second if m["type"] == "reading"]
    assert seqs == list(range(520))
    assert sum(m["type"] == "anomaly" for m in first + second) == len(session["anomalies"])
