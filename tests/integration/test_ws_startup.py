"""``serve`` opens every worker thread's store and queue before it listens, not in the first clients' burst."""

from __future__ import annotations

import threading
from pathlib import Path

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
