"""The outbox under real failures: servers stopped or SIGKILLed around ``hrviz ingest`` (a real
process, real MariaDB, real Kafka, no mocks). Each test restarts what it stopped in ``finally``.

What must hold (docs/outbox.md): a clear one-line error and exit 1; a session is either fully
stored or invisible; what was stored is published completely by ``ingest --resume``; replay gives
every seq exactly once, in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymysql
import pytest

from hrviz.adapters.queue.kafka import KafkaQueue
from hrviz.adapters.store.mysql import MysqlStore, parse_url
from tests import services

pytestmark = [pytest.mark.mysql, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"
PID_FILES = {"kafka": "kafka.pid", "mariadb": "mariadbd.pid"}  # as scripts/services.sh writes them


@pytest.fixture
def stack(mysql_url: str, kafka_topic: str) -> Iterator[tuple[str, str, str]]:
    """(mysql url, kafka bootstrap, topic); both servers running at the start and at the end."""
    services.services_cmd("up")
    MysqlStore(mysql_url).close()  # the tables exist before the tests poll them
    yield mysql_url, services.require("kafka"), kafka_topic
    services.services_cmd("up")


def hrviz_ingest(
    *args: str | Path, stack: tuple[str, str, str], popen: bool = False
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    url, bootstrap, topic = stack
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | {"HRVIZ_KAFKA_TOPIC": topic}
    cmd = [sys.executable, "-m", "hrviz", "ingest", *map(str, args), "--mysql", url, "--kafka", bootstrap]
    if popen:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)


def kill_now(service: str) -> None:
    """SIGKILL a server by its pid at once (the script's own kill adds bash start-up time, during
    which the ingest could finish), then let the script notice and tidy its pid file."""
    pid_file = services.SERVICES_SH.resolve().parent.parent / ".services" / service / f"{PID_FILES[service]}"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
    services.services_cmd("kill", service)


def big_csv(path: Path, rows: int) -> Path:
    """A 1 Hz recording with a few blanks (filled readings), written fast."""
    start = datetime(2026, 3, 14, 6, 0, tzinfo=UTC)
    lines = ["timestamp,bpm\n"]
    for i in range(rows):
        bpm = "" if i % 997 == 500 else str(60 + (i * 7) % 50)
        lines.append(f"{(start + timedelta(seconds=i)).isoformat().replace('+00:00', 'Z')},{bpm}\n")
    path.write_text("".join(lines))
    return path


def sql(url: str, query: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = pymysql.connect(**parse_url(url), autocommit=True, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def assert_replay_exact(url: str, bootstrap: str, topic: str) -> int:
    """Every stored session is fully published and replays each seq once, equal to the store."""
    store = MysqlStore(url)
    queue = KafkaQueue(bootstrap, topic)
    try:
        assert store.unpublished() == []
        sessions = store.list_sessions()
        assert sessions
        for s in sessions:
            ((part, off, upto),) = sql(
                url, "SELECT queue_partition, queue_offset, published_upto FROM sessions WHERE id = %s", (s.id,)
            )
            assert upto == s.readings - 1 and part is not None
            from hrviz.core.ports import QueuePosition

            position = QueuePosition(int(part), int(off))  # type: ignore[call-overload]
            replayed = list(queue.replay(s.id, position, 0, count=s.readings))
            assert [r.seq for r in replayed] == list(range(s.readings))
            assert replayed == list(store.readings(s.id))
        return sum(s.readings for s in sessions)
    finally:
        queue.close()
        store.close()


def topic_records(bootstrap: str, topic: str, settle: float = 3.0) -> int:
    """How many records a read_committed consumer (the Kafka default) gets from the topic: what the
    outbox guarantees concerns it. Records of aborted transactions and transaction markers hold
    offsets too, so the watermarks would count them; read until nothing new came for ``settle`` s."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "hrviz-test-count",
            "isolation.level": "read_committed",
            "log_level": 0,
        }
    )
    try:
        md = consumer.list_topics(topic, timeout=10)
        meta = md.topics.get(topic)
        if meta is None or meta.error is not None:
            return 0
        consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
        total, quiet_since = 0, time.monotonic()
        while time.monotonic() - quiet_since < settle:
            got = sum(1 for m in consumer.consume(1000, 0.2) if m.error() is None)
            if got:
                total, quiet_since = total + got, time.monotonic()
        return total
    finally:
        consumer.close()


def test_kafka_down_before_ingest_then_resume(stack: tuple[str, str, str]) -> None:
    url, bootstrap, topic = stack
    services.services_cmd("stop-kafka")
    try:
        done = hrviz_ingest(DEMO, stack=stack)
        assert isinstance(done, subprocess.CompletedProcess)
        assert done.returncode == 1, done.stderr
        assert f"Kafka broker at {bootstrap}" in done.stderr and "Traceback" not in done.stderr
        ((sid, upto, n),) = sql(url, "SELECT id, published_upto, readings FROM sessions")
        assert (upto, n) == (-1, 520)  # stored, nothing acknowledged
    finally:
        services.services_cmd("start-kafka")
    resumed = hrviz_ingest("--resume", stack=stack)
    assert isinstance(resumed, subprocess.CompletedProcess)
    assert resumed.returncode == 0, resumed.stderr
    assert assert_replay_exact(url, bootstrap, topic) == 520
    assert topic_records(bootstrap, topic) == 520  # nothing was sent twice here


def test_kafka_killed_mid_publish_then_resume_loses_nothing(stack: tuple[str, str, str], tmp_path: Path) -> None:
    """The publish after the commit (``--resume`` here; an ingest whose transaction failed too):
    Kafka dies mid-way, the mark stays on acknowledged records, the next resume completes it."""
    url, bootstrap, topic = stack
    csv = big_csv(tmp_path / "big.csv", 150_000)
    services.services_cmd("stop-kafka")
    try:  # stored while Kafka is down: nothing published, no transaction
        stored = hrviz_ingest(csv, stack=stack)
        assert isinstance(stored, subprocess.CompletedProcess) and stored.returncode == 1, stored
        assert sql(url, "SELECT published_upto FROM sessions") == [(-1,)]
    finally:
        services.services_cmd("start-kafka")
    proc = hrviz_ingest("--resume", stack=stack, popen=True)
    assert isinstance(proc, subprocess.Popen)
    try:
        deadline = time.monotonic() + 180
        mark = -1
        while time.monotonic() < deadline and proc.poll() is None:
            rows = sql(url, "SELECT published_upto, readings FROM sessions")
            if rows and int(rows[0][0]) >= 0:  # type: ignore[call-overload]
                mark = int(rows[0][0])  # type: ignore[call-overload]
                break
            time.sleep(0.005)  # the publish after the first mark takes about a second
        kill_now("kafka")
        if not 0 <= mark < 149_999:
            proc.kill()
            pytest.fail(f"the publish was not caught mid-way (mark {mark}): {proc.communicate()[1]}")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert f"Kafka broker at {bootstrap}" in err and "Traceback" not in err
        ((upto,),) = sql(url, "SELECT published_upto FROM sessions")
        assert mark <= int(upto) < 149_999  # type: ignore[call-overload]
    finally:
        if proc.poll() is None:
            proc.kill()
        services.services_cmd("start-kafka")
    resumed = hrviz_ingest("--resume", stack=stack)
    assert isinstance(resumed, subprocess.CompletedProcess)
    assert resumed.returncode == 0, resumed.stderr
    assert assert_replay_exact(url, bootstrap, topic) == 150_000


def test_kafka_killed_mid_ingest_its_transaction_open_then_resume_loses_nothing(
    stack: tuple[str, str, str], tmp_path: Path
) -> None:
    """Kafka dies while an ingest fills its transaction: the store is neither slowed nor failed (the
    session commits), the Kafka commit fails, the mark stays at -1 and the publish after the commit
    fails in one sentence; ``--resume`` publishes it all; read_committed never sees the first attempt."""
    url, bootstrap, topic = stack
    rows = 1_200_000  # ~2.5 s of ingest on a quiet machine: a wide window to catch its transaction open
    csv = big_csv(tmp_path / "big.csv", rows)
    transactions_ready(bootstrap)  # a broker restarted by an earlier test may still be loading its coordinator
    watermarks = EndWatcher(bootstrap, topic)
    proc = hrviz_ingest(csv, stack=stack, popen=True)
    assert isinstance(proc, subprocess.Popen)
    try:
        deadline = time.monotonic() + 180
        producing = False
        while time.monotonic() < deadline and proc.poll() is None:
            if watermarks.end() > 0:  # the transaction's records are on the broker
                producing = True
                break
            time.sleep(0.005)
        committed = sql(url, "SELECT COUNT(*) FROM sessions")
        kill_now("kafka")
        assert producing and committed == [(0,)], f"not caught mid-ingest (rc {proc.poll()}, stored {committed})"
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 1, err
        assert f"Kafka broker at {bootstrap}" in err and "Traceback" not in err
        assert sql(url, "SELECT published_upto, readings FROM sessions") == [(-1, rows)]
    finally:
        watermarks.close()
        if proc.poll() is None:
            proc.kill()
        services.services_cmd("start-kafka")
    resumed = hrviz_ingest("--resume", stack=stack)
    assert isinstance(resumed, subprocess.CompletedProcess)
    assert resumed.returncode == 0, resumed.stderr
    assert assert_replay_exact(url, bootstrap, topic) == rows
    deadline = time.monotonic() + 120  # the broker aborts the orphaned transaction after its 60 s timeout;
    seen = topic_records(bootstrap, topic)  # until then it holds read_committed consumers back
    while seen < rows and time.monotonic() < deadline:
        seen = topic_records(bootstrap, topic)
    assert seen == rows  # the resumed publish, once: nothing of the first attempt


def transactions_ready(bootstrap: str) -> None:
    """Wait until the broker's transaction coordinator answers: hrviz never waits for it (an ingest that
    finds it not ready publishes after the store's commit instead), so this test must."""
    from confluent_kafka import Producer

    Producer({"bootstrap.servers": bootstrap, "transactional.id": f"hrviz-test-{uuid.uuid4().hex}"}).init_transactions(
        60
    )


class EndWatcher:
    """The sum of the topic's high watermarks (every record written, committed or not), asked often:
    one consumer kept open (a new one per look took ~0.1 s, long enough to miss a short ingest)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Consumer

        # read_uncommitted: for a read_committed consumer the "high watermark" is the last stable offset,
        # which an open transaction holds back — exactly the records this looks for
        config = {"bootstrap.servers": bootstrap, "group.id": "hrviz-test-end", "isolation.level": "read_uncommitted"}
        self._consumer = Consumer({**config, "log_level": 0})
        self._topic = topic

    def end(self) -> int:
        from confluent_kafka import KafkaException, TopicPartition

        try:
            meta = self._consumer.list_topics(self._topic, timeout=5).topics.get(self._topic)
            if meta is None or meta.error is not None:
                return 0
            parts = [TopicPartition(self._topic, p) for p in meta.partitions]
            return sum(self._consumer.get_watermark_offsets(tp, timeout=5)[1] for tp in parts)
        except KafkaException:  # the topic is being created (no leader yet): nothing written
            return 0

    def close(self) -> None:
        self._consumer.close()


def test_mysql_down_before_ingest_is_one_clear_error_and_nothing_is_published(stack: tuple[str, str, str]) -> None:
    url, bootstrap, topic = stack
    services.services_cmd("stop-mariadb")
    try:
        started = time.monotonic()
        done = hrviz_ingest(DEMO, stack=stack)
        assert isinstance(done, subprocess.CompletedProcess)
        assert time.monotonic() - started < 30
    finally:
        services.services_cmd("start-mariadb")
    assert done.returncode == 1
    where = parse_url(url)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hrviz: error: MySQL server at {where['host']}:{where['port']}")
    assert "unreachable" in lines[0] and "hrviz-pw" not in done.stderr
    assert topic_records(bootstrap, topic) == 0


def test_mysql_killed_mid_ingest_leaves_no_half_session_and_reingest_works(
    stack: tuple[str, str, str], tmp_path: Path
) -> None:
    url, bootstrap, topic = stack
    database = parse_url(url)["database"]
    csv = big_csv(tmp_path / "big.csv", 150_000)
    proc = hrviz_ingest(csv, stack=stack, popen=True)
    assert isinstance(proc, subprocess.Popen)
    caught = False
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            loading = sql(
                url,
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s AND INFO LIKE 'LOAD DATA%%'",
                (database,),
            )
            if loading[0][0]:  # a LOAD DATA into the open transaction: kill the server right now
                caught = True
                break
            time.sleep(0.02)
        kill_now("mariadb")
        assert caught, f"no LOAD DATA seen before the ingest ended (rc {proc.poll()})"
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert "MySQL server at" in err and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
        services.services_cmd("start-mariadb")
    store = MysqlStore(url)
    try:
        assert store.list_sessions() == [] and store.unpublished() == []
        assert sql(url, "SELECT COUNT(*) FROM readings") == [(0,)]
    finally:
        store.close()
    assert topic_records(bootstrap, topic) == 0
    again = hrviz_ingest(csv, stack=stack)
    assert isinstance(again, subprocess.CompletedProcess)
    assert again.returncode == 0, again.stderr
    assert assert_replay_exact(url, bootstrap, topic) == 150_000
