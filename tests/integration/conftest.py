"""Fixtures for the contract tests: each store/queue test runs on the embedded adapter and on the
real server (a fresh MySQL database, a unique Kafka topic), so both honour the same contract."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

if str(Path(__file__).resolve().parents[2]) not in sys.path:  # tests/integration is no package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hrviz.core.model import Anomaly, Kind, Reading, Session  # noqa: E402
from tests import services  # noqa: E402


def fresh_database_url(base_url: str) -> str:
    """Create ``hrviz_test_<random>`` (the test user may create those) and return its URL."""
    import pymysql

    from hrviz.adapters.store.mysql import parse_url

    name = f"hrviz_test_{uuid.uuid4().hex[:10]}"
    args = parse_url(base_url)
    args.pop("database")
    conn = pymysql.connect(**args, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    import pymysql

    from hrviz.adapters.store.mysql import parse_url

    args = parse_url(url)
    name = args.pop("database")
    try:
        conn = pymysql.connect(**args, autocommit=True, connect_timeout=5)
    except pymysql.err.OperationalError:
        return  # the server is down (a failure test): the database is dropped by the next clean
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """The URL of an empty database of its own on the real MySQL server."""
    url = fresh_database_url(services.require("mysql"))
    yield url
    drop_database(url)


@pytest.fixture
def kafka_topic() -> Iterator[str]:
    """A topic name unique to this test (created by the queue itself), deleted afterwards."""
    bootstrap = services.require("kafka")
    topic = f"hrviz.test.{uuid.uuid4().hex[:12]}"
    yield topic
    from confluent_kafka.admin import AdminClient

    try:
        futures = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).delete_topics(
            [topic], operation_timeout=5, request_timeout=5
        )
        futures[topic].result(timeout=5)
    except Exception:  # noqa: BLE001 — never created, or the broker is down: nothing to clean
        pass


def make_session(sid: str = "sess-a", n: int = 50, tz: int | None = 60, subject: str | None = None) -> Session:
    """A session with ``n`` readings' worth of summary and two anomalies, built by hand."""
    return Session(
        id=sid,
        source=f"/data/{sid}.csv",
        subject=subject,
        fingerprint=(sid * 64)[:64],
        rows=n + 2,
        readings=n,
        filled=n // 10,
        duplicates=2,
        start=1_700_000_000.0,
        end=1_700_000_000.0 + n - 1,
        tz_offset_min=tz,
        anomalies=[
            Anomaly(Kind.SPIKE, 1_700_000_003.0, 1_700_000_004.0, 160.0, 70.0, 90.0),
            Anomaly(Kind.MISSING, 1_700_000_010.5, 1_700_000_012.5),
        ],
    )


def make_readings(n: int, start_seq: int = 0) -> list[Reading]:
    """Readings with varied values: fractions, filled ones, one or two kinds, a fractional time."""
    out = []
    for seq in range(start_seq, start_seq + n):
        ts = 1_700_000_000.0 + seq + (0.25 if seq % 17 == 5 else 0.0)
        kinds: tuple[str, ...] = ()
        if seq % 10 == 3:
            kinds = ("spike",)
        elif seq % 10 == 7:
            kinds = ("missing", "flatline")
        out.append(Reading(seq, ts, 60.0 + (seq % 40) + (0.5 if seq % 3 else 0.0), seq % 10 == 7, kinds))
    return out


@pytest.fixture
def tmp_sqlite(tmp_path: Path) -> Path:
    return tmp_path / "hrviz.sqlite3"
