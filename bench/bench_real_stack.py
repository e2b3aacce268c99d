"""Benchmark ``hrviz ingest --mysql --kafka`` on a 1,000,000-row 1 Hz CSV against the raw tools.

    .venv/bin/python bench/bench_real_stack.py [--runs 3] [--csv bench/data/hr_1m.csv]

Per run, on the servers of ``scripts/services.sh`` (a fresh database and topic each time):

1. ``hrviz ingest CSV --mysql URL --kafka BOOTSTRAP``: wall time and peak RSS (psutil, the
   process and its children, sampled every 20 ms). That is parse + detect + store (one
   transaction) + publish (read back from the store, acks=all, idempotent) + outbox marks.
2. The floor the same work has with the servers' own bulk paths: ``LOAD DATA LOCAL INFILE`` of
   the same readings (a TSV prepared beforehand, untimed) into the same ``readings`` table with
   the ``mariadb`` client, then Debian's ``kcat -P`` producing the same JSON records (prepared
   beforehand, keyed by session) to the same topic with the same producer settings.

Reports rows/s, the ratio hrviz / (LOAD DATA + kcat) (target ≤ 1.3, issue #8) and peak RSS, per
run and as medians. Also the CPU seconds each side costs — the command and its children
(``getrusage``) plus what MariaDB and the Kafka broker spent meanwhile (psutil, the processes
listening on the two ports) — because on a shared machine CPU time moves far less with the load
than wall time does, and on 2 cores it bounds how close to the floor hrviz can get. ``--compare-tree DIR`` also times the same command from another checkout of
hrviz (a ``git archive`` of an older commit) in each run, in its own database and topic. The CSV
is ``bench/generate.py``'s (generated if missing).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hrviz.adapters.queue.records import RecordEncoder  # noqa: E402
from hrviz.adapters.store.mysql import MysqlStore, parse_url  # noqa: E402

PRODUCER_FLAGS = [  # what KafkaQueue uses, so kcat does the same work per record
    "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=25", "-X", "batch.size=1000000",
    "-X", "batch.num.messages=20000", "-X", "compression.type=lz4", "-X", "partitioner=murmur2_random",
]  # fmt: skip


def peak_rss(proc: subprocess.Popen[Any], box: list[int]) -> None:
    """Sample the RSS of ``proc`` and its children until it exits; the maximum goes to box[0]."""
    try:
        p = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        return
    while proc.poll() is None:
        try:
            rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
        except psutil.Error:
            rss = 0
        box[0] = max(box[0], rss)
        time.sleep(0.02)


SERVERS: list[psutil.Process] = []  # MariaDB and the broker, found by the ports they listen on (main)


def server_processes(ports: set[int]) -> list[psutil.Process]:
    pids = {c.pid for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port in ports and c.pid}
    return [psutil.Process(pid) for pid in sorted(pids)]


def cpu_seconds() -> dict[str, float]:
    """CPU seconds so far: "client" (this process's waited-for children and their descendants), "mysql", "kafka"."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = {"client": children.ru_utime + children.ru_stime, "mysql": 0.0, "kafka": 0.0}
    for p in SERVERS:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            seconds["mysql" if "maria" in p.name() or "mysql" in p.name() else "kafka"] += t.user + t.system
    return seconds


CPU: dict[str, float] = {}  # the last timed() command's CPU seconds: "client", "mysql", "kafka"


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of one command (its CPU seconds in CPU); raises if it fails."""
    box = [0]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watcher = threading.Thread(target=peak_rss, args=(proc, box))
    watcher.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds()
    CPU.update({k: cpu_after[k] - cpu_before[k] for k in cpu_after})
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return wall, box[0], out


def admin_sql(base_url: str, statement: str) -> None:
    import pymysql

    args = parse_url(base_url)
    args.pop("database")
    conn = pymysql.connect(**args, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


def prepare_baseline_files(url: str, session_id: str, tz: int | None, work: Path) -> tuple[Path, Path, int]:
    """The stored readings as a TSV for LOAD DATA and as ``key<TAB>json`` lines for kcat (untimed)."""
    store = MysqlStore(url)
    encoder = RecordEncoder("baseline", tz)
    tsv, records = work / "readings.tsv", work / "records.txt"
    n = 0
    with tsv.open("w") as t, records.open("w") as k:
        for r in store.readings(session_id):
            t.write(f"baseline\t{r.seq}\t{r.ts!r}\t{r.bpm!r}\t{1 if r.filled else 0}\t{','.join(r.kinds)}\n")
            k.write(f"baseline\t{encoder.encode(r)}\n")
            n += 1
    store.close()
    return tsv, records, n


def other_tree(csv: Path, base_url: str, bootstrap: str, tree: Path) -> float:
    """Wall time of the same command run from another checkout of hrviz (an older commit, say), in a
    database and topic of its own: how much a change helped, measured in the same run."""
    tag = uuid.uuid4().hex[:8]
    db, topic = f"hrviz_test_bench_{tag}", f"hrviz.bench.{tag}"
    admin_sql(base_url, f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4")
    url = base_url.rsplit("/", 1)[0] + f"/{db}"
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
        env |= {"HRVIZ_KAFKA_TOPIC": topic, "PYTHONPATH": str(tree)}
        cmd = [sys.executable, "-m", "hrviz", "ingest", str(csv), "--mysql", url, "--kafka", bootstrap, "--json"]
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{tree}: hrviz ingest failed: {done.stderr[-2000:]}")
        return wall
    finally:
        admin_sql(base_url, f"DROP DATABASE IF EXISTS `{db}`")
        _delete_topic(bootstrap, topic)


def one_run(csv: Path, base_url: str, bootstrap: str, work: Path, compare: Path | None = None) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    db, topic = f"hrviz_test_bench_{tag}", f"hrviz.bench.{tag}"
    admin_sql(base_url, f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4")
    url = base_url.rsplit("/", 1)[0] + f"/{db}"
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | {"HRVIZ_KAFKA_TOPIC": topic}
        cmd = [sys.executable, "-m", "hrviz", "ingest", str(csv), "--mysql", url, "--kafka", bootstrap, "--json"]
        wall, rss, out = timed(cmd, env)
        cpu = dict(CPU)
        (session,) = json.loads(out)["sessions"]
        tsv, records, n = prepare_baseline_files(url, session["id"], _tz(url, session["id"]), work)
        assert n == session["readings"], (n, session["readings"])
        a = parse_url(url)
        load_cmd = [
            "mariadb", "--no-defaults", "--local-infile=1", "--protocol=tcp", f"-h{a['host']}", f"-P{a['port']}",
            f"-u{a['user']}", f"-p{a['password']}", db, "-e",
            f"LOAD DATA LOCAL INFILE '{tsv}' INTO TABLE readings CHARACTER SET ascii "
            "(session_id, seq, ts, bpm, filled, kinds)",
        ]  # fmt: skip
        load_wall, _, _ = timed(load_cmd)
        floor_cpu = dict(CPU)
        kcat_cmd = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-l", *PRODUCER_FLAGS, str(records)]
        kcat_wall, kcat_rss, _ = timed(kcat_cmd)
        floor_cpu = {k: floor_cpu[k] + CPU[k] for k in CPU}
    finally:
        admin_sql(base_url, f"DROP DATABASE IF EXISTS `{db}`")
        _delete_topic(bootstrap, topic)
    floor = load_wall + kcat_wall
    other = {}
    if compare is not None:
        other_s = other_tree(csv, base_url, bootstrap, compare)
        other = {"other_tree_s": round(other_s, 2), "other_tree_ratio": round(other_s / floor, 2)}
    return {
        "readings": n,
        "hrviz_s": round(wall, 2),
        "hrviz_rows_per_s": round(n / wall),
        "hrviz_peak_rss_mb": round(rss / 2**20, 1),
        "load_data_s": round(load_wall, 2),
        "kcat_s": round(kcat_wall, 2),
        "kcat_peak_rss_mb": round(kcat_rss / 2**20, 1),
        "floor_s": round(floor, 2),
        "floor_rows_per_s": round(n / floor),
        "ratio": round(wall / floor, 2),
        **{f"hrviz_cpu_{k}_s": round(v, 2) for k, v in cpu.items()},
        **{f"floor_cpu_{k}_s": round(v, 2) for k, v in floor_cpu.items()},
        "cpu_ratio": round(sum(cpu.values()) / sum(floor_cpu.values()), 2),
        **other,
    }


def _tz(url: str, session_id: str) -> int | None:
    store = MysqlStore(url)
    session = store.get(session_id)
    store.close()
    return None if session is None else session.tz_offset_min


def _delete_topic(bootstrap: str, topic: str) -> None:
    from confluent_kafka.admin import AdminClient

    with contextlib.suppress(Exception):  # best effort cleanup
        AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).delete_topics([topic])[topic].result(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "bench" / "data" / "hr_1m.csv")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate when the CSV is missing")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--mysql", default=os.environ.get("HRVIZ_TEST_MYSQL_URL") or "mysql://hrviz:hrviz-pw@127.0.0.1:3306/hrviz_test"
    )
    parser.add_argument("--kafka", default=os.environ.get("HRVIZ_TEST_KAFKA_BOOTSTRAP") or "127.0.0.1:9092")
    parser.add_argument(
        "--compare-tree",
        type=Path,
        help="also time hrviz from this checkout (e.g. `git archive OLD | tar -x -C DIR`) in each run",
    )
    args = parser.parse_args(argv)
    for tool in ("mariadb", "kcat"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run bash scripts/install-system-deps.sh")
    for tree in filter(None, [ROOT, args.compare_tree]):
        # hrviz as pip installs it has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE=1 (this
        # machine's environment) compiles its ~150 modules from source in every run: ~50 ms of CPU in the command,
        # more in its reader process, that no installed hrviz spends (bench/results/fold_kernels.md, "Start-up")
        compileall.compile_dir(tree / "hrviz", quiet=1)
    if not args.csv.exists():
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        gen = [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", str(args.rows), "--out", str(args.csv)]
        subprocess.run(gen, check=True)
    ports = {int(parse_url(args.mysql)["port"]), int(args.kafka.rsplit(":", 1)[1])}
    SERVERS[:] = server_processes(ports)
    print(f"servers: {[(p.pid, p.name()) for p in SERVERS]}", file=sys.stderr)
    runs = []
    with tempfile.TemporaryDirectory(prefix="hrviz-bench-") as tmp:
        for i in range(args.runs):
            result = one_run(args.csv, args.mysql, args.kafka, Path(tmp), args.compare_tree)
            runs.append(result)
            print(f"run {i + 1}: {json.dumps(result)}", file=sys.stderr)
    keys = [k for k in runs[0] if k != "readings"]
    median = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    print(json.dumps({"csv": str(args.csv), "readings": runs[0]["readings"], "runs": runs, "median": median}, indent=1))
    print("\n| metric | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | median |")
    print("| --- |" + " --- |" * (len(runs) + 1))
    for k in keys:
        print(f"| {k} | " + " | ".join(str(r[k]) for r in runs) + f" | {median[k]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
