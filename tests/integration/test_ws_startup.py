"""``serve`` opens every worker thread's store and queue before it listens, not in the first clients' burst."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from hrviz.adapters.serve import turnstile
from hrviz.adapters.serve.server import LANES, META
from hrviz.core.ports import Backends
from hrviz.wiring import load_settings, open_backends
from tests.running_server import RunningServer


def test_every_lane_and_listing_thread_has_its_backends_before_the_first_client(tmp_path: Path) -> None:
    """1,000 viewers connecting within a second made each lane and listing thread open its MySQL
    connection (~20 ms of CPU each for its TLS context) and its queue in the middle of the burst,
    competing with the event loop; and a bad ``--mysql`` only showed when the first viewer came."""
    settings = load_settings(db=tmp_path / "hrviz.sqlite3")
    opened: list[str] = []

    def open_() -> Backends:
        opened.append(threading.current_thread().name)
        return open_backends(settings)

    server = RunningServer(open_)
    try:
        lanes = {name for name in opened if name.startswith("hrviz-lane")}
        listing = {name for name in opened if name.startswith("hrviz-meta")}
        assert len(lanes) == LANES and len(listing) == META, opened
        assert len(opened) == len(set(opened))  # once per thread
    finally:
        server.stop()


def test_handshakes_go_through_the_turnstile_and_a_crowd_all_gets_in(tmp_path: Path, monkeypatch: Any) -> None:
    """serve/turnstile.py: handshakes beyond the turnstile's free places wait for its next openings
    (BATCH at each), and then get in like any other. Openings slowed down here to be seen."""
    monkeypatch.setattr(turnstile, "TICK", 0.3)
    settings = load_settings(db=tmp_path / "hrviz.sqlite3")
    server = RunningServer(lambda: open_backends(settings))
    try:
        gate = server.server.turnstile

        async def take_the_free_places() -> None:  # on the server's loop
            for _ in range(turnstile.BATCH):
                await gate.enter()

        async def viewer() -> str:
            async with connect(server.url) as ws:
                return str(json.loads(await ws.recv())["type"])

        async def crowd() -> list[str]:
            return await asyncio.gather(*(viewer() for _ in range(3 * turnstile.BATCH)))

        server.call(take_the_free_places())
        started = time.monotonic()
        assert asyncio.run(crowd()) == ["hello"] * 3 * turnstile.BATCH
        assert gate.waited >= 2 * turnstile.BATCH  # all of them, or all but the BATCH of one opening
        assert time.monotonic() - started >= 2 * 0.3 * 0.9  # at least two openings after the first
    finally:
        server.stop()
