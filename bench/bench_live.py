"""Benchmark live input (issue #14): from a line written to a live session's input to the point on
the page (Chromium, timestamped in the page) and to the terminal line, p50 / p99, for 1, 50 and 500
concurrent live sessions at one reading a second, embedded and on MySQL + Kafka, in one run.

    python bench/bench_live.py [--sessions 1,50,500] [--seconds 30] [--stacks embedded,kafka]
                               [--mysql URL] [--kafka HOST:PORT] [--out bench/results/live.md]

Per configuration: a fresh store, ``hrviz serve`` as a subprocess, and a *driver* subprocess that
runs the N live sessions with hrviz's own live path — ``core.live.LiveIngest`` (line parsing,
``Detector.feed``, one small transaction per flush, each session its own) and, on Kafka, a
:class:`BatchPublisher` per driver thread that publishes like one ``hrviz ingest -`` per session
(the embedded stack: the outbox publisher thread of ``adapters/ingest/live.py``) — each session
writing one line a second at its own phase within the second, and noting the wall time just
before each line is handed over. What it does not include
is the hop through a pipe or a file (``hrviz ingest -`` reads each line within microseconds of its
arrival): 500 ``hrviz ingest`` processes do not fit in this machine's memory. The viewers:

* every session has one WebSocket client (a client subprocess, websockets' asyncio client) that
  opens it like the page does (``replay`` from 0: the history at once, then the live edge) and
  notes when each ``reading`` arrives;
* the newest session is also open in Chromium (Playwright): a MutationObserver on the page's reading counter
  (``#readings-shown``, whose ``data-last-seq`` the page sets in the animation frame that redraws
  the chart with the new point) notes ``performance.timeOrigin + performance.now()`` for each new
  last seq;
* the same session is also followed by ``hrviz watch --server URL --session ID --plain``, and the time
  each of its output lines is read from the pipe is noted (the terminal chart draws the same feed).

Latency = seen − written, in ms, over the measured window (after a 5 s warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
T0 = 1_800_000_000  # 2027-01-15: times in the lines (one a second)
WARMUP = 5.0
WORKERS = 8  # driver threads, each with its own connection, queue and publisher (see driver())
CHROMIUM = os.environ.get("HRVIZ_CHROMIUM", "/usr/bin/chromium")


def bpm_of(seq: int) -> int:
    return 60 + seq % 120  # unique per line over a run of under 2 minutes


# -- the driver: N live sessions in one process ------------------------------------------------


class BatchPublisher:
    """One worker's sessions on Kafka, published the way their own ``hrviz ingest -`` processes
    would, side by side: each pass produces every new reading committed since the last pass, of
    whichever session, then waits once for their acknowledgements and moves each session's outbox
    mark (one UPDATE per session, as each process does).

    The records, key and producer settings are hrviz's own (``RecordEncoder``, key = the session,
    ``PRODUCER`` with ``linger.ms`` 0 as the producer that sends a live session's single new
    record). What it replaces is ``publish_pending`` per session in turn — a store scan, then a
    produce and a wait for its acknowledgement, one session after another: run 3 measured 0.8 s
    p50 between a commit and its record's produce time, a queue that 500 processes do not form.
    """

    def __init__(self, kafka: str, topic: str, store: Any) -> None:
        from confluent_kafka import Producer

        from hrviz.adapters.queue.kafka import MESSAGE_TIMEOUT_MS, PRODUCER

        self._failures: list[Any] = []
        self._producer = Producer({
            "bootstrap.servers": kafka, "client.id": "hrviz", "log_level": 0, **PRODUCER, "linger.ms": 0,
            "message.timeout.ms": MESSAGE_TIMEOUT_MS,
            "on_delivery": self._delivered,
        })  # fmt: skip
        self._topic, self._store = topic, store
        self._todo: list[tuple[Any, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="bench-publish", daemon=True)
        self._thread.start()

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._failures.append(err)

    def add(self, session: Any, batch: Any) -> None:
        """The readings of ``batch`` were just committed for ``session``: publish them."""
        with self._lock:
            self._todo.append((session, batch))
        self._wake.set()

    def _run(self) -> None:
        from hrviz.adapters.queue.records import RecordEncoder

        encoders: dict[str, RecordEncoder] = {}
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                todo, self._todo = self._todo, []
            for session, batch in todo:
                encoder = encoders.get(session.id) or encoders.setdefault(
                    session.id, RecordEncoder(session.id, session.tz_offset_min)
                )
                key = session.id.encode()
                for value in encoder.encode_batch(batch):
                    self._producer.produce(self._topic, value, key)
            self._producer.poll(0)
            if todo:
                assert self._producer.flush(30) == 0, "records not acknowledged within 30 s"
                assert not self._failures, self._failures[0]
            upto: dict[str, int] = {}
            for session, batch in todo:
                upto[session.id] = batch.first_seq + len(batch) - 1
            for sid, seq in upto.items():
                self._store.mark_published(sid, seq, None)
            if self._stop and not self._todo:
                return

    def stop(self, timeout: float) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)


def driver(args: argparse.Namespace) -> None:
    """N live sessions split over WORKERS threads, each with its own store connection, live
    writers and publisher: what N ``hrviz ingest -`` processes would do side by side (each commits
    its own session in its own small transaction and publishes it), without N interpreters.
    Before the measured seconds, hrviz's own publisher (``publish_pending``) publishes each
    session's first readings (it records where the session starts in Kafka); during them, on
    Kafka, a :class:`BatchPublisher` per worker."""
    from hrviz.adapters.ingest.live import Publisher
    from hrviz.adapters.queue.kafka import DEFAULT_TOPIC
    from hrviz.core.ingest import PublishReport
    from hrviz.core.live import LiveIngest, LiveOptions
    from hrviz.wiring import load_settings, open_backends, open_live

    settings = load_settings(db=Path(args.db) if args.db else None, mysql=args.mysql, kafka=args.kafka)
    run = uuid.uuid4().hex[:8]
    workers = min(WORKERS, args.n)
    groups: list[list[int]] = [list(range(w, args.n, workers)) for w in range(workers)]
    opened = []
    for group in groups:
        backends = open_backends(settings)
        live_store = open_live(backends)
        sessions = {
            k: LiveIngest(backends.store, live_store, f"bench:{run}:{k}", f"live-{k}.csv", LiveOptions()) for k in group
        }

        def publish(b: Any = backends) -> PublishReport:
            """publish_pending for this worker's sessions only (its own queue and producers)."""
            report = PublishReport()
            ids = {s.session.id for s in opened_sessions[id(b)].values()}
            for box in b.store.unpublished():
                if box.session_id not in ids:
                    continue
                session = b.store.get(box.session_id)
                if session is None:
                    continue
                start = box.published_upto + 1
                try:
                    position = b.queue.publish(
                        session,
                        b.store.readings(box.session_id, start),
                        lambda upto, pos, sid=box.session_id, st=b.store: st.mark_published(sid, upto, pos),
                        from_seq=start,
                    )
                except Exception as err:  # noqa: BLE001
                    report.failed = str(err)
                    return report
                b.store.mark_published(box.session_id, box.readings - 1, position or box.position)
            return report

        opened.append((backends, sessions, Publisher(publish, lambda failed: None)))
    opened_sessions = {id(b): sessions for b, sessions, _ in opened}
    by_k = {k: s for _, sessions, _ in opened for k, s in sessions.items()}
    for k in range(args.n):  # header and 3 lines, in k order: every session exists before viewers come
        s = by_k[k]
        s.line("ts,bpm\n", time.monotonic())
        for seq in range(3):
            s.line(f"{T0 + seq},{bpm_of(seq)}\n", time.monotonic())
        s.flush()
    for _, _, publisher in opened:
        publisher.wake()
    if args.kafka:  # the first readings published (and each session's position recorded) first
        batch_publishers: list[Any] = []
        for backends, _, publisher in opened:
            publisher.stop(120)
            assert publisher.last is not None and not publisher.last.failed, publisher.last
            batch_publishers.append(BatchPublisher(args.kafka, settings.kafka_topic or DEFAULT_TOPIC, backends.store))
        opened = [(b, sessions, bp) for (b, sessions, _), bp in zip(opened, batch_publishers, strict=True)]
    ids = [by_k[k].session.id for k in range(args.n)]
    Path(args.ids + ".part").write_text(json.dumps(ids))
    os.replace(args.ids + ".part", args.ids)  # whole: the runner reads it as soon as it exists
    start = time.time() + 1.0
    end = start + args.seconds
    written: list[tuple[int, int, float]] = []
    lock = threading.Lock()

    def work(sessions: dict[int, Any], publisher: Any) -> None:
        seq = 3
        while start + (seq - 3) < end:
            base = start + (seq - 3)
            for k, s in sessions.items():
                delay = base + k / args.n - time.time()
                if delay > 0:
                    time.sleep(delay)
                now = time.time()
                s.line(f"{T0 + seq},{bpm_of(seq)}\n", time.monotonic())
                batch = s.unstored
                s.flush()
                with lock:
                    written.append((k, seq, now))
                if isinstance(publisher, BatchPublisher):
                    publisher.add(s.session, batch)
                else:
                    publisher.wake()
            seq += 1

    threads = [threading.Thread(target=work, args=(sessions, pub)) for _, sessions, pub in opened]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for backends, sessions, publisher in opened:
        if isinstance(publisher, BatchPublisher):
            publisher.stop(30)  # every reading published before the finalizing publish_pending
            publisher = Publisher(functools.partial(publish, backends), lambda failed: None)
        for s in sessions.values():
            s.finish()
        publisher.stop(30)
        backends.close()
    Path(args.written).write_text(json.dumps(written))


# -- the WebSocket clients: one per session ------------------------------------------------------


def clients(args: argparse.Namespace) -> None:
    from websockets.asyncio.client import connect

    ids = json.loads(Path(args.ids).read_text())
    seen: list[tuple[int, int, float]] = []

    async def one(k: int, sid: str) -> None:
        async with connect(args.url, max_size=None, open_timeout=60) as ws:
            await ws.send(json.dumps({"type": "replay", "session_id": sid}))
            deadline = time.time() + args.seconds
            while time.time() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.time()))
                except TimeoutError:
                    break
                if '"reading"' in raw[:20]:
                    now = time.time()
                    seen.append((k, json.loads(raw)["seq"], now))

    async def main() -> None:
        await asyncio.gather(*(one(k, sid) for k, sid in enumerate(ids)), return_exceptions=True)

    asyncio.run(main())
    Path(args.out).write_text(json.dumps(seen))


# -- the bench ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))] if s else float("nan")


def fresh_mysql(base: str) -> str:
    import pymysql

    from hrviz.adapters.store.mysql import parse_url

    name = f"hrviz_test_bench_{uuid.uuid4().hex[:8]}"  # the test user may create hrviz_test_*
    a = parse_url(base)
    a.pop("database")
    conn = pymysql.connect(**a, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    conn.close()
    return base.rsplit("/", 1)[0] + "/" + name


def drop_mysql(url: str) -> None:
    import pymysql

    from hrviz.adapters.store.mysql import parse_url

    a = parse_url(url)
    name = a.pop("database")
    conn = pymysql.connect(**a, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def one_config(stack: str, n: int, seconds: float, mysql_base: str, kafka: str) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="hrviz-bench-live-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    flags: list[str]
    mysql_url = None
    if stack == "embedded":
        flags = ["--db", str(tmp / "h.db")]
    else:
        mysql_url = fresh_mysql(mysql_base)
        env["HRVIZ_KAFKA_TOPIC"] = f"hrviz.bench.{uuid.uuid4().hex[:8]}"
        (tmp / "topic").write_text(env["HRVIZ_KAFKA_TOPIC"])  # for bench/live_split.py
        print(f"# {stack}, {n} sessions: {tmp}, topic {env['HRVIZ_KAFKA_TOPIC']}", flush=True)
        flags = ["--mysql", mysql_url, "--kafka", kafka]
    port = free_port()
    py = sys.executable
    serve = subprocess.Popen(
        [py, "-m", "hrviz", "serve", "--port", str(port), *flags],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "serve.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    procs: list[subprocess.Popen[Any]] = [serve]
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.time() < deadline, (tmp / "serve.log").read_text()
                time.sleep(0.2)
        dflags = ["--db", str(tmp / "h.db")] if stack == "embedded" else ["--mysql", mysql_url or "", "--kafka", kafka]
        ids, written_file = tmp / "ids.json", tmp / "written.json"
        drv = subprocess.Popen(
            [py, __file__, "driver", "--n", str(n), "--seconds", str(seconds), "--ids", str(ids),
             "--written", str(written_file), *dflags],
            env=env,
        )  # fmt: skip
        procs.append(drv)
        while not ids.exists():
            assert drv.poll() is None, "the driver failed"
            time.sleep(0.05)
        sid0 = json.loads(ids.read_text())[-1]  # the newest: first in the page's list
        url = f"ws://127.0.0.1:{port}/ws"
        seen_file = tmp / "seen.json"
        cl = subprocess.Popen(
            [py, __file__, "clients", "--url", url, "--ids", str(ids), "--seconds", str(seconds + 3),
             "--out", str(seen_file)],
            env=env,
        )  # fmt: skip
        procs.append(cl)
        watch = subprocess.Popen(
            [py, "-m", "hrviz", "watch", "--server", url, "--session", sid0, "--plain"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )  # fmt: skip
        procs.append(watch)
        term: list[tuple[str, float]] = []

        def read_watch() -> None:
            assert watch.stdout is not None
            for text in watch.stdout:
                term.append((text, time.time()))

        threading.Thread(target=read_watch, daemon=True).start()
        page_seen = browse(f"http://127.0.0.1:{port}/", sid0, seconds + 2)
        assert drv.wait(seconds + 120) == 0
        cl.wait(60)
        written = {(k, seq): t for k, seq, t in json.loads(written_file.read_text())}
        measured_from = min(t for t in written.values()) + WARMUP
        ws_lat = [
            (t - written[(k, seq)]) * 1000
            for k, seq, t in json.loads(seen_file.read_text())
            if (k, seq) in written and written[(k, seq)] >= measured_from
        ]
        by_seq = {seq: t for (k, seq), t in written.items() if k == n - 1 and t >= measured_from}
        page_lat = [(t / 1000 - by_seq[s]) * 1000 for s, t in page_seen if s in by_seq]
        term_lat = []
        for text, t in term:
            if text.startswith("#"):
                continue
            from datetime import datetime

            stamp = datetime.fromisoformat(text.split()[0].replace("Z", "+00:00"))
            seq = int(stamp.replace(tzinfo=stamp.tzinfo or __import__("datetime").UTC).timestamp()) - T0
            if seq in by_seq:
                term_lat.append((t - by_seq[seq]) * 1000)
        expected = sum(1 for t in written.values() if t >= measured_from)
        return {
            "stack": stack, "sessions": n, "ws": ws_lat, "page": page_lat, "term": term_lat,
            "ws_expected": expected, "page_expected": len(by_seq),
        }  # fmt: skip
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if mysql_url:
            drop_mysql(mysql_url)


def browse(url: str, sid: str, seconds: float) -> list[tuple[int, float]]:
    """Open the page, open the live session from the list, note each new live value's time."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector(f'#sessions li[data-session-id="{sid}"] button.s-play', timeout=30_000)
        page.evaluate(
            """() => {
              window.__seen = [];
              const counter = document.getElementById("readings-shown");
              new MutationObserver(() => {
                window.__seen.push([counter.dataset.lastSeq, performance.timeOrigin + performance.now()]);
              }).observe(counter, {attributes: true, attributeFilter: ["data-last-seq"]});
            }"""
        )
        page.click(f'#sessions li[data-session-id="{sid}"] button.s-play')
        page.wait_for_timeout(seconds * 1000)
        seen = page.evaluate("() => window.__seen")
        browser.close()
    out, last = [], -1
    for text, t in seen:
        seq = int(text)
        if seq > last:  # the frame that first draws reading `seq` (a frame may draw several: all get its time)
            out += [(s, float(t)) for s in range(last + 1, seq + 1)]
            last = seq
    return out


def report(results: list[dict[str, Any]]) -> str:
    rows = [
        "| stack | live sessions | WebSocket p50 / p99 (n) | page p50 / p99 (n) | terminal p50 / p99 (n) |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        cells = []
        for key, expected in (("ws", r["ws_expected"]), ("page", r["page_expected"]), ("term", r["page_expected"])):
            v = r[key]
            cells.append(f"{pct(v, 0.5):.0f} / {pct(v, 0.99):.0f} ms ({len(v)}/{expected})" if v else "— (0)")
        rows.append(f"| {r['stack']} | {r['sessions']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd")
    d = sub.add_parser("driver")
    d.add_argument("--n", type=int)
    d.add_argument("--seconds", type=float)
    d.add_argument("--ids")
    d.add_argument("--written")
    d.add_argument("--db")
    d.add_argument("--mysql")
    d.add_argument("--kafka")
    c = sub.add_parser("clients")
    c.add_argument("--url")
    c.add_argument("--ids")
    c.add_argument("--seconds", type=float)
    c.add_argument("--out")
    ap.add_argument("--sessions", default="1,50,500")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--stacks", default="embedded,kafka")
    ap.add_argument(
        "--mysql", default=os.environ.get("HRVIZ_BENCH_MYSQL", "mysql://hrviz:hrviz-pw@127.0.0.1:3306/hrviz")
    )
    ap.add_argument("--kafka", default=os.environ.get("HRVIZ_BENCH_KAFKA", "127.0.0.1:9092"))
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.cmd == "driver":
        return driver(args)
    if args.cmd == "clients":
        return clients(args)
    results = []
    for n in [int(x) for x in args.sessions.split(",")]:
        for stack in args.stacks.split(","):  # interleaved: both stacks see the same machine load
            r = one_config(stack, n, args.seconds, args.mysql, args.kafka)
            results.append(r)
            print(report([r]).splitlines()[-1], flush=True)
    text = report(results)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
