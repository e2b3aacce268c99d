"""Benchmarks of the non-CSV readers against the bare decoders they are built on, in the same run.

    python bench/fit_ride.py --out bench/data/ride_4h.fit
    python bench/bench_formats.py fit --file bench/data/ride_4h.fit --runs 7
    python bench/bench_formats.py apple --mb 2000 --runs 3     # generates bench/data/export_2000mb.xml once

``fit``: in one process, interleaved rounds (the order rotates), after one warm-up each:
  - ``sdk``: Garmin's SDK decoding the file with the options hrviz uses (the bare decode);
  - ``hrviz``: ``core.ingest`` of the same bytes — decode, pick the heart rates, detect, store in
    a fresh SQLite file (the whole `hrviz ingest` minus the interpreter start).
``apple``: each method is its own subprocess (so peak RSS is its own, from ``wait4``):
  - ``iterparse``: ``ElementTree.iterparse`` counting HR records, each element cleared (end events;
    the cleared elements stay in the root, so its memory grows with the file);
  - ``iterparse-flat``: the same count in constant memory (start and end events, the root's
    children dropped as they are read: the loop hrviz's reader uses, without its work);
  - ``hrviz``: ``hrviz ingest export.xml --json`` into a fresh SQLite file.
Prints medians and ratios as Markdown.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ITERPARSE = """
import sys
from xml.etree.ElementTree import iterparse
n = 0
for _, elem in iterparse(sys.argv[1]):
    if elem.tag == "Record" and elem.get("type") == "HKQuantityTypeIdentifierHeartRate":
        n += 1
    elem.clear()
print(n)
"""
ITERPARSE_FLAT = """
import sys
from xml.etree.ElementTree import iterparse
n, depth, root = 0, 0, None
for event, elem in iterparse(sys.argv[1], events=("start", "end")):
    if event == "start":
        depth += 1
        if root is None:
            root = elem
        continue
    depth -= 1
    if depth == 1:
        if elem.tag == "Record" and elem.get("type") == "HKQuantityTypeIdentifierHeartRate":
            n += 1
        root.clear()
print(n)
"""


def bench_fit(path: Path, runs: int) -> None:
    from garmin_fit_sdk import __version__ as sdk_version  # type: ignore[attr-defined]

    from hrviz.adapters.store.sqlite import SqliteStore
    from hrviz.core.ingest import IngestOptions, ingest
    from hrviz.core.reader.fit import decode

    data = path.read_bytes()
    scratch = Path(tempfile.mkdtemp(prefix="hrviz-bench-fit-"))

    def sdk() -> int:
        messages, errors = decode(data)
        assert not errors
        return len(messages["record_mesgs"])

    def hrviz(k: list[int] = [0]) -> int:  # noqa: B006 — a counter for fresh databases
        k[0] += 1
        store = SqliteStore(scratch / f"run{k[0]}.sqlite3")
        try:
            (session,) = ingest(io.BytesIO(data), path.name, store, IngestOptions())
        finally:
            store.close()
        return session.readings

    methods = {"sdk": sdk, "hrviz": hrviz}
    times: dict[str, list[float]] = {m: [] for m in methods}
    cpu: dict[str, list[float]] = {m: [] for m in methods}
    for fn in methods.values():  # warm-up: imports, caches
        fn()
    for r in range(runs):
        order = list(methods) if r % 2 == 0 else list(reversed(methods))
        for name in order:
            t, c = time.perf_counter(), time.process_time()
            methods[name]()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    med = {m: statistics.median(v) for m, v in times.items()}
    mcpu = {m: statistics.median(v) for m, v in cpu.items()}
    load = os.getloadavg()[0]
    print(
        f"FIT {path.name}: {len(data):,} bytes, {sdk():,} records; garmin-fit-sdk {sdk_version}, {runs} runs, load {load:.1f}"
    )
    print("| method | median wall s | min–max wall s | median CPU s |\n|---|---|---|---|")
    for m, v in times.items():
        print(f"| {m} | {med[m]:.3f} | {min(v):.3f}–{max(v):.3f} | {mcpu[m]:.3f} |")
    print(
        f"\nratio hrviz / sdk (medians): wall **{med['hrviz'] / med['sdk']:.2f}x**, CPU **{mcpu['hrviz'] / mcpu['sdk']:.2f}x** (target <= 1.5x)"
    )
    pairs = zip(cpu["hrviz"], cpu["sdk"], strict=True)
    print("per-round CPU ratios:", ", ".join(f"{h / s:.2f}" for h, s in pairs))


def generate_apple(out: Path, mb: int) -> int:
    """An export of about ``mb`` MB: two devices' real readings (the Edge 500 ride's heart rates), retimed."""
    from tests.generate import APPLE_HEAD, apple_records, fit_dump
    from tests.real_data import FIT

    ride = fit_dump(FIT / "garmin-edge-500-activity-records.csv")
    bpm = [b for _, b in ride]
    n = 0
    t0 = 1_600_000_000.0
    with out.open("w", encoding="utf-8") as fh:
        fh.write(APPLE_HEAD)
        day = 0
        while fh.tell() < mb * 1_000_000:
            start = t0 + day * 86_400
            watch = ((start + 5 * i, bpm[i % len(bpm)]) for i in range(len(bpm)))
            strap = ((start + 5 * i + 2, bpm[(i + 7) % len(bpm)]) for i in range(0, len(bpm), 4))
            n += apple_records(fh, "Jane's Apple Watch", watch, 120)
            n += apple_records(fh, "Polar H10", strap, 120)
            day += 1
        fh.write("</HealthData>\n")
    return n


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds and peak RSS MB from wait4, stdout) of one subprocess."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {err}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def bench_apple(mb: int, runs: int, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"export_{mb}mb.xml"
    if not path.exists():
        t = time.perf_counter()
        n = generate_apple(path, mb)
        print(
            f"generated {path}: {path.stat().st_size:,} bytes, {n:,} heart-rate records in {time.perf_counter() - t:.0f} s"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    scratch = Path(tempfile.mkdtemp(prefix="hrviz-bench-apple-"))
    hrviz = [sys.executable, "-m", "hrviz", "ingest", str(path), "--json", "--db"]
    scripts = {"iterparse": ITERPARSE, "iterparse-flat": ITERPARSE_FLAT}
    results: dict[str, list[tuple[float, float, float]]] = {"iterparse": [], "iterparse-flat": [], "hrviz": []}
    counts: dict[str, str] = {}
    for r in range(runs):
        order = list(results)[r % 3 :] + list(results)[: r % 3]  # each method in each position once
        for m in order:
            argv = [sys.executable, "-c", scripts[m], str(path)] if m in scripts else [*hrviz, str(scratch / f"{r}.db")]
            seconds, cpu, rss, out = run_measured(argv, env)
            results[m].append((seconds, cpu, rss))
            if m in scripts:
                counts[m] = out.strip()
            else:
                counts[m] = str(sum(s["rows"] for s in json.loads(out)["sessions"]))
            load = os.getloadavg()[0]
            print(f"  round {r} {m}: {seconds:.1f} s, CPU {cpu:.1f} s, {rss:.0f} MB (load {load:.1f})", flush=True)
    med = {m: tuple(statistics.median(run[i] for run in v) for i in range(3)) for m, v in results.items()}
    print(f"\nApple Health {path.name}: {path.stat().st_size / 1e6:,.0f} MB; HR records / rows: {counts}")
    print("| method | median wall s | median CPU s | peak RSS MB (median) |\n|---|---|---|---|")
    for m, (s, c, x) in med.items():
        print(f"| {m} | {s:.1f} | {c:.1f} | {x:.0f} |")
    for base in scripts:
        wall, cpu = med["hrviz"][0] / med[base][0], med["hrviz"][1] / med[base][1]
        print(f"\nratio hrviz / {base} (medians): wall **{wall:.2f}x**, CPU **{cpu:.2f}x** (target <= 2x)")
    print(f"hrviz peak RSS {med['hrviz'][2]:.0f} MB (target < 150 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    fit = sub.add_parser("fit")
    fit.add_argument("--file", type=Path, default=HERE / "data" / "ride_4h.fit")
    fit.add_argument("--runs", type=int, default=7)
    apple = sub.add_parser("apple")
    apple.add_argument("--mb", type=int, default=2000)
    apple.add_argument("--runs", type=int, default=3)
    apple.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args()
    if args.what == "fit":
        bench_fit(args.file, args.runs)
    else:
        bench_apple(args.mb, args.runs, args.data)


if __name__ == "__main__":
    main()
