"""A live session while its servers fail, on the real servers: Kafka down (readings keep being stored,
published in order when it is back) and MySQL down (a bounded on-disk spool, then written; a full
spool stops the input and nothing accepted is lost).

These tests STOP AND START the servers (``services.services_cmd``) like test_outbox_failures.py:
run them only against servers of your own (HRVIZ_MYSQL_PORT / HRVIZ_KAFKA_PORT and the matching
HRVIZ_TEST_* URLs; docs/live.md), never against shared ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hrviz.adapters.queue.kafka import KafkaQueue
from hrviz.adapters.store.mysql import MysqlStore
from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.core.ports import SessionStore
from tests import services

pytestmark = [pytest.mark.mysql, pytest.mark.kafka]
T0 = 1714557600


@pytest.fixture(autouse=True)
def servers_back() -> Iterator[None]:
    services.services_cmd("up")
    yield
    services.services_cmd("up")


def line(i: int) -> str:
    return f"{T0 + i},{70 + i % 3}\n"


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "hrviz", "ingest", "-", "--json", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
    )  # fmt: skip


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 — the server is on its way back
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def count(store: SessionStore) -> int:
    sessions = store.list_sessions()
    return sessions[0].readings if sessions else 0


def test_kafka_down_while_live_readings_are_stored_then_published_in_order(tmp_path: Path, kafka_topic: str) -> None:
    bootstrap = services.require("kafka")
    proc = start("--db", str(tmp_path / "h.db"), "--kafka", bootstrap, env={"HRVIZ_KAFKA_TOPIC": kafka_topic})
    assert proc.stdin is not None
    store = SqliteStore(tmp_path / "h.db")
    try:
        proc.stdin.write("ts,bpm\n" + "".join(line(i) for i in range(5)))
        proc.stdin.flush()
        wait_for(lambda: count(store) == 5 and not store.unpublished())
        services.services_cmd("stop-kafka")
        for i in range(5, 10):
            proc.stdin.write(line(i))
            proc.stdin.flush()
            time.sleep(0.2)
        wait_for(lambda: count(store) == 10, timeout=5)  # stored at once, Kafka or not
        assert store.unpublished()[0].published_upto == 4
        time.sleep(17)  # longer than the producer's 15 s message timeout: the publish fails, and is retried
        proc.stdin.write(line(10))
        proc.stdin.flush()
        wait_for(lambda: count(store) == 11, timeout=5)
        services.services_cmd("start-kafka")
        proc.stdin.write(line(11))
        proc.stdin.flush()
        wait_for(lambda: count(store) == 12 and not store.unpublished(), timeout=90)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "publishing paused" in err and "publishing resumed" in err
        (session,) = json.loads(out)["sessions"]
        queue = KafkaQueue(bootstrap, kafka_topic)
        try:
            got = list(queue.replay(session["id"], store.position(session["id"]), 0, count=12))
        finally:
            queue.close()
        assert [(r.seq, r.ts) for r in got] == [(i, float(T0 + i)) for i in range(12)]  # each once, in order
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()


def test_mysql_down_while_live_spools_then_writes_and_a_full_spool_stops_the_input(mysql_url: str) -> None:
    proc = start("--mysql", mysql_url, "--spool-max", "6")
    assert proc.stdin is not None
    store = MysqlStore(mysql_url)
    try:
        proc.stdin.write("ts,bpm\n" + "".join(line(i) for i in range(3)))
        proc.stdin.flush()
        wait_for(lambda: count(store) == 3)
        sid = store.list_sessions()[0].id
        spool = Path(os.environ.get("TMPDIR", "/tmp")) / f"hrviz-spool-{sid}.jsonl"
        services.services_cmd("down", "mariadb")
        for i in range(3, 7):
            proc.stdin.write(line(i))
            proc.stdin.flush()
            time.sleep(0.3)
        wait_for(lambda: spool.exists() and len(spool.read_text().splitlines()) == 4, timeout=10)
        assert proc.poll() is None  # still reading its input
        services.services_cmd("up", "mariadb")
        wait_for(lambda: count(store) == 7, timeout=30)
        wait_for(lambda: not spool.exists(), timeout=5)

        services.services_cmd("down", "mariadb")
        for i in range(7, 17):  # one at a time: the spool fills at 6, the rest is never read
            proc.stdin.write(line(i))
            proc.stdin.flush()
            time.sleep(0.4)
        wait_for(lambda: spool.exists() and len(spool.read_text().splitlines()) >= 6, timeout=10)
        services.services_cmd("up", "mariadb")
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 1, err
        assert "spool is full" in err and "every reading accepted before is stored" in err
        (session,) = json.loads(out)["sessions"]
        accepted = session["readings"]
        assert 13 <= accepted < 17
        readings = list(store.readings(sid))
        assert [(r.seq, r.ts) for r in readings] == [(i, float(T0 + i)) for i in range(accepted)]
        assert not spool.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()
