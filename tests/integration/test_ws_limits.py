"""``hrviz serve`` under hostile or unlucky clients: bad messages, clients that never read, resumes
deep into big sessions, abandoned uploads, temp files of a killed server (issue #8, items 4 and 6)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hrviz.adapters.serve import connection as ws_connection
from hrviz.adapters.serve import hub as replay_hub
from hrviz.adapters.serve.hub import SessionHub
from hrviz.adapters.serve.server import UPLOAD_DIR_PREFIX
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ingest import ingest
from hrviz.core.model import Reading, Session
from hrviz.core.ports import QueuePosition, ReadingQueue
from tests.integration import test_ws_api as api
from tests.integration.test_ws_api import DEMO, client, recv, send, until, upload, uploaded_and_replaying
from tests.running_server import RunningServer

make_server = api.make_server  # the same fixtures
server = api.server

T0 = 1767225600


def store_csv(db: Path, rows: int, spike_every: int = 0, name: str = "big.csv") -> Session:
    """A session stored the way ``hrviz ingest`` stores it (one spike every ``spike_every`` rows)."""
    lines = ["timestamp,bpm"]
    for i in range(rows):
        bpm = 250 if spike_every and i % spike_every == spike_every // 2 else 60 + i % 3
        lines.append(f"{T0 + i},{bpm}")
    store = SqliteStore(db)
    try:
        (session,) = ingest(io.BytesIO(("\n".join(lines) + "\n").encode()), name, store)
    finally:
        store.close()
    return session


def readings_until(ws: Any, kind: str, timeout: float = 15) -> tuple[dict[str, Any], list[int]]:
    msg, before = until(ws, kind, timeout)
    return msg, [m["seq"] for m in before if m["type"] == "reading"]


# -- item 6: messages that closed the connection (1011) ------------------------------------------

NASTY = [
    '{"type":"speed","speed":1' + "0" * 400 + "}",
    '{"type":"upload","name":"a.csv","size":1' + "0" * 400 + "}",
    '{"type":"replay","session_id":"\\ud800"}',
    "[" * 100_000 + "]" * 100_000,
    '{"type":"upload","name":"\\ud800.csv","size":10}',
    '{"type":"replay","session_id":"abc","paused":"false"}',
]


def test_nasty_messages_get_an_error_and_the_connection_and_its_replay_go_on(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        send(ws, type="speed", speed=10)
        codes: list[str] = []
        seqs: list[int] = []
        for text in NASTY:
            ws.send(text)
            msg, got = readings_until(ws, "error")
            codes.append(msg["code"])
            seqs += got
        send(ws, type="speed", speed=10)
        _, got = readings_until(ws, "state")  # still answering after all of them
        seqs += got
        while len(seqs) < 30 or seqs[-1] < 30:
            seqs += [m["seq"] for m in [recv(ws)] if m["type"] == "reading"]
    assert codes == ["bad_speed", "too_large", "bad_message", "bad_message", "bad_message", "bad_message"]
    assert seqs == list(range(seqs[0], seqs[-1] + 1))  # the replay went on, no reading lost or doubled
    assert session["id"]


def test_a_replay_of_an_unknown_session_leaves_the_current_one_playing(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        uploaded_and_replaying(ws)
        send(ws, type="speed", speed=10)
        send(ws, type="replay", session_id="0123456789ab")
        err, before = readings_until(ws, "error")
        assert err["code"] == "unknown_session"
        after = [m["seq"] for m in (recv(ws) for _ in range(5)) if m["type"] == "reading"]
    assert after and after[0] == (before[-1] + 1 if before else after[0])
    assert after == list(range(after[0], after[0] + len(after)))


def test_paused_false_as_a_string_is_refused_not_read_as_true(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        send(ws, type="replay", session_id=session["id"], paused="false")
        assert until(ws, "error")[0]["code"] == "bad_message"
        send(ws, type="replay", session_id=session["id"], paused=False)
        replay, _ = until(ws, "replay")
        assert replay["paused"] is False
        assert until(ws, "reading")[0]["seq"] == 0


# -- item 4: memory bounded by bytes ---------------------------------------------------------------


def test_replay_requests_from_a_client_that_never_reads_cost_bounded_bytes(make_server: Any, tmp_path: Path) -> None:
    """200 paused replays of a session with 2,500 events: each reply lists a few, and the client
    that never reads is closed ("too slow", 1013) once its send queue holds SEND_QUEUE_BYTES."""
    session = store_csv(tmp_path / "hrviz.sqlite3", 20_000, spike_every=8)
    assert len(session.anomalies) >= 2_000
    srv = make_server()
    with connect(srv.url, max_size=None) as ws:
        ws.recv(5)  # hello
        send(ws, type="replay", session_id=session.id, paused=True)
        first = json.loads(ws.recv(10))
        assert first["type"] == "replay" and first["session"]["anomaly_count"] == len(session.anomalies)
        assert len(json.dumps(first)) < 20_000  # not the 300 KB of every event
        request = json.dumps({"type": "replay", "session_id": session.id, "paused": True})
        sent = 0
        deadline = time.monotonic() + 60
        while not srv.server.app.counters["slow_closed"] and time.monotonic() < deadline:
            try:
                ws.send(request)  # never reading: the replies pile up in the server
            except ConnectionClosed:
                break
            sent += 1
            if sent % 200 == 0:
                time.sleep(0.2)
    assert srv.server.app.counters["slow_closed"] == 1, f"{sent} requests and still open"


def test_a_resume_near_the_end_of_a_big_session_reads_from_there(make_server: Any, tmp_path: Path) -> None:
    session = store_csv(tmp_path / "hrviz.sqlite3", 200_000)
    srv = make_server()
    with client(srv) as ws:
        started = time.monotonic()
        send(ws, type="resume_from", session_id=session.id, seq=199_989, speed=60)
        _, seqs = readings_until(ws, "end", timeout=30)
        took = time.monotonic() - started
        hub = srv.server.app.hubs.get(session.id)
        assert hub is not None
        assert hub.pages_read <= 2  # not the 100 pages from reading 0
        assert hub.buffered() <= 11
    assert seqs == list(range(199_990, 200_000))
    assert took < 10


def test_replaying_again_and_again_reads_the_session_once(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        for _ in range(30):
            send(ws, type="replay", session_id=session["id"], paused=True)
            until(ws, "replay")
        hub = server.server.app.hubs.get(session["id"])
        assert hub is not None and hub.pages_read <= -(-520 // replay_hub.PER_CALL)  # one window, read once


class _ListQueue(ReadingQueue):
    """A queue over readings in memory, counting what it is asked for (replay only)."""

    def __init__(self, n: int) -> None:
        self.readings = [Reading(i, T0 + i, 60.0, False, ()) for i in range(n)]
        self.calls: list[int] = []

    def replay(
        self,
        session_id: str,
        position: QueuePosition | None,
        from_seq: int = 0,
        *,
        count: int | None = None,
        follow: bool = False,
    ) -> Iterator[Reading]:
        self.calls.append(from_seq)
        return iter(self.readings[from_seq:])

    def stage(self, session: Session) -> None:
        return None

    def publish(self, *args: Any, **kwargs: Any) -> QueuePosition | None:
        raise AssertionError("this queue only replays")

    def close(self) -> None:
        pass


def test_windows_stay_small_and_a_runaway_viewer_moves_to_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow and a fast viewer of one session: what the hub holds never grows with the position."""
    monkeypatch.setattr(replay_hub, "SPAN", 3_000)

    async def scenario() -> tuple[int, int, list[int], int]:
        from concurrent.futures import ThreadPoolExecutor

        n = 30_000
        queue = _ListQueue(n)
        pool = ThreadPoolExecutor(1)
        hub = SessionHub(Session("s", "s.csv", None, "f", readings=n), lambda: queue, None, pool)
        slow, fast = object(), object()
        ws = hub.attach(slow, 0)
        wf = hub.attach(fast, 0)
        assert ws is wf
        most = 0
        for seq in range(n):
            if seq % 10 == 0:  # the slow one sends a reading for every ten of the fast one
                s = seq // 10
                assert await ws.wait_for(s)
                assert ws.message(s) and ws.ts_at(s) == T0 + s
                ws.at(slow, s + 1)
            while not await wf.wait_for(seq):
                assert wf.full
                wf = hub.move(fast, wf, seq)
            assert json.loads(wf.message(seq))["seq"] == seq
            wf.at(fast, seq + 1)
            most = max(most, hub.buffered())
        windows = len(hub.windows)
        hub.detach(slow, ws)
        hub.detach(fast, wf)
        await hub.close()
        pool.shutdown()
        return most, windows, queue.calls, hub.buffered()

    most, windows, calls, left = asyncio.run(scenario())
    assert most <= 3_000 + replay_hub.AHEAD + 2 * replay_hub.PER_CALL + replay_hub.BEHIND
    assert windows == 2 and len(calls) == 2 and calls[0] == 0 and calls[1] > 0
    assert left == 0


# -- item 4: uploads -------------------------------------------------------------------------------


def test_concurrent_uploads_are_capped_and_an_idle_one_times_out(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_connection, "UPLOAD_IDLE", 1.0)
    srv = make_server(temp_dir=str(tmp_path), max_uploads=2)
    upload_dir = Path(srv.server.app.upload_dir)
    with client(srv) as a, client(srv) as b, client(srv) as c:
        for ws in (a, b, c):
            send(ws, type="upload", name="half.csv", size=1_000_000)
        assert until(a, "progress")[0]["done"] == 0 and until(b, "progress")[0]["done"] == 0
        busy = until(c, "error")[0]
        assert busy["code"] == "busy"
        assert len([p for p in upload_dir.iterdir() if p.name != "lock"]) == 2
        for ws in (a, b):  # nothing more arrives: both are cancelled and their files removed
            err = until(ws, "error", timeout=10)[0]
            assert err["code"] == "timeout" and "half.csv" in err["message"]
        assert [p.name for p in upload_dir.iterdir()] == ["lock"]
        upload(c, DEMO.read_bytes())  # room again
        assert until(c, "uploaded")[0]["sessions"][0]["readings"] == 520


def test_upload_files_left_by_a_killed_server_are_removed_at_the_next_start(make_server: Any, tmp_path: Path) -> None:
    stale = tmp_path / f"{UPLOAD_DIR_PREFIX}killed"
    stale.mkdir()
    (stale / "lock").write_bytes(b"")  # nobody holds its lock: its server is gone
    (stale / "hrviz-upload-x.csv").write_bytes(b"x" * 1000)
    old = tmp_path / f"{UPLOAD_DIR_PREFIX}nolock"
    old.mkdir()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    first = make_server(temp_dir=str(tmp_path))
    assert not stale.exists() and not old.exists()
    live = Path(first.server.app.upload_dir)
    (live / "hrviz-upload-y.csv").write_bytes(b"y")
    make_server(temp_dir=str(tmp_path))  # a second server on the same directory
    assert (live / "hrviz-upload-y.csv").exists()  # the first one is alive: its files stay
    first.stop()
    assert not live.exists()


def test_history_is_read_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """History from 0 to the end of a long session never holds more than one page of readings."""
    from hrviz.adapters.serve import explore

    monkeypatch.setattr(explore, "HISTORY_PAGE", 1_000)
    n = 10_500
    queue = _ListQueue(n)
    held: list[int] = []  # readings read from the store and not yet sent, at each page sent
    advanced = [0]

    class Store:
        def readings(self, session_id: str, from_seq: int = 0) -> Any:
            for r in queue.readings[from_seq:]:
                advanced[0] = r.seq + 1
                yield r

    class Out:
        sent_upto = 0

        def put(self, message: str) -> None:
            page = json.loads(message)
            self.sent_upto = page["first_seq"] + len(page["bpm"])
            held.append(advanced[0] - page["first_seq"])

        async def drained(self, keep: int = 0) -> None:
            return None

    async def with_store(fn: Any) -> Any:
        return fn(Store())

    out = Out()
    session = Session("s", "s.csv", None, "f", readings=n)
    asyncio.run(explore.send_history(with_store, out, session, 0, n - 10))
    assert out.sent_upto == n - 10 and len(held) == 11
    assert max(held) <= 1_001  # before: 10,490 readings read before the first page went out


@pytest.mark.mysql
@pytest.mark.kafka
def test_a_resume_near_the_end_seeks_in_mysql_and_kafka_too(
    mysql_url: str, kafka_topic: str, make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrviz.core.ingest import publish_pending
    from hrviz.wiring import load_settings, open_backends
    from tests import services

    monkeypatch.setenv("HRVIZ_KAFKA_TOPIC", kafka_topic)
    kafka = services.require("kafka")
    rows = 60_000
    text = "timestamp,bpm\n" + "".join(f"{T0 + i},{60 + i % 3}\n" for i in range(rows))
    backends = open_backends(load_settings(mysql=mysql_url, kafka=kafka))
    try:
        (session,) = ingest(io.BytesIO(text.encode()), "long.csv", backends.store)
        assert publish_pending(backends.store, backends.queue).failed is None
    finally:
        backends.close()
    srv = make_server(mysql=mysql_url, kafka=kafka)
    with client(srv) as ws:
        send(ws, type="resume_from", session_id=session.id, seq=rows - 11, speed=60)
        _, seqs = readings_until(ws, "end", timeout=30)
    assert seqs == list(range(rows - 10, rows))
    consumers = [b.queue._consumer for b in srv.server.app._opened if getattr(b.queue, "_consumer", None)]  # type: ignore[attr-defined]
    assert consumers and sum(c.records_seen for c in consumers) < 10_000  # not the 60,000 from the start


def test_waiting_for_a_client_that_never_reads_costs_no_cpu() -> None:
    """History and event pages wait for the client to read; 1,000 stalled ones must not spin."""
    from hrviz.adapters.serve.viewer import SendQueue

    async def scenario() -> tuple[float, bool]:
        stuck = asyncio.Event()

        async def never(message: str) -> None:
            await stuck.wait()

        queues = [SendQueue(never, lambda: None) for _ in range(1000)]
        for q in queues:
            for i in range(5):
                q.put(f"page {i}")
        waits = [asyncio.create_task(q.drained(1)) for q in queues]
        started = time.process_time()
        await asyncio.sleep(1.0)
        spent = time.process_time() - started
        pending = not any(w.done() for w in waits)
        for q in queues:
            q.close()  # wakes the waits: the sender stopped
        await asyncio.wait_for(asyncio.gather(*waits), 5)
        return spent, pending

    spent, pending = asyncio.run(scenario())
    assert pending
    assert spent < 0.1  # before: 0.7 s of CPU per second, each polling every 2 ms


def test_a_sigkilled_servers_upload_file_is_removed_when_serve_starts_again(tmp_path: Path) -> None:
    import signal

    from tests.e2e.browser_fixtures import ServeProcess

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | {"TMPDIR": str(temp)}
    first = ServeProcess(["--db", str(tmp_path / "a.sqlite3")], env, tmp_path / "a.log")
    try:
        with connect(f"ws://127.0.0.1:{first.port}/ws") as ws:
            ws.recv(10)  # hello
            send(ws, type="upload", name="half.csv", size=1_000)
            send(ws, type="chunk", data="dGltZXN0YW1wLGJwbQo=")
            until(ws, "progress")
            until(ws, "progress")
            (upload_dir,) = temp.glob("hrviz-serve-*")
            assert [p.name for p in upload_dir.iterdir() if p.name != "lock"]  # the half file
            assert first.proc is not None
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
    finally:
        first.stop()
    assert upload_dir.exists()  # nothing could clean up after a SIGKILL
    second = ServeProcess(["--db", str(tmp_path / "a.sqlite3")], env, tmp_path / "b.log")
    try:
        assert not upload_dir.exists()
        assert len(list(temp.glob("hrviz-serve-*"))) == 1  # the new server's own
    finally:
        second.stop()
