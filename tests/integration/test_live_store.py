"""The live store on SQLite and the real MySQL server: what the ingest thread and the publisher thread
of one ``hrviz ingest -`` do to the same session row at once, and the anomalies stored as they are
found (docs/live.md)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hrviz.adapters.store.live import MysqlLive, SqliteLive, live_ids_of
from hrviz.adapters.store.mysql import MysqlStore
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.live import LiveIngest
from hrviz.core.ports import LiveMark, LiveStore, SessionStore

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


@pytest.mark.parametrize("kind", ["sqlite", "mysql"])
def test_the_anomalies_so_far_are_in_the_store_while_live(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A viewer opening a live session mid-way reads its anomalies from the store: each flush
    stores the ones found since the last, in its transaction; finish rewrites the final list."""
    store: SessionStore
    live_store: LiveStore
    if kind == "sqlite":
        sqlite = SqliteStore(tmp_path / "h.db")
        store, live_store = sqlite, SqliteLive(sqlite)
    else:
        mysql = MysqlStore(request.getfixturevalue("mysql_url"))
        store, live_store = mysql, MysqlLive(mysql)
    values = [70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 150, 70, 71, 70, 69, 70, 71, 70, 69, 70, 250, 70, 71]
    live = LiveIngest(store, live_store, "test:events", "live.csv")
    live.line("ts,bpm\n", 0.0)
    kinds_while_live: list[list[str]] = []
    for i, v in enumerate(values):
        live.line(f"{T0 + i},{v}\n", float(i))
        live.flush()
        got = store.get(live.session.id)
        assert got is not None
        kinds_while_live.append([str(a.kind) for a in got.anomalies])
        # the marks a server follows live sessions by (one query): stored readings and anomalies
        assert live_ids_of(sqlite if kind == "sqlite" else mysql) == {
            got.id: LiveMark(got.readings, len(got.anomalies))
        }
    assert kinds_while_live[0] == [] and kinds_while_live[-1] == ["spike", "out_of_range"]
    assert got is not None and got.anomalies == live.anomalies
    done = live.finish()
    final = store.get(done.id)
    assert final is not None and final.anomalies == done.anomalies
    store.close()
