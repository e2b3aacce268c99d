"""Benchmark ``hrviz serve``'s memory: a resume deep into a big session, and RSS over a soak.

    python bench/bench_serve_memory.py resume --rows 1000000 [--rows 10000000] [--backend embedded|kafka]
                                              [--before REF] [--runs 3]
    python bench/bench_serve_memory.py soak [--sessions 200] [--viewers 5] [--speed 1] [--minutes 8]
                                            [--readings N] [--before REF]

Resume: a session of ``--rows`` readings (bench/generate.py) is ingested once; then, per run, a
fresh ``hrviz serve`` (a subprocess) gets one client that sends ``resume_from`` ten readings
before the end, at 60x. Reported: the time from the request to the first reading, and the
server's extra RSS (its peak until ``end`` minus its RSS before the request). With
``--overview-wait S`` the client also waits (up to S seconds) for the session's overview and its
last events page, which the first replay of a session builds by scanning all its readings
alongside the replay, and reports that time and the peak RSS until then (``scan_extra_mb``).

Soak: ``--sessions`` sessions, ``--viewers`` viewers each replaying at ``--speed`` for
``--minutes``; the server's RSS is sampled every 5 s. Reported: RSS at 1 minute and at the end,
the least-squares slope over the run after the first minute (MB per minute), min/max, and the
viewers' reading counts (a viewer that got fewer than expected is counted "short"). Sessions
have ``--readings`` readings (default: what the run replays, plus 120); at 1x a window refills
its read-ahead about 8 minutes in, so a 10-minute soak shows that step only with sessions longer
than ~770 readings (``--readings 2000``).

``--before REF`` runs the same measurement, on the same data in the same invocation, with the
tree of git commit REF (checked out in a temporary worktree), alternating runs: before/after
ratios measured side by side on a noisy machine. ``--backend kafka``: MySQL + Kafka
(``HRVIZ_BENCH_MYSQL`` / ``HRVIZ_BENCH_KAFKA``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_serve import Backend, free_port, make_sessions  # noqa: E402


class Tree:
    """A source tree to run ``python -m hrviz`` from (this one, or a commit's worktree)."""

    def __init__(self, label: str, root: Path) -> None:
        self.label = label
        self.root = root

    def env(self, backend: Backend) -> dict[str, str]:
        return {**backend.env, "PYTHONPATH": str(self.root)}

    def run(self, args: list[str], backend: Backend) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "hrviz", *args, *backend.flags],
            capture_output=True, text=True, env=self.env(backend), cwd=self.root, check=True,
        )  # fmt: skip
        return done.stdout


@contextlib.contextmanager
def worktree(ref: str) -> Any:
    path = Path(tempfile.mkdtemp(prefix="hrviz-before-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield Tree(f"before ({ref[:10]})", path)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)


class Server:
    def __init__(self, tree: Tree, backend: Backend, log: Path) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "hrviz", "serve", "--port", str(self.port), "--max-upload-mb", "500"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen([*cmd, *backend.flags], stdout=out, stderr=out, env=tree.env(backend),
                                         cwd=tree.root)  # fmt: skip
        end = time.monotonic() + 60
        while not re.search(r"serving http://", log.read_text(errors="replace")):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"hrviz serve did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        self.ps = psutil.Process(self.proc.pid)
        self.url = f"ws://127.0.0.1:{self.port}/ws"

    def rss(self) -> float:
        return self.ps.memory_info().rss / 2**20

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- resume ----------------------------------------------------------------------------------------


async def resume_once(server: Server, sid: str, seq: int, overview_wait: float = 0.0) -> dict[str, float]:
    """``extra_mb``: peak RSS until ``end``. With ``overview_wait`` > 0 the client then waits (at most
    that long) for the overview and the last events page, which the server builds by scanning the
    whole session alongside the replay: ``scan_extra_mb`` is the peak RSS until then."""
    from websockets.asyncio.client import connect

    peak = base = server.rss()
    ended = overview_s = float("nan")
    peak_end = base
    async with connect(server.url, max_size=None, compression=None) as ws:
        await ws.recv()  # hello
        asked = time.monotonic()
        await ws.send(json.dumps({"type": "resume_from", "session_id": sid, "seq": seq, "speed": 60}))
        first = None
        while True:
            raw: str | bytes | None = None
            with contextlib.suppress(TimeoutError):
                raw = await asyncio.wait_for(ws.recv(), 0.05)
            peak = max(peak, server.rss())
            if first is None and isinstance(raw, str) and raw.startswith('{"type":"reading"'):
                first = time.monotonic() - asked
            if isinstance(raw, str) and raw.startswith('{"type":"end"'):
                ended, peak_end = time.monotonic() - asked, peak
            if isinstance(raw, str) and raw.startswith('{"type":"events"'):
                page = json.loads(raw)
                if page["offset"] + len(page["events"]) >= page["total"]:
                    overview_s = time.monotonic() - asked
            done = not math.isnan(overview_s) or time.monotonic() - asked > ended + overview_wait
            if not math.isnan(ended) and done:
                break
            if isinstance(raw, str) and raw.startswith('{"type":"error"'):
                raise RuntimeError(raw)
    result = {"first_s": first if first is not None else float("nan"), "extra_mb": peak_end - base, "rss_mb": base}
    if overview_wait > 0:
        result |= {"overview_s": overview_s, "scan_extra_mb": peak - base}
    return result


def resume(
    rows: int, backend_kind: str, trees: list[Tree], runs: int, tmp: Path, overview_wait: float = 0.0
) -> dict[str, Any]:
    backend = Backend(backend_kind, tmp)
    try:
        (path,) = make_sessions(1, rows, tmp)
        started = time.monotonic()
        ((sid, readings),) = [
            (s["id"], s["readings"])
            for s in json.loads(trees[0].run(["ingest", str(path), "--json"], backend))["sessions"]
        ]  # more readings than rows: short holes are filled (10M rows: 10,011,841)
        ingest_s = time.monotonic() - started
        path.unlink()
        result: dict[str, Any] = {"rows": rows, "readings": readings, "backend": backend_kind, "ingest_s": ingest_s}
        for run in range(runs):
            for tree in trees if run % 2 == 0 else trees[::-1]:
                server = Server(tree, backend, tmp / "serve.log")
                try:
                    time.sleep(1.0)  # let start-up settle before the baseline RSS
                    got = asyncio.run(resume_once(server, sid, readings - 11, overview_wait))
                finally:
                    server.stop()
                result.setdefault(tree.label, []).append(got)
                print(f"  {tree.label}: {got}", file=sys.stderr)
        for tree in trees:
            got = result[tree.label]
            result[tree.label] = {k: statistics.median(g[k] for g in got) for k in got[0]} | {"runs": got}
        return result
    finally:
        backend.close()


# -- soak ------------------------------------------------------------------------------------------


async def soak_viewer(url: str, sid: str, speed: float, seconds: float, out: dict[str, int]) -> None:
    from websockets.asyncio.client import connect

    count = 0
    try:
        async with connect(url, max_size=None, compression=None) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "replay", "session_id": sid, "speed": speed}))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    async for raw in ws:
                        if isinstance(raw, str) and raw.startswith('{"type":"reading"'):
                            count += 1
    except Exception:  # noqa: BLE001 — counted, the soak goes on
        out["errors"] += 1
    out["readings"] += count
    out["short"] += count < int(seconds * speed * 0.9)


async def soak_clients(url: str, sids: list[str], speed: float, seconds: float) -> dict[str, int]:
    out = {"readings": 0, "errors": 0, "short": 0}
    tasks = []
    for sid in sids:
        tasks.append(asyncio.create_task(soak_viewer(url, sid, speed, seconds, out)))
        await asyncio.sleep(0.005)
    await asyncio.gather(*tasks)
    return out


def soak(
    sessions: int, per: int, speed: float, minutes: float, trees: list[Tree], tmp: Path, readings: int | None = None
) -> dict[str, Any]:
    backend = Backend("embedded", tmp)
    seconds = minutes * 60
    files = make_sessions(sessions, readings or int(seconds * speed) + 120, tmp)
    sids = [s["id"] for s in json.loads(trees[0].run(["ingest", *map(str, files), "--json"], backend))["sessions"]]
    result: dict[str, Any] = {"sessions": sessions, "viewers": sessions * per, "speed": speed, "minutes": minutes}
    for tree in trees:
        server = Server(tree, backend, tmp / "serve.log")
        try:
            viewers = [sid for sid in sids for _ in range(per)]
            halves = [viewers[0::2], viewers[1::2]]
            procs = []
            for i, share in enumerate(halves):
                out = tmp / f"soak{i}.json"
                args = [sys.executable, __file__, "_soak_client", str(out), server.url, str(speed), str(seconds)]
                procs.append((subprocess.Popen([*args, *share], cwd=ROOT), out))
            started = time.monotonic()
            samples: list[tuple[float, float]] = []
            while any(p.poll() is None for p, _ in procs):
                samples.append(((time.monotonic() - started) / 60, server.rss()))
                time.sleep(5)
            parts = [json.loads(out.read_text()) for _, out in procs]
        finally:
            server.stop()
        late = [(t, r) for t, r in samples if t >= 1.0]
        slope = statistics.linear_regression([t for t, _ in late], [r for _, r in late]).slope if len(late) > 2 else 0
        result[tree.label] = {
            "rss_1min_mb": late[0][1] if late else float("nan"), "rss_end_mb": samples[-1][1],
            "rss_min_mb": min(r for _, r in late or samples), "rss_max_mb": max(r for _, r in late or samples),
            "slope_mb_per_min": slope, "readings": sum(p["readings"] for p in parts),
            "errors": sum(p["errors"] for p in parts), "short": sum(p["short"] for p in parts),
            "samples": [(round(t, 2), round(r, 1)) for t, r in samples],
        }  # fmt: skip
        print(f"  {tree.label}: { {k: v for k, v in result[tree.label].items() if k != 'samples'} }", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_soak_client":
        out, url, speed, seconds, *sids = argv[1:]
        Path(out).write_text(json.dumps(asyncio.run(soak_clients(url, sids, float(speed), float(seconds)))))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["resume", "soak"])
    p.add_argument("--rows", type=int, action="append")
    p.add_argument("--backend", choices=["embedded", "kafka"], default="embedded")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--viewers", type=int, default=5)
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--overview-wait", type=float, default=0.0, help="resume: also wait this long for the overview")
    p.add_argument("--readings", type=int, help="soak: readings per session (default: minutes x speed + 120)")
    p.add_argument("--before", help="also measure this git commit's tree, side by side")
    p.add_argument("--before-max-rows", type=int, default=2_000_000, help="skip 'before' above this (minutes, GBs)")
    p.add_argument("--json-out", type=Path)
    args = p.parse_args(argv)
    results: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        trees = [Tree("after", ROOT)]
        if args.before:
            trees.append(stack.enter_context(worktree(args.before)))
        with tempfile.TemporaryDirectory(prefix="hrviz-bench-") as tmp_name:
            tmp = Path(tmp_name)
            if args.what == "resume":
                for rows in args.rows or [1_000_000]:
                    use = trees if rows <= args.before_max_rows else trees[:1]
                    results.append(resume(rows, args.backend, use, args.runs, tmp, args.overview_wait))
            else:
                results.append(soak(args.sessions, args.viewers, args.speed, args.minutes, trees, tmp, args.readings))
    text = json.dumps(results, indent=1)
    if args.json_out:
        args.json_out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
