"""Benchmark ``hrviz ingest`` (embedded SQLite) against a pandas baseline and a plain streaming loop.

    python bench/generate.py --rows 1000000 --out bench/data/hr_1m.csv
    python bench/bench_ingest.py --file bench/data/hr_1m.csv --runs 5
    python bench/generate.py --rows 1000000 --ahead 50 --out bench/data/hr_1m_ahead50.csv
    python bench/bench_ingest.py --methods hrviz,hrviz-unsorted,pandas --unsorted-file bench/data/hr_1m_ahead50.csv

``hrviz-unsorted`` ingests ``--unsorted-file`` (the same rows, 50 of them stamped 10 minutes ahead,
so that the reader must sort) to hold the memory target for files out of order too.

Each method runs as its own subprocess on a fresh SQLite file, in interleaved rounds whose order
rotates (so drift and cache effects hit all methods alike), after one unmeasured warm-up each.
Wall time is measured around the whole subprocess (interpreter start and imports included), CPU
time from ``wait4``; peak memory by polling the process tree with psutil every 10 ms, as the sum
of RSS (the headline figure) and of PSS (fairer when hrviz forks a helper that shares pages);
``ru_maxrss`` is recorded as a cross-check. Prints a Markdown table of medians and the hrviz /
pandas ratios, and writes every run to ``--json-out``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from subprocess import Popen

import psutil

HERE = Path(__file__).resolve().parent
POLL_SECONDS = 0.010
TARGET_TIME_RATIO = 0.5  # hrviz at most half the pandas baseline's time ...
TARGET_RSS_RATIO = 0.2  # ... and at most a fifth of its peak memory
METHODS = ("hrviz", "pandas", "plain", "hrviz-unsorted")
DEFAULT_METHODS = ("hrviz", "pandas", "plain")


@dataclass(slots=True)
class Run:
    """One measured subprocess run."""

    method: str
    round: int
    seconds: float
    cpu_seconds: float  # user + system time of the child (less sensitive to a busy machine)
    load: float  # 1-minute load average when the run ended (other work on the machine)
    peak_rss_mb: float  # psutil polling, every 10 ms, of the process and its children (summed)
    peak_pss_mb: float  # the same for PSS: shared pages split between the processes sharing them
    maxrss_mb: float  # the kernel's ru_maxrss of the child, for comparison
    result: dict[str, object]


def commands(method: str, csv: Path, db: Path, hrviz: Path) -> list[str]:
    """The command line that ingests ``csv`` into ``db`` with ``method``."""
    if method.startswith("hrviz"):
        return [str(hrviz), "ingest", str(csv), "--db", str(db), "--json"]
    baseline = str(HERE / "pandas_baseline.py")
    return [sys.executable, baseline, str(csv), "--db", str(db), "--method", method]


def clean_env(scratch: Path) -> dict[str, str]:
    """The caller's environment minus anything that would send hrviz to another backend or config.

    Bytecode is cached under ``scratch`` (``PYTHONPYCACHEPREFIX``), so every method imports
    compiled modules after the warm-up, as an installed program would, and the tree stays clean.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    env["HRVIZ_CONFIG"] = str(scratch / "no-config.toml")  # defaults only, whatever the user has
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def measure(
    argv: list[str], env: dict[str, str], out: Path, err: Path
) -> tuple[float, float, float, float, float, int]:
    """Run ``argv``; return (wall s, CPU s, peak RSS, peak PSS, ru_maxrss, exit code), memory in bytes.

    RSS and PSS are summed over the process tree at each 10 ms poll. For a program that forks
    helpers the RSS sum counts pages they share more than once; PSS splits them fairly. CPU time
    includes the children the program waited for. ``ru_maxrss`` (the largest single process, not
    the tree) also counts the benchmark's own pages the child held between fork and exec.
    """
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        proc = Popen(argv, stdout=stdout, stderr=stderr, env=env)
        watched = psutil.Process(proc.pid)
        peak = peak_pss = 0
        while True:
            rss = pss = 0
            with contextlib.suppress(psutil.Error):  # exited (zombie) between two polls
                for member in [watched, *watched.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        info = member.memory_full_info()
                        rss += info.rss
                        pss += info.pss
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                seconds = time.perf_counter() - started
                break
            time.sleep(POLL_SECONDS)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, float(peak), float(peak_pss), usage.ru_maxrss * 1024.0, proc.returncode


def summarize_result(method: str, stdout: str) -> dict[str, object]:
    """The figures worth keeping from a method's JSON output (rows stored, anomalies found)."""
    data = json.loads(stdout)
    if not method.startswith("hrviz"):
        return {"rows": data["rows"], "flagged": data["flagged"], "inner_seconds": data["seconds"]}
    session = data["sessions"][0]
    kinds: dict[str, int] = {}
    for anomaly in session["anomalies"]:
        kinds[anomaly["kind"]] = kinds.get(anomaly["kind"], 0) + 1
    return {
        "rows": session["rows"],
        "duplicates": session["duplicates"],
        "readings": session["readings"],
        "filled": session["filled"],
        "anomalies": dict(sorted(kinds.items())),
    }


def run_once(method: str, round_no: int, csv: Path, hrviz: Path, scratch: Path) -> Run:
    """One run of ``method`` on a brand-new database (hrviz would otherwise find the session stored)."""
    db = scratch / f"{method}.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    out, err = scratch / f"{method}.out", scratch / f"{method}.err"
    seconds, cpu, peak, pss, maxrss, code = measure(commands(method, csv, db, hrviz), clean_env(scratch), out, err)
    if code != 0:
        raise SystemExit(f"{method} failed with exit code {code}:\n{err.read_text(errors='replace')[-2000:]}")
    result = summarize_result(method, out.read_text())
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    load = os.getloadavg()[0]
    return Run(method, round_no, seconds, cpu, load, peak / 1e6, pss / 1e6, maxrss / 1e6, result)


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:  # not imported: that would bloat this process, whose pages a forked child briefly shares
        pandas_version = importlib.metadata.version("pandas")
    except importlib.metadata.PackageNotFoundError:
        pandas_version = "not installed"
    try:  # the code measured: HEAD, and whether hrviz/ had uncommitted changes
        git = ["git", "-C", str(HERE.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "hrviz"], capture_output=True, text=True).stdout.strip()
        revision = f"{commit}{' + uncommitted changes in hrviz/' if dirty else ''}"
    except OSError:
        revision = "unknown"
    return {
        "hrviz_revision": revision,
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pandas": pandas_version,
        "sqlite": sqlite3.sqlite_version,
    }


def median(runs: list[Run], attr: str) -> float:
    """The median of one measured attribute over ``runs``."""
    return statistics.median(getattr(r, attr) for r in runs)


def report(runs: list[Run], rows: int, info: dict[str, object]) -> str:
    """Markdown: one line per method (medians) and the hrviz / pandas (and / plain) ratios."""
    by = {m: [r for r in runs if r.method == m] for m in METHODS}
    by = {m: rs for m, rs in by.items() if rs}
    lines = [
        f"{rows:,} rows; {len(next(iter(by.values())))} measured runs per method, interleaved; medians.",
        f"Machine: {info['cpu']}, {info['cpus']} CPUs, {info['ram_gb']} GB RAM, {info['os']}; "
        f"Python {info['python']}, pandas {info['pandas']}, SQLite {info['sqlite']}; hrviz at {info['hrviz_revision']}.",
        "",
        "| method | wall time (s) | rows/s | CPU time (s) | peak RSS, psutil 10 ms (MB) | peak PSS (MB) "
        "| ru_maxrss (MB) | wall times of the runs (s) | load avg |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for method, rs in by.items():
        secs = median(rs, "seconds")
        each = ", ".join(f"{r.seconds:.2f}" for r in rs)
        lines.append(
            f"| {method} | {secs:.2f} | {rows / secs:,.0f} | {median(rs, 'cpu_seconds'):.2f} | "
            f"{median(rs, 'peak_rss_mb'):.1f} | {median(rs, 'peak_pss_mb'):.1f} | {median(rs, 'maxrss_mb'):.1f} | "
            f"{each} | {median(rs, 'load'):.1f} |"
        )
    ours = [m for m in by if m.startswith("hrviz")]
    if ours:
        lines.append("")
        lines.append("| ratio (medians) | wall time | CPU time | peak RSS | peak PSS | target | verdict (RSS) |")
        lines.append("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for mine in ours:
        h = by[mine]
        for ref in ("pandas", "plain"):
            if ref not in by:
                continue
            t = median(h, "seconds") / median(by[ref], "seconds")
            c = median(h, "cpu_seconds") / median(by[ref], "cpu_seconds")
            m = median(h, "peak_rss_mb") / median(by[ref], "peak_rss_mb")
            p = median(h, "peak_pss_mb") / median(by[ref], "peak_pss_mb")
            if ref == "pandas":
                target = f"time ≤ {TARGET_TIME_RATIO}×, RSS ≤ {TARGET_RSS_RATIO}×"
                ok_t, ok_m = t <= TARGET_TIME_RATIO, m <= TARGET_RSS_RATIO
                verdict = f"time {'met' if ok_t else 'MISSED'}, memory {'met' if ok_m else 'MISSED'}"
            else:
                target, verdict = "(reference)", ""
            lines.append(f"| {mine} / {ref} | {t:.2f}× | {c:.2f}× | {m:.2f}× | {p:.2f}× | {target} | {verdict} |")
        if mine != "hrviz" and "hrviz" in by:
            t = median(h, "seconds") / median(by["hrviz"], "seconds")
            m = median(h, "peak_rss_mb") / median(by["hrviz"], "peak_rss_mb")
            p = median(h, "peak_pss_mb") / median(by["hrviz"], "peak_pss_mb")
            lines.append(f"| {mine} / hrviz (sorted) | {t:.2f}× | | {m:.2f}× | {p:.2f}× | (reference) | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=HERE / "data" / "hr_1m.csv", help="CSV to ingest")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per method (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per method first (default 1)")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma-separated subset of {METHODS}")
    parser.add_argument(
        "--unsorted-file",
        type=Path,
        default=HERE / "data" / "hr_1m_ahead50.csv",
        help="CSV for hrviz-unsorted (bench/generate.py --ahead 50)",
    )
    parser.add_argument(
        "--hrviz",
        type=Path,
        default=Path(sys.executable).parent / "hrviz",
        help="the hrviz executable (default: next to this Python)",
    )
    parser.add_argument(
        "--json-out", type=Path, default=HERE / "data" / "ingest_runs.json", help="where to write every run as JSON"
    )
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if unknown := set(methods) - set(METHODS):
        parser.error(f"unknown methods {sorted(unknown)}")
    if not args.file.is_file():
        parser.error(f"{args.file} not found; run bench/generate.py first")
    if "hrviz" in methods and not args.hrviz.exists():
        parser.error(f"{args.hrviz} not found; pip install -e . into this venv or pass --hrviz")
    csv = args.file.resolve()
    if "hrviz-unsorted" in methods and not args.unsorted_file.is_file():
        parser.error(f"{args.unsorted_file} not found; run bench/generate.py --ahead 50 first")
    files = {m: (args.unsorted_file.resolve() if m == "hrviz-unsorted" else csv) for m in methods}
    with csv.open("rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1  # minus the header

    info = machine()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="hrviz-bench-", dir=args.file.resolve().parent) as tmp:
        scratch = Path(tmp)
        for i in range(args.warmup):
            for method in methods:
                run = run_once(method, -1 - i, files[method], args.hrviz, scratch)
                print(f"warm-up {method}: {run.seconds:.2f} s, {run.peak_rss_mb:.0f} MB RSS", file=sys.stderr)
        for i in range(args.runs):
            order = methods[i % len(methods) :] + methods[: i % len(methods)]  # rotate who goes first
            for method in order:
                run = run_once(method, i, files[method], args.hrviz, scratch)
                runs.append(run)
                print(
                    f"round {i + 1}/{args.runs} {method}: {run.seconds:.2f} s, {run.cpu_seconds:.2f} s CPU, "
                    f"RSS {run.peak_rss_mb:.0f} MB, PSS {run.peak_pss_mb:.0f} MB (ru_maxrss {run.maxrss_mb:.0f} MB) "
                    f"{json.dumps(run.result)}",
                    file=sys.stderr,
                )

    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"file": str(args.file), "rows": rows, "machine": info, "runs": [asdict(r) for r in runs]}
    args.json_out.write_text(json.dumps(payload, indent=1) + "\n")
    print(report(runs, rows, info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
