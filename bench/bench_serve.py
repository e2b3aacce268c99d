"""Benchmark ``hrviz serve``: fan-out lateness, server CPU / RSS, and upload-to-first-point time.

    python bench/bench_serve.py fanout [--backend embedded|kafka] [--sessions 200] [--viewers 5] [--speed 1]
    python bench/bench_serve.py first-point [--backend embedded|kafka] [--rows 100000] [--runs 3]
    python bench/bench_serve.py all --out bench/results/serve.md

Fan-out: ``--sessions`` distinct sessions are ingested, then ``hrviz serve`` runs in a subprocess
and ``--viewers`` viewers per session connect from client subprocesses (websockets' asyncio
client) and replay at ``--speed``. Per-tick lateness is measured by each viewer against its own
schedule: reading k is due at ``anchor + k / speed``, the anchor being the viewer's best-delivered
tick after the first, so the number says how far the server's pacing drifts under load (the first
reading's latency, from the replay request, is reported apart). Server CPU is the
process's user+system time over the measured window divided by wall time (cores); RSS is polled.

First point: a file of ``--rows`` rows (bench/generate.py) is uploaded the way the page does it
(256 KiB base64 chunks, each acknowledged) to a fresh server and store, and the time from the first
byte sent to the first ``reading`` received is taken. The backend ``kafka`` means MySQL + Kafka
(``HRVIZ_BENCH_MYSQL`` / ``HRVIZ_BENCH_KAFKA``, defaults: the scripts/services.sh servers).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MYSQL = os.environ.get("HRVIZ_BENCH_MYSQL", "mysql://hrviz:hrviz-pw@127.0.0.1:3306/hrviz")
KAFKA = os.environ.get("HRVIZ_BENCH_KAFKA", "127.0.0.1:9092")
# the hrviz tree whose ``ingest`` and ``serve`` are measured (--tree: e.g. ``git archive <base> | tar -x -C DIR``,
# to compare a change with the tree before it side by side); the bench itself always runs from this one
TREE = ROOT
# ``python -m hrviz``, or a script run in its place with the same arguments (--server-wrapper: e.g. a
# profiler's or a stall recorder's entry point that imports and runs ``hrviz.cli.app``)
SERVER_ENTRY: list[str] = ["-m", "hrviz"]
CHUNK = 256 * 1024
BURST_SECONDS = 5.0  # the fan-out's start: 1,000 viewers connecting and 200 hubs opening


# -- helpers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _server_sql(statement: str) -> None:
    """Run one statement on the bench MySQL server, outside any database."""
    import pymysql

    from hrviz.adapters.store.mysql import parse_url

    args = parse_url(MYSQL)
    args.pop("database")
    conn = pymysql.connect(**args, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def fresh_mysql() -> tuple[str, str]:
    """A new database on the bench MySQL server; returns (url, name)."""
    name = f"hrviz_test_bench_{uuid.uuid4().hex[:8]}"  # the app user may create hrviz_test_* databases
    _server_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return MYSQL.rsplit("/", 1)[0] + "/" + name, name


def drop_mysql(name: str) -> None:
    _server_sql(f"DROP DATABASE IF EXISTS `{name}`")


class Backend:
    """Where a server keeps its data: a fresh SQLite file, or a fresh MySQL db + Kafka topic."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
        if TREE != ROOT:  # ``-m hrviz`` from the cwd (TREE) comes before the installed one
            self.env["PYTHONPATH"] = str(TREE)
        self._db_name: str | None = None
        if kind == "embedded":
            self.flags = ["--db", str(tmp / f"bench-{uuid.uuid4().hex[:6]}.sqlite3")]
        else:
            url, self._db_name = fresh_mysql()
            self.flags = ["--mysql", url, "--kafka", KAFKA]
            self.env["HRVIZ_KAFKA_TOPIC"] = f"hrviz.bench.{uuid.uuid4().hex[:10]}"

    def close(self) -> None:
        if self._db_name:
            drop_mysql(self._db_name)
        topic = self.env.get("HRVIZ_KAFKA_TOPIC")
        if topic:  # a topic left per run grew the shared broker's metadata (771 topics), which every probe reads
            from confluent_kafka.admin import AdminClient

            admin = AdminClient({"bootstrap.servers": KAFKA, "log_level": 0})  # kept: its futures need it alive
            with contextlib.suppress(Exception):
                admin.delete_topics([topic])[topic].result(10)


class Server:
    def __init__(self, backend: Backend, log: Path) -> None:
        self.port = free_port()
        cmd = [sys.executable, *SERVER_ENTRY, "serve", "--port", str(self.port), "--max-upload-mb", "500"]
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen([*cmd, *backend.flags], stdout=out, stderr=out, env=backend.env, cwd=TREE)
        end = time.monotonic() + 60
        while not re.search(r"serving http://", log.read_text(errors="replace")):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"hrviz serve did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        self.ps = psutil.Process(self.proc.pid)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- fan-out ---------------------------------------------------------------------------------------


def make_sessions(n: int, rows: int, folder: Path) -> list[Path]:
    """``n`` distinct files from bench/generate.py (through its command line, a stable contract)."""
    sys.path.insert(0, str(HERE))
    import generate

    files = []
    for i in range(n):
        path = folder / f"s{i:03d}.csv"
        with contextlib.redirect_stderr(io.StringIO()):
            generate.main(["--rows", str(rows), "--seed", str(1000 + i), "--out", str(path)])
        files.append(path)
    return files


def ingest_all(files: list[Path], backend: Backend) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "hrviz", "ingest", *map(str, files), *backend.flags, "--json"],
        capture_output=True, text=True, env=backend.env, cwd=TREE, check=True,
    )  # fmt: skip
    return [s["id"] for s in json.loads(done.stdout)["sessions"]]


async def viewer(url: str, sid: str, speed: float, seconds: float, out: dict[str, Any]) -> None:
    from websockets.asyncio.client import connect

    arrivals: list[tuple[int, float]] = []
    dialed = time.monotonic()
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.recv()  # hello
        asked = time.monotonic()
        out["connect"].append(asked - dialed)  # the TCP connect, the handshake and the hello
        await ws.send(json.dumps({"type": "replay", "session_id": sid, "speed": speed}))
        # one timeout for the whole run, and no JSON parsing: the client must stay cheaper than
        # the server, or the bench measures its own backlog
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for raw in ws:
                    if isinstance(raw, str) and raw.startswith('{"type":"reading","seq":'):
                        arrivals.append((int(raw[24 : raw.index(",", 24)]), time.monotonic()))
    if not arrivals:
        out["errors"] += 1
        return
    seq0, t0 = arrivals[0]
    out["first"].append(t0 - asked)
    # the viewer's schedule: anchored on its best-delivered reading, so lateness is >= 0 and is
    # what a person sees as irregular ticks (the first reading's own latency is reported apart)
    ticks = arrivals[1:] or arrivals  # the first reading's delay is the "first" figure, not a tick's
    anchor = min(t - (seq - seq0) / speed for seq, t in ticks)
    late = [(t - (anchor + (seq - seq0) / speed)) * 1000 for seq, t in ticks]
    out["late"].extend(late)
    # ticks once every viewer is connected (the first 3 s overlap the handshakes' ramp)
    out["late_steady"].extend(x for (seq, _), x in zip(ticks, late, strict=True) if (seq - seq0) / speed >= 3)
    if os.environ.get("HRVIZ_BENCH_DEBUG"):
        print([round(x) for x in late], file=sys.stderr)
    out["readings"] += len(arrivals)
    expected = int(seconds * speed) - 2
    if len(arrivals) < expected:
        out["short"] += 1


async def client_main(url: str, sids: list[str], speed: float, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"late": [], "late_steady": [], "first": [], "connect": [], "readings": 0, "errors": 0}
    out["short"] = 0
    tasks = []
    for sid in sids:
        tasks.append(asyncio.create_task(viewer(url, sid, speed, seconds, out)))
        await asyncio.sleep(0.002)  # a ramp, not a thundering herd of handshakes
    results = await asyncio.gather(*tasks, return_exceptions=True)
    out["errors"] += sum(1 for r in results if isinstance(r, BaseException))
    return out


def fanout(backend_kind: str, sessions: int, per: int, speed: float, seconds: float, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hrviz-bench-") as tmp_name:
        tmp = Path(tmp_name)
        backend = Backend(backend_kind, tmp)
        try:
            rows = int(seconds * speed) + 60
            files = make_sessions(sessions, rows, tmp)
            sids = ingest_all(files, backend)
            server = Server(backend, tmp / "serve.log")
            try:
                viewers = [sid for sid in sids for _ in range(per)]
                shares = [viewers[i::clients] for i in range(clients)]
                cpu0, wall0 = server.ps.cpu_times(), time.monotonic()
                procs, outs = [], []
                for i, share in enumerate(shares):
                    outs.append(tmp / f"client{i}.json")  # a file, not a pipe: results are large
                    args = [sys.executable, __file__, "_client", str(outs[-1]), server.url, str(speed), str(seconds)]
                    procs.append(subprocess.Popen([*args, *share], cwd=ROOT))
                rss = 0.0
                client_cpu = 0.0
                burst_cpu = float("nan")  # the server's CPU seconds in the first BURST_SECONDS (the connects)
                watched = [psutil.Process(p.pid) for p in procs]
                while any(p.poll() is None for p in procs):
                    rss = max(rss, server.ps.memory_info().rss / 2**20)
                    if burst_cpu != burst_cpu and time.monotonic() - wall0 >= BURST_SECONDS:
                        burst_cpu = sum(server.ps.cpu_times()[:2]) - cpu0.user - cpu0.system
                    with contextlib.suppress(psutil.Error):
                        client_cpu = sum(sum(w.cpu_times()[:2]) for w in watched)
                    time.sleep(0.2)
                cpu1, wall1 = server.ps.cpu_times(), time.monotonic()
                parts = [json.loads(path.read_text()) for path in outs]
            finally:
                server.stop()
            pacing = re.findall(r"pacing: .*?max [\d.]+ ms", server.log.read_text(errors="replace"))
        finally:
            backend.close()
    late = [x for p in parts for x in p["late"]]
    steady = [x for p in parts for x in p["late_steady"]]
    first = [x for p in parts for x in p["first"]]
    connected = [x for p in parts for x in p["connect"]]
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (wall1 - wall0)
    return {
        "backend": backend_kind, "sessions": sessions, "viewers": len(sids) * per, "speed": speed,
        "seconds": seconds, "readings": sum(p["readings"] for p in parts), "errors": sum(p["errors"] for p in parts),
        "short": sum(p["short"] for p in parts), "late_p50_ms": pct(late, 0.5), "late_p99_ms": pct(late, 0.99),
        "late_max_ms": max(late, default=float("nan")),
        "steady_p50_ms": pct(steady, 0.5), "steady_p99_ms": pct(steady, 0.99), "first_p50_ms": pct(first, 0.5) * 1000,
        "first_p99_ms": pct(first, 0.99) * 1000, "connect_p50_ms": pct(connected, 0.5) * 1000,
        "connect_p99_ms": pct(connected, 0.99) * 1000, "cpu_cores": cpu, "burst_cpu_s": burst_cpu, "rss_mb": rss,
        "client_cpu_cores": client_cpu / (wall1 - wall0), "load_avg_1m": os.getloadavg()[0],
        "server_pacing": pacing[-1] if pacing else None,
    }  # fmt: skip


# -- first point -----------------------------------------------------------------------------------


async def upload_to_first_point(url: str, path: Path) -> dict[str, float]:
    from websockets.asyncio.client import connect

    data = path.read_bytes()
    async with connect(url, max_size=None) as ws:
        await ws.recv()
        t0 = time.monotonic()
        await ws.send(json.dumps({"type": "upload", "name": path.name, "size": len(data)}))
        marks: dict[str, float] = {}
        for i in range(0, len(data), CHUNK):
            await ws.send(json.dumps({"type": "chunk", "data": base64.b64encode(data[i : i + CHUNK]).decode()}))
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "error":
                    raise RuntimeError(msg["message"])
                if msg["type"] == "progress" and msg["phase"] == "upload" and msg["done"] >= min(i + CHUNK, len(data)):
                    break
        marks["uploaded"] = time.monotonic() - t0
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == "error":
                raise RuntimeError(msg["message"])
            if msg["type"] == "uploaded":
                marks["ingested"] = time.monotonic() - t0
            if msg["type"] == "reading":
                marks["first_point"] = time.monotonic() - t0
                return marks


def first_point(backend_kind: str, rows: int, runs: int) -> dict[str, Any]:
    data_dir = HERE / "data"
    data_dir.mkdir(exist_ok=True)
    path = data_dir / f"hr_{rows // 1000}k.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--rows", str(rows), "--out", str(path)], check=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="hrviz-bench-") as tmp_name:
        for _ in range(runs):
            backend = Backend(backend_kind, Path(tmp_name))
            server = Server(backend, Path(tmp_name) / "serve.log")
            try:
                results.append(asyncio.run(upload_to_first_point(server.url, path)))
            finally:
                server.stop()
                backend.close()
    med = {k: statistics.median(r[k] for r in results) * 1000 for k in results[0]}
    return {"backend": backend_kind, "rows": rows, "bytes": path.stat().st_size, "runs": runs, **med}


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric figure's median over the runs (the runs themselves are kept under "runs")."""
    first = runs[0]
    med: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            med[key] = statistics.median(r[key] for r in runs)
        else:
            med[key] = value
    med["runs"] = len(runs)
    med["server_pacing"] = [r.get("server_pacing") for r in runs]
    return med


# -- report ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_client":
        dest, url, speed, seconds, *sids = argv[1:]
        Path(dest).write_text(json.dumps(asyncio.run(client_main(url, sids, float(speed), float(seconds)))))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["fanout", "first-point", "all"])
    p.add_argument("--backend", choices=["embedded", "kafka"], action="append")
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--viewers", type=int, default=5, help="viewers per session")
    p.add_argument("--speed", type=float, action="append", help="replay speed(s) for fan-out (default 1)")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--clients", type=int, default=2, help="client processes")
    p.add_argument("--repeat", type=int, default=1, help="fan-out runs per setting (medians are reported)")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json-out", type=Path)
    p.add_argument("--tree", type=Path, help="run ingest and serve from this hrviz tree (default: this one)")
    p.add_argument("--server-wrapper", type=Path, help="a script run instead of `-m hrviz` for serve")
    a = p.parse_args(argv)
    global TREE, SERVER_ENTRY
    if a.tree:
        TREE = a.tree.resolve()
    if a.server_wrapper:
        SERVER_ENTRY = [str(a.server_wrapper.resolve())]
    backends = a.backend or ["embedded", "kafka"]
    out: list[dict[str, Any]] = []
    if a.what in ("fanout", "all"):
        for backend in backends:
            for speed in a.speed or [1.0]:
                runs = []
                for _ in range(a.repeat):
                    runs.append(fanout(backend, a.sessions, a.viewers, speed, a.seconds, a.clients))
                    print(json.dumps(runs[-1]), flush=True)
                r = median_of(runs)
                print(json.dumps(r), flush=True)
                out.append(r)
    if a.what in ("first-point", "all"):
        for backend in backends:
            r = first_point(backend, a.rows, a.runs)
            print(json.dumps(r), flush=True)
            out.append(r)
    if a.json_out:
        a.json_out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
