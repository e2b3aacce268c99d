"""``hrviz ingest -`` and ``--follow FILE`` as real processes on the embedded store and on MySQL + Kafka:
readings stored while the input flows, a live flag, finalization, restarts that continue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hrviz.adapters.store.live import MysqlLive, SqliteLive
from hrviz.adapters.store.mysql import MysqlStore
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ports import LiveStore, SessionStore
from tests import services

T0 = 1714557600  # 2024-05-01T10:00:00Z
VALUES = [70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 150, 70, 71, 70, 69, 70, 71, 70, 69, 70]


def line(i: int, bpm: object = None) -> str:
    return f"{T0 + i},{VALUES[i % len(VALUES)] if bpm is None else bpm}\n"


@pytest.fixture(params=["sqlite", "mysql+kafka"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str], str]]:
    """The flags and environment of a command, and its kind."""
    if request.param == "sqlite":
        yield ["--db", str(tmp_path / "h.db")], {}, "sqlite"
        return
    url = request.getfixturevalue("mysql_url")
    topic = request.getfixturevalue("kafka_topic")
    yield ["--mysql", url, "--kafka", services.require("kafka")], {"HRVIZ_KAFKA_TOPIC": topic}, "mysql"


def open_store(flags: list[str]) -> tuple[SessionStore, LiveStore]:
    if flags[0] == "--db":
        sqlite = SqliteStore(flags[1])
        return sqlite, SqliteLive(sqlite)
    mysql = MysqlStore(flags[1])
    return mysql, MysqlLive(mysql)


def start(*args: str, env: dict[str, str], stdin: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | env
    return subprocess.Popen(
        [sys.executable, "-m", "hrviz", "ingest", *args],
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
    )  # fmt: skip


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stored(store: SessionStore) -> tuple[str, list[tuple[int, float, float]]] | None:
    sessions = store.list_sessions()
    if not sessions:
        return None
    sid = sessions[0].id
    return sid, [(r.seq, r.ts, r.bpm) for r in store.readings(sid)]


def test_stdin_lines_are_stored_as_they_arrive_and_finalized_at_eof(
    backend: tuple[list[str], dict[str, str], str],
) -> None:
    flags, env, kind = backend
    proc = start("-", "--json", *flags, env=env)
    assert proc.stdin is not None
    store, live = open_store(flags)
    try:
        proc.stdin.write("ts,bpm\n" + "".join(line(i) for i in range(3)))
        proc.stdin.flush()
        wait_for(lambda: (s := stored(store)) is not None and len(s[1]) == 3, 5.0)  # within a second or so
        sid = store.list_sessions()[0].id
        assert live.live_ids() == {sid}
        proc.stdin.write("not,a,reading\n")
        for i in range(3, 20):
            proc.stdin.write(line(i))
        proc.stdin.write(f"{T0 + 20},7")  # the input stops mid-line: the last line counts as it is
        out, err = proc.communicate(timeout=60)  # closes stdin: the end of input
        assert proc.returncode == 0, err
        assert "line 5:" in err  # the bad row, by its line number; the session went on
        (session,) = json.loads(out)["sessions"]
        assert session["id"] == sid and session["readings"] == 21 and session["rows"] == 21
        assert [a["kind"] for a in session["anomalies"]] == ["spike", "out_of_range"]
        assert live.live_ids() == set()
        readings = store.readings(sid)
        assert [(r.seq, r.ts) for r in readings] == [(i, float(T0 + i)) for i in range(21)]
        assert store.unpublished() == []  # all published
        if kind == "mysql":
            from hrviz.adapters.queue.kafka import KafkaQueue

            queue = KafkaQueue(services.require("kafka"), env["HRVIZ_KAFKA_TOPIC"])
            try:
                got = list(queue.replay(sid, store.position(sid), 0, count=21))
            finally:
                queue.close()
            assert [r.seq for r in got] == list(range(21))
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()


def test_sigterm_finalizes_the_session(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proc = start("-", "--db", str(db), env={})
    assert proc.stdin is not None
    store = SqliteStore(db)
    live = SqliteLive(store)
    try:
        proc.stdin.write("ts,bpm\n" + "".join(line(i) for i in range(12)))
        proc.stdin.flush()
        wait_for(lambda: (s := stored(store)) is not None and len(s[1]) == 12)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "finalized (interrupted)" in err
        assert live.live_ids() == set()
        (session,) = store.list_sessions()
        assert session.stats.count == 12
        assert [a.kind for a in (store.get(session.id) or session).anomalies] == ["spike"]
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()


def test_follow_survives_truncation_and_replacement_and_a_restart_continues(tmp_path: Path) -> None:
    db, path = tmp_path / "h.db", tmp_path / "log.csv"
    path.write_text("ts,bpm\n" + "".join(line(i) for i in range(5)))
    args = ("--follow", str(path), "--db", str(db), "--idle-timeout", "2", "--json")
    proc = start(*args, env={}, stdin=subprocess.DEVNULL)
    store = SqliteStore(db)
    try:
        wait_for(lambda: (s := stored(store)) is not None and len(s[1]) == 5)
        with path.open("a") as f:
            f.write(line(5))
            f.write(f"{T0 + 6},7")  # half a line: it waits for the rest
            f.flush()
            time.sleep(0.3)
            f.write("1\n")
        wait_for(lambda: len(stored(store)[1]) == 7)  # type: ignore[index]
        path.write_text("ts,bpm\n" + "".join(line(i) for i in range(7, 9)))  # truncated, written again
        wait_for(lambda: len(stored(store)[1]) == 9)  # type: ignore[index]
        fresh = tmp_path / "new.csv"
        fresh.write_text("ts,bpm\n" + "".join(line(i) for i in range(9, 12)))
        os.replace(fresh, path)  # replaced by a new file of the same name
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        (first,) = json.loads(out)["sessions"]
        assert first["readings"] == 12
        readings = list(store.readings(first["id"]))
        assert [(r.seq, r.ts) for r in readings] == [(i, float(T0 + i)) for i in range(12)]
        assert readings[6].bpm == 71.0

        with path.open("a") as f:  # more lines while nobody follows, then a restart
            f.write("".join(line(i) for i in range(12, 15)))
        again = start(*args, env={}, stdin=subprocess.DEVNULL)
        out, err = again.communicate(timeout=30)
        assert again.returncode == 0, err
        (second,) = json.loads(out)["sessions"]
        assert second["id"] == first["id"] and "continuing live session" in err
        readings = list(store.readings(first["id"]))
        assert [(r.seq, r.ts) for r in readings] == [(i, float(T0 + i)) for i in range(15)]  # no duplicate, no hole
        assert [a["kind"] for a in second["anomalies"]] == ["spike"]
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()
