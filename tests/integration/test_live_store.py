"""The live store on the real MySQL server: what the ingest thread and the publisher thread of one
``hrviz ingest -`` do to the same session row at once (docs/live.md)."""

from __future__ import annotations

import threading

from hrviz.adapters.store.live import MysqlLive
from hrviz.adapters.store.mysql import MysqlStore
from hrviz.core.live import LiveIngest

T0 = 1_800_000_000


def test_appends_and_the_publishers_marks_on_one_session_do_not_deadlock(mysql_url: str) -> None:
    """Each flush is one transaction on the session row while the publisher thread moves the same
    row's outbox mark: creating-or-updating the row with INSERT IGNORE then UPDATE took a shared
    lock and upgraded it, and a mark waiting in between made a deadlock (MySQL error 1213, which
    ingest took for a store that went away)."""
    store = MysqlStore(mysql_url)
    live = LiveIngest(store, MysqlLive(store), "test:deadlock", "live.csv")
    live.line("ts,bpm\n", 0.0)
    live.line(f"{T0},70\n", 0.0)
    live.flush()
    sid = live.session.id
    stop = threading.Event()
    marks = 0

    def publisher() -> None:  # what the outbox publisher does after each flush, as fast as it can
        nonlocal marks
        marker = MysqlStore(mysql_url)
        try:
            while not stop.is_set():
                marker.mark_published(sid, live.session.readings - 1, None)
                marks += 1
        finally:
            marker.close()

    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        for i in range(1, 400):
            live.line(f"{T0 + i},{60 + i % 50}\n", float(i))
            live.flush()  # raised BackendUnavailable (deadlock) within a few hundred flushes
    finally:
        stop.set()
        thread.join(10)
    live.finish()
    assert marks > 100  # the two threads did overlap
    stored = store.get(sid)
    assert stored is not None and stored.readings == 400
    assert [r.seq for r in store.readings(sid)] == list(range(400))
    store.close()
