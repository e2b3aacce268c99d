"""One contract, two stores: every test runs on SQLite (a temp file) and on the real MySQL server
(a fresh database per test, so schema creation on an empty database is exercised every time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hrviz.core.errors import BackendUnavailable
from hrviz.core.ingest import ingest, publish_pending
from hrviz.core.model import ReadingBatch, Stats
from hrviz.core.ports import QueuePosition, SessionStore
from tests.integration.conftest import make_readings, make_session

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"

Opener = Callable[[], SessionStore]


@pytest.fixture(autouse=True)
def small_load_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small sessions here: make the MySQL writer hand batches to its loader thread early anyway."""
    import hrviz.adapters.store.mysql as mysql_store

    monkeypatch.setattr(mysql_store, "LOAD_ROWS", 1000)


@pytest.fixture(params=["sqlite", "mysql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """A factory: each call opens one more store on the same (initially empty) location."""
    opened: list[SessionStore] = []
    if request.param == "sqlite":
        from hrviz.adapters.store.sqlite import SqliteStore

        path = tmp_path / "contract.sqlite3"

        def opener() -> SessionStore:
            opened.append(SqliteStore(path))
            return opened[-1]
    else:
        from hrviz.adapters.store.mysql import MysqlStore

        url = request.getfixturevalue("mysql_url")

        def opener() -> SessionStore:
            opened.append(MysqlStore(url))
            return opened[-1]

    yield opener
    for store in opened:
        store.close()


def write(store: SessionStore, n: int = 12_345, sid: str = "sess-a", batch: int = 5000) -> None:
    session = make_session(sid, n)
    session.stats = Stats(40, 2800.0, 55.0, 99.5)
    writer = store.begin(session)
    readings = make_readings(n)
    for i in range(0, n, batch):
        writer.add_readings(ReadingBatch.of(readings[i : i + batch]))
    writer.commit(session)


def test_round_trip_of_session_anomalies_and_readings(open_store: Opener) -> None:
    store = open_store()
    write(store)
    got = store.get("sess-a")
    expected = make_session("sess-a", 12_345)
    expected.stats = Stats(40, 2800.0, 55.0, 99.5)
    assert got == expected
    assert got is not None and got.stats.mean == 70.0 and got.anomalies[1].bpm is None
    found = store.find(expected.fingerprint)
    assert found is not None and found.id == "sess-a" and found.readings == 12_345
    assert list(store.readings("sess-a")) == make_readings(12_345)
    assert list(store.readings("sess-a", 7_000)) == make_readings(12_345)[7_000:]
    assert list(store.readings("sess-a", 12_345)) == []
    assert store.get("nope") is None and store.find("0" * 64) is None


def test_readings_stream_in_pages_across_page_boundaries(open_store: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    import hrviz.adapters.store.mysql as mysql_store

    monkeypatch.setattr(mysql_store, "PAGE", 1000)
    store = open_store()
    write(store, n=3_000, batch=700)
    stream = store.readings("sess-a", 999)
    assert isinstance(stream, Iterator) and not isinstance(stream, list)
    first = next(stream)
    assert first.seq == 999
    assert [first, *stream] == make_readings(3_000)[999:]


def test_a_session_is_invisible_until_commit(open_store: Opener) -> None:
    writer_store, reader = open_store(), open_store()
    session = make_session("sess-b", 6_000)
    writer = writer_store.begin(session)
    writer.add_readings(ReadingBatch.of(make_readings(6_000)))
    assert reader.find(session.fingerprint) is None
    assert reader.get("sess-b") is None
    assert reader.list_sessions() == []
    assert reader.unpublished() == []
    assert list(reader.readings("sess-b")) == []
    writer.commit(session)
    assert reader.get("sess-b") == session
    assert [s.id for s in reader.list_sessions()] == ["sess-b"]
    assert sum(1 for _ in reader.readings("sess-b")) == 6_000


def test_abort_leaves_nothing_and_the_same_session_can_be_written_again(open_store: Opener) -> None:
    store = open_store()
    session = make_session("sess-c", 8_000)
    writer = store.begin(session)
    writer.add_readings(ReadingBatch.of(make_readings(5_000)))
    writer.abort()
    assert store.get("sess-c") is None and list(store.readings("sess-c")) == []
    write(store, n=8_000, sid="sess-c")  # same id, same seqs: no duplicate-key error
    assert sum(1 for _ in store.readings("sess-c")) == 8_000
    assert open_store().get("sess-c") is not None


def test_outbox_mark_only_advances_and_keeps_the_first_position(open_store: Opener) -> None:
    store = open_store()
    write(store, n=100, sid="sess-d")
    (box,) = store.unpublished()
    assert (box.session_id, box.published_upto, box.readings, box.position) == ("sess-d", -1, 100, None)
    store.mark_published("sess-d", 40, QueuePosition(2, 1000))
    store.mark_published("sess-d", 30, QueuePosition(2, 1500))  # late and lower: ignored
    store.mark_published("sess-d", 70, QueuePosition(2, 1500))  # a resumed publish: position kept
    (box,) = open_store().unpublished()
    assert (box.published_upto, box.position) == (70, QueuePosition(2, 1000))
    store.mark_published("sess-d", 99, None)
    assert store.unpublished() == []


def test_list_sessions_newest_first_with_limit_and_per_session_readings(open_store: Opener) -> None:
    store = open_store()
    for sid in ("s1", "s2", "s3"):
        write(store, n=10 + len(sid), sid=sid)
        time.sleep(0.01)
    assert [s.id for s in store.list_sessions()] == ["s3", "s2", "s1"]
    assert [s.id for s in store.list_sessions(limit=2)] == ["s3", "s2"]
    assert [b.session_id for b in store.unpublished()] == ["s1", "s2", "s3"]  # oldest first: publish in order
    assert [r.seq for r in store.readings("s2")] == list(range(12))


def test_browse_pages_filters_and_sorts_with_a_total_and_upload_time(open_store: Opener) -> None:
    store = open_store()
    before = time.time() - 5
    for i, sid in enumerate(["run-a", "ride-b", "run_c", "walk-d", "run%e"]):
        write(store, n=10 + i * 5, sid=sid)
        time.sleep(0.01)
    page = store.browse(0, 2)
    assert page.total == 5 and [x.session.id for x in page.items] == ["run%e", "walk-d"]  # newest upload first
    assert [x.session.id for x in store.browse(4, 2).items] == ["run-a"]
    assert all(x.anomalies == 2 and before < (x.uploaded_at or 0) < time.time() + 5 for x in page.items)
    found = store.browse(0, 20, "run")
    assert found.total == 3 and {x.session.id for x in found.items} == {"run-a", "run_c", "run%e"}
    assert [x.session.id for x in store.browse(0, 20, "run_").items] == ["run_c"]  # _ and % are literal
    assert [x.session.id for x in store.browse(0, 20, "%").items] == ["run%e"]
    assert [x.session.id for x in store.browse(0, 20, "", "readings").items][0] == "run%e"
    by_name = [x.session.id for x in store.browse(0, 20, "", "name").items]
    assert by_name[0] == "ride-b" and by_name[-1] == "walk-d"
    with pytest.raises(ValueError):
        store.browse(0, 20, "", "nonsense")


def test_delete_removes_session_readings_and_events_at_once(open_store: Opener) -> None:
    store = open_store()
    write(store, n=7000, sid="keep")
    write(store, n=6000, sid="gone")
    assert store.delete("gone") is True
    assert store.get("gone") is None and list(store.readings("gone")) == []
    assert store.browse().total == 1 and [x.session.id for x in store.browse().items] == ["keep"]
    assert len(list(store.readings("keep"))) == 7000 and len(store.get("keep").anomalies) == 2  # type: ignore[union-attr]
    assert store.delete("gone") is False
    again = open_store()  # another connection sees it gone too: it was committed
    assert again.get("gone") is None and again.find(("gone" * 64)[:64]) is None


def test_concurrent_readers_from_several_threads(open_store: Opener) -> None:
    store = open_store()
    write(store, n=20_000)
    results: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(3):
                assert store.get("sess-a") is not None
                results.append(sum(r.seq for r in store.readings("sess-a")))
        except BaseException as err:  # noqa: BLE001 — reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert results == [sum(range(20_000))] * 12


def test_ingest_then_publish_then_reingest_end_to_end(open_store: Opener) -> None:
    from hrviz.adapters.queue.local import LocalQueue

    store = open_store()
    with DEMO.open("rb") as f:
        (first,) = ingest(f, str(DEMO), store)
    assert [b.session_id for b in store.unpublished()] == [first.id]
    report = publish_pending(store, LocalQueue(store))
    assert report.published == [first.id] and report.failed is None and store.unpublished() == []
    with DEMO.open("rb") as f:
        (again,) = ingest(f, str(DEMO), open_store())
    assert again.existing and again.id == first.id
    assert len(store.list_sessions()) == 1
    stored = list(store.readings(first.id))
    assert [r.seq for r in stored] == list(range(first.readings))
    assert sum(r.filled for r in stored) == first.filled


# -- MySQL only ----------------------------------------------------------------------------------


def test_mysql_creates_and_versions_its_schema_on_an_empty_database(mysql_url: str) -> None:
    import pymysql

    from hrviz.adapters.store.mysql import MysqlStore, parse_url
    from hrviz.adapters.store.mysql_schema import SCHEMA_VERSION, migrate

    MysqlStore(mysql_url).close()
    conn = pymysql.connect(**parse_url(mysql_url))
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        assert {r[0] for r in cur.fetchall()} == {
            "schema_version",
            "sessions",
            "readings",
            "anomalies",
            "session_summaries",
            "session_bpm_seconds",
        }
        cur.execute("SELECT version FROM schema_version")
        assert [r[0] for r in cur.fetchall()] == list(range(1, SCHEMA_VERSION + 1))
        cur.execute("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        assert {r[0] for r in cur.fetchall()} == {"InnoDB"}
    assert migrate(conn) == 0  # already current: nothing re-applied
    conn.close()


def test_mysql_reconnects_after_the_server_closed_the_connection(mysql_url: str) -> None:
    import pymysql

    from hrviz.adapters.store.mysql import MysqlStore, parse_url

    store = MysqlStore(mysql_url)
    write(store, n=10)
    (conn_id,) = store._query("SELECT CONNECTION_ID()")[0]
    admin = pymysql.connect(**parse_url(mysql_url), autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"KILL CONNECTION {int(conn_id)}")  # what the idle timeout does
    admin.close()
    assert [s.id for s in store.list_sessions()] == ["sess-a"]
    assert store._query("SELECT CONNECTION_ID()")[0][0] != conn_id
    store.close()


def test_mysql_unreachable_is_one_clear_error_within_seconds() -> None:
    from hrviz.adapters.store.mysql import MysqlStore

    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        MysqlStore("mysql://hrviz:secret@127.0.0.1:1/hrviz")
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "MySQL server at 127.0.0.1:1" in message and "unreachable" in message
    assert "secret" not in message and "\n" not in message


def test_mysql_wrong_password_is_reported_as_such(mysql_url: str) -> None:
    from hrviz.adapters.store.mysql import MysqlStore

    bad = mysql_url.replace(":hrviz-pw@", ":wrong@")
    with pytest.raises(BackendUnavailable, match="refused the login"):
        MysqlStore(bad)


def test_mysql_without_local_infile_falls_back_to_multirow_inserts(mysql_url: str) -> None:
    from hrviz.adapters.store.mysql import MysqlStore

    store = MysqlStore(mysql_url)
    assert store.load_data  # the test server allows LOCAL INFILE: the fast path is the default
    store.load_data = False  # what a server with local_infile=0 gets
    write(store, n=7_000, sid="sess-ins")
    assert list(store.readings("sess-ins")) == make_readings(7_000)
    store.close()


def test_a_failed_batch_fails_the_session_and_leaves_nothing(mysql_url: str) -> None:
    """LOAD DATA LOCAL turns duplicate keys into warnings: the writer must notice and refuse."""
    from hrviz.adapters.store.mysql import MysqlStore

    store = MysqlStore(mysql_url)
    session = make_session("sess-bad", 3_000)
    writer = store.begin(session)
    with pytest.raises(BackendUnavailable, match="loaded 500 of 1000 readings"):
        try:
            writer.add_readings(ReadingBatch.of(make_readings(2_000)))
            writer.add_readings(ReadingBatch.of(make_readings(1_000, start_seq=1_500)))  # seqs 1,500..1,999 again
            writer.commit(session)
        except BaseException:
            writer.abort()
            raise
    assert store.get("sess-bad") is None and list(store.readings("sess-bad")) == []
    write(store, n=3_000, sid="sess-bad")
    assert sum(1 for _ in store.readings("sess-bad")) == 3_000
    store.close()


def test_mysql_position_is_the_first_recorded_one(mysql_url: str) -> None:
    from hrviz.adapters.store.mysql import MysqlStore

    store = MysqlStore(mysql_url)
    write(store, n=10, sid="sess-pos")
    assert store.position("sess-pos") is None and store.position("nope") is None
    store.mark_published("sess-pos", 4, QueuePosition(5, 77))
    store.mark_published("sess-pos", 9, QueuePosition(5, 90))
    assert store.position("sess-pos") == QueuePosition(5, 77)
    store.close()
