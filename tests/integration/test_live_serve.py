"""A live session seen through ``hrviz serve``: listed as live, opened at its edge with the history at
once, then each reading as ingest stores it (no pacing), on SQLite and on MySQL + Kafka with two servers."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from hrviz.wiring import load_settings, open_backends
from tests import services
from tests.running_server import RunningServer

T0 = 1714557600


def recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return json.loads(ws.recv(timeout))


def until(ws: ClientConnection, kind: str, timeout: float = 15) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    before: list[dict[str, Any]] = []
    end = time.monotonic() + timeout
    while True:
        msg = recv(ws, max(0.01, end - time.monotonic()))
        if msg["type"] == kind:
            return msg, before
        before.append(msg)


def live_ingest(flags: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """``hrviz ingest -`` as a logger would run it, its stdin a pipe the test writes lines into."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | env
    return subprocess.Popen(
        [sys.executable, "-m", "hrviz", "ingest", "-", *flags],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
    )  # fmt: skip


def listed(ws: ClientConnection, readings: int = 0, timeout: float = 15) -> list[dict[str, Any]]:
    """The stored sessions, asked again until the newest holds at least ``readings`` (and there is one)."""
    deadline = time.monotonic() + timeout
    while True:
        ws.send(json.dumps({"type": "sessions"}))
        listing, _ = until(ws, "sessions")
        if listing["sessions"] and listing["sessions"][0]["readings"] >= readings:
            return list(listing["sessions"])
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.fixture(params=["sqlite", "mysql+kafka"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str], Any]]:
    if request.param == "sqlite":
        db = tmp_path / "h.db"
        yield ["--db", str(db)], {}, load_settings(db=db)
        return
    url, topic = request.getfixturevalue("mysql_url"), request.getfixturevalue("kafka_topic")
    kafka = services.require("kafka")
    os.environ["HRVIZ_KAFKA_TOPIC"] = topic  # load_settings reads it; restored below
    try:
        settings = load_settings(mysql=url, kafka=kafka)
    finally:
        del os.environ["HRVIZ_KAFKA_TOPIC"]
    yield ["--mysql", url, "--kafka", kafka], {"HRVIZ_KAFKA_TOPIC": topic}, settings


def test_a_live_session_is_listed_live_and_followed_reading_by_reading(
    stack: tuple[list[str], dict[str, str], Any],
) -> None:
    flags, env, settings = stack
    ingest = live_ingest(flags, env)
    assert ingest.stdin is not None
    servers = [RunningServer(lambda: open_backends(settings)) for _ in range(2 if settings.kafka else 1)]
    try:
        ingest.stdin.write("ts,bpm\n" + "".join(f"{T0 + i},{70 + i % 3}\n" for i in range(5)))
        ingest.stdin.flush()
        stack_ = contextlib.ExitStack()
        clients = [stack_.enter_context(connect(f"ws://127.0.0.1:{s.server.port}/ws")) for s in servers]
        for ws in clients:
            assert recv(ws)["type"] == "hello"
        (session,) = listed(clients[0], readings=5, timeout=10)
        assert session["live"] is True
        for ws in clients:
            ws.send(json.dumps({"type": "replay", "session_id": session["id"], "speed": 1}))
            started, _ = until(ws, "replay")
            assert started["session"]["live"] is True and started["from_seq"] == 5 and started["history_from"] == 0
            history, _ = until(ws, "history")
            assert history["first_seq"] == 0 and len(history["bpm"]) == 5
        delays = []
        for i in range(5, 15):
            ingest.stdin.write(f"{T0 + i},{70 + i % 3}\n")
            ingest.stdin.flush()
            written = time.monotonic()
            for ws in clients:
                reading, _ = until(ws, "reading", timeout=10)
                assert reading["seq"] == i
                delays.append(time.monotonic() - written)
            time.sleep(0.2)  # faster than the recording's 1 s: the edge is not paced
        assert sorted(delays)[len(delays) // 2] < 1.0, delays
        ingest.stdin.close()
        assert ingest.wait(30) == 0
        for ws in clients:
            end, _ = until(ws, "end", timeout=15)
            assert end["seq"] == 14
        stack_.close()
    finally:
        if ingest.poll() is None:
            ingest.kill()
        for s in servers:
            s.stop()


def test_a_viewer_opening_a_live_session_mid_way_gets_the_anomalies_found_so_far(
    stack: tuple[list[str], dict[str, str], Any],
) -> None:
    """Ingest stores each anomaly with the readings' small transaction that follows its detection;
    a viewer opening the session — also on a hub another viewer opened before it — gets them in its
    ``replay`` summary and its ``events``, while the session is still live."""
    flags, env, settings = stack
    ingest = live_ingest(flags, env)
    assert ingest.stdin is not None
    server = RunningServer(lambda: open_backends(settings))
    values = [70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 150, 70, 71, 70, 69, 70]  # a spike at 10
    try:
        ingest.stdin.write("ts,bpm\n" + "".join(f"{T0 + i},{values[i]}\n" for i in range(5)))
        ingest.stdin.flush()
        with (
            connect(f"ws://127.0.0.1:{server.server.port}/ws") as first,
            connect(f"ws://127.0.0.1:{server.server.port}/ws") as later,
        ):
            assert recv(first)["type"] == "hello" and recv(later)["type"] == "hello"

            sid = listed(first)[0]["id"]
            first.send(json.dumps({"type": "replay", "session_id": sid}))
            started, _ = until(first, "replay")
            assert started["session"]["live"] is True and started["session"]["anomaly_count"] == 0
            events, _ = until(first, "events")
            assert events["total"] == 0
            ingest.stdin.write("".join(f"{T0 + i},{values[i]}\n" for i in range(5, len(values))))
            ingest.stdin.flush()
            deadline = time.monotonic() + 15
            while (now := listed(first)[0])["anomaly_count"] == 0 or not now["live"]:
                assert now["live"] and time.monotonic() < deadline  # found while live, not at the end
                time.sleep(0.1)
            later.send(json.dumps({"type": "replay", "session_id": sid}))
            started, _ = until(later, "replay")
            assert started["session"]["live"] is True
            assert [a["kind"] for a in started["session"]["anomalies"]] == ["spike"]
            events, _ = until(later, "events")
            assert [e["kind"] for e in events["events"]] == ["spike"] and events["total"] == 1
            ingest.stdin.close()
            assert ingest.wait(30) == 0
    finally:
        if ingest.poll() is None:
            ingest.kill()
        server.stop()


def test_a_viewer_watching_a_live_session_gets_each_anomaly_found_meanwhile_once(
    stack: tuple[list[str], dict[str, str], Any],
) -> None:
    """A viewer opens the live session before the spike is written: the spike's ``anomaly`` comes while
    it watches (the session still live), once, with the seq of the reading that reached it; its end
    brings no second one, and the finalized session lists it once."""
    flags, env, settings = stack
    ingest = live_ingest(flags, env)
    assert ingest.stdin is not None
    servers = [RunningServer(lambda: open_backends(settings)) for _ in range(2 if settings.kafka else 1)]
    values = [70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 150, 70, 71, 70, 69, 70]  # a spike at 10
    try:
        ingest.stdin.write("ts,bpm\n" + "".join(f"{T0 + i},{values[i]}\n" for i in range(5)))
        ingest.stdin.flush()
        with contextlib.ExitStack() as opened:
            clients = [opened.enter_context(connect(f"ws://127.0.0.1:{s.server.port}/ws")) for s in servers]
            for ws in clients:
                assert recv(ws)["type"] == "hello"
            sid = listed(clients[0], readings=5)[0]["id"]
            for ws in clients:  # one viewer on each server (MySQL + Kafka: two servers)
                ws.send(json.dumps({"type": "replay", "session_id": sid}))
                started, _ = until(ws, "replay")
                assert started["session"]["live"] is True and started["session"]["anomaly_count"] == 0
                events, _ = until(ws, "events")
                assert events["total"] == 0
            for i in range(5, len(values)):  # as a logger writes them
                ingest.stdin.write(f"{T0 + i},{values[i]}\n")
                ingest.stdin.flush()
                time.sleep(0.05)
            seen: list[list[dict[str, Any]]] = []
            for ws in clients:
                anomaly, before = until(ws, "anomaly", timeout=15)
                assert anomaly["kind"] == "spike" and anomaly["seq"] == 10, anomaly
                assert anomaly["t_start"] == T0 + 10
                readings = [m["seq"] for m in before if m["type"] == "reading"]
                assert readings == list(range(5, readings[-1] + 1))  # it came while the viewer watched
                if readings[-1] < 10:  # before the reading that reaches it, as in a replay
                    assert until(ws, "reading")[0]["seq"] == 10
                else:  # found after that reading went (the detector can tell only later): at once
                    assert readings[-1] - 10 < 5
                seen.append([anomaly])
            clients[0].send(json.dumps({"type": "sessions"}))
            listed_live, _ = until(clients[0], "sessions")
            ingest.stdin.close()
            assert ingest.wait(30) == 0
            for ws, got in zip(clients, seen, strict=True):
                end, before = until(ws, "end", timeout=15)
                assert end["seq"] == len(values) - 1
                got += [m for m in before if m["type"] == "anomaly"]
                assert [a["kind"] for a in got] == ["spike"], got  # once, not again at the end
            assert listed_live["sessions"][0]["live"] is True  # it came while the session was live
            with connect(f"ws://127.0.0.1:{servers[-1].server.port}/ws") as again:  # the finalized session
                assert recv(again)["type"] == "hello"
                again.send(json.dumps({"type": "replay", "session_id": sid}))
                events, _ = until(again, "events")
                assert [e["kind"] for e in events["events"]] == ["spike"] and events["total"] == 1
    finally:
        if ingest.poll() is None:
            ingest.kill()
        for s in servers:
            s.stop()


def test_an_anomaly_found_after_its_readings_went_comes_at_once_with_their_seq(
    stack: tuple[list[str], dict[str, str], Any],
) -> None:
    """A flatline running at the end is found when the session is finalized, long after the viewer got
    its first reading: its ``anomaly`` comes then (before ``end``), once, with the seq of that reading
    (read back from the store: the viewer's own window no longer decides it)."""
    flags, env, settings = stack
    ingest = live_ingest(flags, env)
    assert ingest.stdin is not None
    server = RunningServer(lambda: open_backends(settings))
    values = [70 + i % 4 for i in range(300)] + [83] * 80  # stuck at 83 from seq 300 to the end
    try:
        ingest.stdin.write("ts,bpm\n" + "".join(f"{T0 + i},{values[i]}\n" for i in range(5)))
        ingest.stdin.flush()
        with connect(f"ws://127.0.0.1:{server.server.port}/ws") as ws:
            assert recv(ws)["type"] == "hello"
            ws.send(json.dumps({"type": "replay", "session_id": listed(ws)[0]["id"]}))
            until(ws, "replay")
            ingest.stdin.write("".join(f"{T0 + i},{values[i]}\n" for i in range(5, len(values))))
            ingest.stdin.flush()
            got: list[dict[str, Any]] = []
            while not got or got[-1].get("seq") != len(values) - 1:  # every reading, while live
                reading, before = until(ws, "reading")
                got += [*before, reading]
            ingest.stdin.close()
            assert ingest.wait(30) == 0
            end, before = until(ws, "end")
            got += before
            flat = [m for m in got if m["type"] == "anomaly" and m["kind"] == "flatline"]
            assert len(flat) == 1 and flat[0]["seq"] == 300 and flat[0]["t_start"] == T0 + 300, flat
            assert flat[0] in before  # found at the end, after its readings went: at once, before ``end``
    finally:
        if ingest.poll() is None:
            ingest.kill()
        server.stop()
