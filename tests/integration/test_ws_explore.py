# ruff: noqa: F811 — pytest fixtures imported from test_ws_api are parameters here
"""The API the page explores a session with (docs/api.md): history pages, the overview, every event
up front with the seq that reaches it, jumps, the largest subject first, and the "max" speed."""

from __future__ import annotations

import time
from itertools import accumulate
from typing import Any

import pytest

from tests.integration.test_ws_api import (  # noqa: F401 — fixtures
    DEMO,
    client,
    make_server,
    recv,
    send,
    server,
    until,
    upload,
    uploaded_and_replaying,
)
from tests.real_data import REAL


def columns(pages: list[dict[str, Any]]) -> list[tuple[int, float, float, bool]]:
    """(seq, t, bpm, filled) from ``history`` pages, decoded as the page does."""
    out = []
    for p in pages:
        times = [p["t0"] + ms / 1000 for ms in accumulate(p["dt_ms"])]
        filled = set(p["filled"])
        out += [(p["first_seq"] + i, t, b, i in filled) for i, (t, b) in enumerate(zip(times, p["bpm"], strict=True))]
    return out


def readings_until(ws: Any, seq: int) -> list[dict[str, Any]]:
    got = []
    while True:
        msg = recv(ws)
        if msg["type"] == "reading":
            got.append(msg)
            if msg["seq"] >= seq:
                return got


def test_overview_and_every_event_arrive_up_front_with_their_seq(server: Any) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        overview, _ = until(ws, "overview")
        assert overview["session_id"] == session["id"]
        assert sum(overview["count"]) == session["readings"] == 520
        assert len(overview["first"]) == len(overview["min"]) == len(overview["max"])
        events, _ = until(ws, "events")
        assert events["total"] == len(events["events"]) == len(session["anomalies"])
        assert {e["kind"] for e in events["events"]} >= {"spike", "drop", "gap"}
        starts = [e["t_start"] for e in events["events"]]
        assert starts == sorted(starts)
        # the seq of an event is where the replay sends it: check against a replay at max speed
        send(ws, type="speed", speed=1_000_000)
        sent: dict[tuple[str, float], int] = {}
        while True:
            msg = recv(ws)
            if msg["type"] == "anomaly":
                sent[(msg["kind"], msg["t_start"])] = msg["seq"]
            if msg["type"] == "end":
                break
        assert sent == {(e["kind"], e["t_start"]): e["seq"] for e in events["events"]}


def test_a_reload_gets_the_readings_before_its_position_in_one_go(server: Any) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        send(ws, type="speed", speed=60)
        live = readings_until(ws, 150)
    with client(server) as ws:  # a reload: nothing in the page, the position from sessionStorage
        send(ws, type="resume_from", session_id=session["id"], seq=150, speed=60, paused=True, history_from=0)
        replay, _ = until(ws, "replay")
        assert replay["from_seq"] == 151 and replay["history_from"] == 0 and replay["paused"] is True
        pages = []
        while (msg := recv(ws))["type"] != "history" or not msg["last"]:
            if msg["type"] == "history":
                pages.append(msg)
        pages.append(msg)
        assert columns(pages) == [(r["seq"], r["t"], r["bpm"], r["filled"]) for r in live[:151]]
        gaps = {p["first_seq"] + i for p in pages for i in p["after_gap"]}
        assert gaps == {r["seq"] for r in live[:151] if r["after_gap"]}
        marked = {p["first_seq"] + i: kinds for p in pages for i, kinds in p["kinds"]}
        assert marked == {r["seq"]: r["kinds"] for r in live[:151] if r["kinds"]} and marked
        send(ws, type="resume")
        first = readings_until(ws, 151)
        assert first[0]["seq"] == 151  # no gap, no duplicate after the batch


def test_a_jump_forward_sends_what_was_skipped_then_plays_on(server: Any) -> None:
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        readings_until(ws, 2)
        send(ws, type="replay", session_id=session["id"], from_seq=400, history_from=3, speed=60)
        replay, _ = until(ws, "replay")
        assert (replay["from_seq"], replay["history_from"]) == (400, 3)
        history, _ = until(ws, "history")
        assert history["first_seq"] == 3 and len(history["bpm"]) == 397 and history["last"]
        nxt = readings_until(ws, 400)
        assert nxt[0]["seq"] == 400


def test_a_jump_forward_never_sends_twice_what_was_already_on_its_way(server: Any) -> None:
    """The page asks history from the readings it has; those the replay had queued meanwhile reach it first,
    so the history starts after them: every seq arrives once (a jump at 60x in Chromium got 29, 30 twice)."""
    with client(server) as ws:
        upload(ws, DEMO.read_bytes())
        session = uploaded_and_replaying(ws)
        send(ws, type="speed", speed=600)  # 0.6 readings a millisecond: ~12 on their way during the sleep
        first = readings_until(ws, 0)
        time.sleep(0.02)  # (not enough to pass 400, which takes 0.67 s: then the jump would be a rewind)
        send(ws, type="replay", session_id=session["id"], from_seq=400, history_from=1, speed=1)
        seqs = [m["seq"] for m in first]
        replay = None
        while replay is None or seqs[-1] < 400:
            msg = recv(ws)
            if msg["type"] == "reading":
                seqs.append(msg["seq"])
            elif msg["type"] == "history":
                seqs.extend(range(msg["first_seq"], msg["first_seq"] + len(msg["bpm"])))
            elif msg["type"] == "replay":
                replay = msg
        assert seqs == list(range(401))
        assert replay["from_seq"] == 400 and 1 <= replay["history_from"] <= 400


def test_history_from_is_checked(server: Any) -> None:
    with client(server) as ws:
        send(ws, type="replay", session_id="abc", history_from=-1)
        err, _ = until(ws, "error")
        assert err["code"] == "bad_message" and "history_from" in err["message"]


def test_600x_and_max_are_speeds(server: Any) -> None:
    with client(server) as ws:
        send(ws, type="speed", speed=600)
        assert until(ws, "state")[0]["speed"] == 600
        send(ws, type="speed", speed=1_000_000)
        assert until(ws, "state")[0]["speed"] == 1_000_000
        send(ws, type="speed", speed=1000)
        assert until(ws, "error")[0]["code"] == "bad_speed"


@pytest.mark.skipif(not (REAL / "welltory_covid19_heart_rate_2020-04-17.csv").exists(), reason="no real data here")
def test_a_multi_subject_file_plays_its_largest_subject_first(server: Any) -> None:
    path = REAL / "welltory_covid19_heart_rate_2020-04-17.csv"
    with client(server) as ws:
        upload(ws, path.read_bytes(), name=path.name, chunk=256 * 1024)
        up, _ = until(ws, "uploaded", timeout=60)
        replay, _ = until(ws, "replay")
        assert len(up["sessions"]) > 1
        assert replay["session"]["readings"] == max(s["readings"] for s in up["sessions"])


def test_sessions_are_paged_filtered_and_deleted(server: Any) -> None:
    with client(server) as ws:
        for i in range(3):
            data = DEMO.read_bytes() + f"2026-03-14T08:00:0{i}+01:00,70\n".encode()
            upload(ws, data, name=f"/home/someone/private/run-{i}.csv")
            until(ws, "replay")
        send(ws, type="sessions", offset=0, limit=2, q="run-", sort="uploaded")
        page, _ = until(ws, "sessions")
        assert page["total"] == 3 and page["offset"] == 0 and len(page["sessions"]) == 2
        first = page["sessions"][0]
        assert first["source"] == "run-2.csv" and "/" not in first["source"]  # never a local path
        assert first["anomaly_count"] > 0 and isinstance(first["uploaded_at"], float)
        send(ws, type="sessions", offset=2, limit=2, q="run-", sort="uploaded")
        rest, _ = until(ws, "sessions")
        assert [s["source"] for s in rest["sessions"]] == ["run-0.csv"]
        send(ws, type="delete", session_id=first["id"])
        gone, _ = until(ws, "deleted")
        assert gone["session_id"] == first["id"]
        send(ws, type="sessions")
        after, _ = until(ws, "sessions")
        assert after["total"] == 2 and first["id"] not in {s["id"] for s in after["sessions"]}
        send(ws, type="replay", session_id=first["id"])
        assert until(ws, "error")[0]["code"] == "unknown_session"
        send(ws, type="delete", session_id=first["id"])
        assert until(ws, "error")[0]["code"] == "unknown_session"
        send(ws, type="sessions", sort="nonsense")
        assert until(ws, "error")[0]["code"] == "bad_message"
