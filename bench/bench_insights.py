"""Insights speed (issue #13): ``report`` of a 1M-reading session and trends over 10,000 sessions,
from the summaries stored at ingest vs the same figures computed naively from the raw readings,
on the embedded SQLite store and on MariaDB, measured side by side; plus what computing the
summary costs ``hrviz ingest`` (this tree vs one without it, interleaved).

    python bench/bench_insights.py [--runs 5] [--sessions 10000] [--mysql URL] [--compare-tree DIR --csv FILE]

Target: report and trends each < 1 s on both stores. Results: bench/results/insights.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hrviz.adapters.store.mysql import MysqlStore, parse_url  # noqa: E402
from hrviz.adapters.store.mysql_listing import SESSION_COLUMNS as MYSQL_COLUMNS  # noqa: E402
from hrviz.adapters.store.rows import session_row  # noqa: E402
from hrviz.adapters.store.sqlite import SESSION_COLUMNS, SqliteStore, block_row  # noqa: E402
from hrviz.adapters.store.summaries import bin_params, insert_sql, summary_params  # noqa: E402
from hrviz.adapters.store.summaries_mixins import sqlite_write  # noqa: E402
from hrviz.core.insights import SummaryBuilder, from_store, profile  # noqa: E402
from hrviz.core.insights.batch import fold_batch  # noqa: E402
from hrviz.core.insights.stored import stored  # noqa: E402
from hrviz.core.insights.zones import bounds  # noqa: E402
from hrviz.core.model import ReadingBatch, Session, Stats  # noqa: E402

EDGES = tuple(low for low, _ in bounds(profile(190), None))
T0 = 1_600_000_000.0


def batches(n: int, sid_seed: int, start: float, size: int = 5000) -> list[ReadingBatch]:
    """A 1 Hz random walk between 45 and 185 bpm, one filled reading in 500."""
    rng = random.Random(sid_seed)
    out, bpm = [], 70.0
    for first in range(0, n, size):
        b = ReadingBatch(first)
        for i in range(first, min(n, first + size)):
            bpm = min(185.0, max(45.0, bpm + rng.choice((-1.0, 0.0, 1.0))))
            b.ts.append(start + i)
            b.bpm.append(bpm)
            if rng.random() < 0.002:
                b.marks[i - first] = (True, ())
        out.append(b)
    return out


def session_of(sid: str, parts: list[ReadingBatch]) -> Session:
    s = Session(sid, f"bench-{sid}.csv", None, uuid.uuid4().hex + uuid.uuid4().hex)
    stats, builder = Stats(), SummaryBuilder(190)
    for b in parts:
        stats.add_batch(b)
        fold_batch(builder, b)
        s.readings += len(b)
        s.filled += b.filled
    s.rows, s.start, s.end, s.stats = s.readings, parts[0].ts[0], parts[-1].ts[-1], stats
    s.summary = stored(s, builder.finish(), 190.0)
    return s


def store_big(store: Any, n: int) -> str:
    """The 1M-reading session, written through the store's own writer (as ingest does)."""
    parts = batches(n, 1, T0)
    session = session_of("big000000000", parts)
    writer = store.begin(session)
    for b in parts:
        writer.add_readings(b)
    writer.commit(session)
    return session.id


def fill_many_sqlite(store: SqliteStore, count: int, per: int) -> None:
    db = store._db
    db.execute("BEGIN IMMEDIATE")
    for k in range(count):
        parts = batches(per, 1000 + k, T0 + (k // 10) * 86400 + (k % 10) * 3600, size=per)
        s = session_of(f"s{k:011d}", parts)
        db.execute(f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({', '.join('?' * 15)})", session_row(s))
        db.execute("INSERT INTO reading_blocks VALUES (?, ?, ?, ?, ?)", block_row(s.id, parts[0]))
        sqlite_write(db, s.summary)
    db.execute("COMMIT")


def fill_many_mysql(store: MysqlStore, count: int, per: int, tmp: Path) -> None:
    conn = store.connect(autocommit=False)
    tsv = tmp / "many.tsv"
    sessions, summaries, bins = [], [], []
    with tsv.open("w", encoding="ascii") as f:
        for k in range(count):
            parts = batches(per, 1000 + k, T0 + (k // 10) * 86400 + (k % 10) * 3600, size=per)
            s = session_of(f"s{k:011d}", parts)
            sessions.append(session_row(s))
            assert s.summary is not None
            summaries.append(summary_params(s.summary))
            bins += bin_params(s.summary)
            for r in parts[0]:
                f.write(f"{s.id}\t{r.seq}\t{r.ts!r}\t{r.bpm!r}\t{int(r.filled)}\t{','.join(r.kinds)}\n")
    summary_sql, bins_sql = insert_sql("%s")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO sessions ({MYSQL_COLUMNS}) VALUES ({', '.join(['%s'] * 15)})", sessions)
        cur.execute(
            "LOAD DATA LOCAL INFILE %s INTO TABLE readings CHARACTER SET ascii FIELDS TERMINATED BY '\\t' "
            "ESCAPED BY '' LINES TERMINATED BY '\\n' (session_id, seq, ts, bpm, filled, kinds)",
            (str(tsv),),
        )
        cur.executemany(summary_sql, summaries)
        for i in range(0, len(bins), 50_000):
            cur.executemany(bins_sql, bins[i : i + 50_000])
    conn.commit()
    store.release(conn)


def zone_case(column: str, mark: str = "") -> str:
    e = EDGES
    cases = [f"SUM(CASE WHEN {column} >= {e[i]} AND {column} < {e[i + 1]} THEN 1 ELSE 0 END)" for i in range(4)]
    return ", ".join([*cases, f"SUM(CASE WHEN {column} >= {e[4]} THEN 1 ELSE 0 END)"])


def naive_report_sql(store: Any, sid: str, mysql: bool) -> list[Any]:
    """What a report needs that SQL can say directly, over the raw readings (1 s each)."""
    mark = "%s" if mysql else "?"
    sql = (
        f"SELECT COUNT(*), MIN(bpm), AVG(bpm), MAX(bpm), {zone_case('bpm')} "
        f"FROM readings WHERE session_id = {mark} AND filled = 0"
    )
    return store._query(sql, (sid,)) if mysql else store._db.execute(sql, (sid,)).fetchall()


def naive_trends_sql(store: Any, mysql: bool) -> list[Any]:
    day = "DATE(FROM_UNIXTIME(s.start_ts))" if mysql else "date(s.start_ts, 'unixepoch')"
    sql = (
        f"SELECT {day} AS day, COUNT(DISTINCT s.id), MIN(r.bpm), MAX(r.bpm), {zone_case('r.bpm')} "
        "FROM readings r JOIN sessions s ON s.id = r.session_id WHERE r.filled = 0 GROUP BY day ORDER BY day"
    )
    return store._query(sql) if mysql else store._db.execute(sql).fetchall()


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_store(name: str, store: Any, args: argparse.Namespace, tmp: Path) -> dict[str, list[float]]:
    mysql = name == "mariadb"
    t = time.perf_counter()
    big = store_big(store, args.readings)
    print(f"[{name}] stored the {args.readings:,}-reading session in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    if mysql:
        fill_many_mysql(store, args.sessions, args.per, tmp)
    else:
        fill_many_sqlite(store, args.sessions, args.per)
    print(f"[{name}] stored {args.sessions:,} sessions in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    p = profile(190)
    cases: dict[str, Callable[[], object]] = {
        "report (stored summary)": lambda: from_store(store, big, p, store).as_dict(),  # type: ignore[union-attr]
        "report naive: recompute from the readings": lambda: from_store(store, big, p).as_dict(),  # type: ignore[union-attr]
        "report naive: one SQL aggregate over the readings": lambda: naive_report_sql(store, big, mysql),
        "trends (SQL over summaries)": lambda: store.trends(EDGES),
        "trends naive: SQL over the readings": lambda: naive_trends_sql(store, mysql),
    }
    results: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.runs):  # interleaved: each round runs every case once
        for k, fn in cases.items():
            results[k] += timed(fn, 1)
    fast, slow = from_store(store, big, p, store), from_store(store, big, p)
    assert fast is not None and slow is not None and fast.as_dict() == slow.as_dict()
    assert len(store.trends(EDGES)) == -(-args.sessions // 10)  # ten a day; the big one shares day 0
    return results


def ingest_ab(csv: Path, other: Path, runs: int) -> dict[str, list[tuple[float, float]]]:
    """``hrviz ingest`` of ``csv`` by this tree and by ``other``, interleaved: (wall, CPU) per run."""
    trees = {"with summary (this tree)": HERE.parent, "without (compare tree)": other}
    out: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
    env0 = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    for _ in range(runs):
        for name, tree in trees.items():
            with tempfile.TemporaryDirectory() as tmp:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "hrviz", "ingest", str(csv), "--db", f"{tmp}/h.db", "--json"],
                    check=True, capture_output=True, env=env0 | {"PYTHONPATH": str(tree)}, cwd=tmp,
                )  # fmt: skip
                wall = time.perf_counter() - t
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                out[name].append((wall, cpu))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--per", type=int, default=300, help="readings per session of the many (default 300)")
    parser.add_argument("--mysql", default=os.environ.get("HRVIZ_TEST_MYSQL_URL"))
    parser.add_argument("--stores", default="sqlite,mariadb")
    parser.add_argument("--compare-tree", type=Path, help="a checkout without the ingest-time summary")
    parser.add_argument("--csv", type=Path, help="the CSV for the ingest A/B (bench/generate.py --rows 1000000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name in [n for n in args.stores.split(",") if n]:
            if name == "sqlite":
                store: Any = SqliteStore(tmp / "bench.sqlite3")
                dbname = None
            else:
                import pymysql

                base = parse_url(args.mysql)
                dbname = f"hrviz_test_bench_{uuid.uuid4().hex[:8]}"
                base.pop("database")
                admin = pymysql.connect(**base, autocommit=True)
                with admin.cursor() as cur:
                    cur.execute(f"CREATE DATABASE `{dbname}`")
                store = MysqlStore(args.mysql.rsplit("/", 1)[0] + "/" + dbname)
            try:
                results = bench_store(name, store, args, tmp)
            finally:
                store.close()
                if dbname:
                    with admin.cursor() as cur:
                        cur.execute(f"DROP DATABASE `{dbname}`")
                    admin.close()
            print(f"\n{name}: median of {args.runs} (min–max), seconds")
            for k, v in results.items():
                print(f"  {k:<52} {statistics.median(v):8.3f}  ({min(v):.3f}–{max(v):.3f})")
    if args.compare_tree and args.csv:
        ab = ingest_ab(args.csv.resolve(), args.compare_tree.resolve(), args.runs)
        print(f"\nhrviz ingest {args.csv.name}: median of {args.runs}, interleaved")
        for k, v in ab.items():
            wall, cpu = statistics.median(w for w, _ in v), statistics.median(c for _, c in v)
            print(f"  {k:<28} wall {wall:6.2f} s   CPU {cpu:6.2f} s   runs {[f'{w:.2f}' for w, _ in v]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
