"""Property-based fuzzing of the WebSocket API against a real server (issue #8, item 6).

Several clients send random and mutated messages; invariants: every client still gets an answer
to ``sessions`` afterwards (the server answers or errors, it never wedges or closes a connection
over a message), no message hits the catch-all ``internal`` error, and a viewer replaying at 1x
on another connection receives every reading in order, without a hole, all along.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration import test_ws_api as api
from tests.integration.test_ws_limits import store_csv

make_server = api.make_server  # the fixture

TYPES = ["upload", "chunk", "replay", "resume_from", "pause", "resume", "restart", "speed", "sessions", "bogus"]
NASTY_STRINGS = ["\ud800", "a\udfffb", "", " ", "../../etc/passwd", "x" * 300, "0123456789ab", "\x00"]
NASTY_NUMBERS = [10**400, -(10**400), 2**63, -1, 0, 1, 60, 1e308, -0.0, 0.5, 59.999999]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(NASTY_NUMBERS)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(NASTY_STRINGS)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def message(session_id: str) -> st.SearchStrategy[str | bytes]:
    fields = {
        "session_id": st.sampled_from([session_id, "nope"]) | values,
        "speed": st.sampled_from([1, 2, 5, 10, 60]) | values,
        "from_seq": st.integers(-2, 5000) | values,
        "seq": st.integers(-2, 5000) | values,
        "paused": st.booleans() | values,
        "name": st.sampled_from(["a.csv", "b.fit"]) | values,
        "size": st.integers(0, 200) | values,
        "data": st.sampled_from(["dGltZXN0YW1wLGJwbQo=", "timestamp,bpm\n2026-01-01T00:00:00,60\n"]) | values,
        "encoding": st.sampled_from(["base64", "text"]) | values,
        "history_from": st.integers(-1, 5000) | values,
        "offset": st.integers(-1, 50) | values,
        "limit": st.integers(0, 200) | values,
        "q": st.sampled_from(["", "big", "%", "\ud800"]) | values,
        "sort": st.sampled_from(["uploaded", "start", "name"]) | values,
    }
    shaped = st.fixed_dictionaries({"type": st.sampled_from(TYPES) | values}, optional=fields)
    as_json = shaped.map(lambda d: json.dumps(d, ensure_ascii=True))
    mutated = st.tuples(as_json, st.integers(0, 200), st.text(max_size=3)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )
    deep = st.integers(1, 200_000).map(lambda n: "[" * n + "]" * n)
    return as_json | mutated | deep | st.text(max_size=50) | st.binary(max_size=50)


class Viewer:
    """A 1x replay on its own connection, recording every reading's seq and arrival time."""

    def __init__(self, url: str, session_id: str, stack: contextlib.ExitStack) -> None:
        self.ws = stack.enter_context(connect(url, max_size=None))
        self.ws.recv(10)  # hello
        self.ws.send(json.dumps({"type": "replay", "session_id": session_id, "speed": 1}))
        self.seqs: list[tuple[int, float]] = []
        self.problems: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for raw in self.ws:
                msg = json.loads(raw)
                if msg["type"] == "reading":
                    self.seqs.append((msg["seq"], time.monotonic()))
                elif msg["type"] == "error":
                    self.problems.append(raw if isinstance(raw, str) else repr(raw))
        except ConnectionClosed as err:
            self.problems.append(f"closed: {err}")

    def close(self) -> None:
        self.ws.close()
        self._thread.join(5)


def answers_sessions(ws: ClientConnection, timeout: float = 20) -> list[dict[str, Any]]:
    """Ask for ``sessions`` and wait for it; returns every error received meanwhile."""
    ws.send(json.dumps({"type": "sessions"}))
    errors: list[dict[str, Any]] = []
    end = time.monotonic() + timeout
    while True:
        msg = json.loads(ws.recv(max(0.01, end - time.monotonic())))
        if msg["type"] == "sessions":
            return errors
        if msg["type"] == "error":
            errors.append(msg)


def test_random_and_mutated_messages_never_wedge_the_server_nor_delay_a_viewer(
    make_server: Any, tmp_path: Path
) -> None:
    session = store_csv(tmp_path / "hrviz.sqlite3", 5_000, spike_every=50)
    server = make_server()
    stack = contextlib.ExitStack()
    viewer = Viewer(server.url, session.id, stack)
    started = time.monotonic()
    internal: list[dict[str, Any]] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.tuples(st.integers(0, 2), message(session.id)), min_size=1, max_size=25))
    def clients_send(plan: list[tuple[int, str | bytes]]) -> None:
        with contextlib.ExitStack() as conns_open:
            conns = [conns_open.enter_context(connect(server.url, max_size=None)) for _ in range(3)]
            for ws in conns:
                ws.recv(10)  # hello
            for who, text in plan:
                conns[who].send(text)
            for ws in conns:
                errors = answers_sessions(ws)
                internal.extend(e for e in errors if e["code"] == "internal")

    try:
        clients_send()
        time.sleep(1.5)  # a tick or so after the last example
    finally:
        viewer.close()
        stack.close()
    elapsed = time.monotonic() - started
    seqs = [s for s, _ in viewer.seqs]
    gaps = [b - a for (_, a), (_, b) in zip(viewer.seqs, viewer.seqs[1:], strict=False)]
    assert not internal, internal[:3]
    assert not [p for p in viewer.problems if "closed" in p], viewer.problems
    assert seqs == list(range(len(seqs)))  # every tick, in order, none twice
    assert len(seqs) >= elapsed * 0.8 - 3  # it kept pace all along (loosely: the machine is shared)
    assert max(gaps, default=0) < 10  # and never stalled
