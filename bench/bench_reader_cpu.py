"""CPU cost of reading a CSV, Python vs the C row kernel (hrviz/core/reader/_cparse.c).

    python bench/bench_reader_cpu.py [--csv bench/data/hr_1m.csv ...] [--ms-crlf] [--rounds 7] [--out FILE.md]

``--ms-crlf`` also benches the first file's twin with unix milliseconds and CRLF line breaks (written next to
it, ``…_ms_crlf.csv``, once): the kernel's number path and its line splitting at ``\r\n``.

Two measures per file, per round, Python and C interleaved (``HRVIZ_PURE_PYTHON=1`` turns the kernel off):

* ``reader process``: the CPU seconds (user + system) of the reader child of a two-process ingest,
  ``python -m hrviz.adapters.ingest.reader_worker FILE 1.0 16384`` (interpreter start-up included), as
  ``hrviz ingest`` runs it for files over 8 MB; its frames (chunks, offset, counts; not the progress ones,
  which depend on timing) are compared between the two runs and must be identical;
* ``read_series``: the process time of ``read_series`` alone on the file, in a fresh interpreter.

hrviz's bytecode is compiled before timing (as an installed hrviz has it).

Medians over the rounds, and the ratio Python / C; the load average before and after.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import resource
import statistics
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAME = struct.Struct("<cQ")
READ_SERIES = """
import sys, time
from hrviz.core.reader import read_series
start = time.process_time()
with open(sys.argv[1], "rb") as f:
    series = read_series(f, sys.argv[1], on_chunk=lambda ts, bpm: None, chunk_rows=16384)
print(time.process_time() - start)
"""


def env(pure: bool) -> dict[str, str]:
    e = dict(os.environ)
    e.pop("HRVIZ_PURE_PYTHON", None)
    if pure:
        e["HRVIZ_PURE_PYTHON"] = "1"
    return e


def frames(data: bytes) -> str:
    """A digest of the worker's frames, progress left out."""
    digest, at = hashlib.sha256(), 0
    while at < len(data):
        kind, size = FRAME.unpack_from(data, at)
        at += FRAME.size
        if kind != b"P":
            digest.update(kind + data[at : at + size])
        at += size
    return digest.hexdigest()


def worker(path: Path, pure: bool) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, "-m", "hrviz.adapters.ingest.reader_worker", str(path), "1.0", "16384"],
        env=env(pure), cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, frames(out)


def in_process(path: Path, pure: bool) -> float:
    out = subprocess.run(
        [sys.executable, "-c", READ_SERIES, str(path)],
        env=env(pure),
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return float(out)


def ms_crlf(path: Path) -> Path:
    """The file with its ISO times as unix milliseconds and CRLF line breaks (made once)."""
    from datetime import datetime

    out = path.with_name(path.stem + "_ms_crlf.csv")
    if not out.exists():
        with path.open() as src, out.open("w", newline="") as dst:
            next(src)
            dst.write("time_ms,bpm\r\n")
            for line in src:
                t, bpm = line.rstrip("\n").split(",")
                dst.write(f"{int(datetime.fromisoformat(t).timestamp() * 1000)},{bpm}\r\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, action="append")
    parser.add_argument("--ms-crlf", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    files = args.csv or [ROOT / "bench/data/hr_1m.csv"]
    # bytecode compiled first, as an installed hrviz has it (PYTHONDONTWRITEBYTECODE=1 here would have every
    # run compile the modules it imports; see bench_real_stack.py)
    compileall.compile_dir(ROOT / "hrviz", quiet=1)
    if args.ms_crlf:
        files.append(ms_crlf(files[0]))
    load_before = os.getloadavg()
    lines = [
        "| file | measure | Python CPU-s | C CPU-s | Python / C |",
        "|---|---|---|---|---|",
    ]
    for path in files:
        times: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            digests = {}
            for pure in (True, False):
                cpu, digests[pure] = worker(path, pure)
                times.setdefault(("reader process", pure), []).append(cpu)
                times.setdefault(("read_series", pure), []).append(in_process(path, pure))
            if digests[True] != digests[False]:
                raise SystemExit(f"{path}: the reader's frames differ between Python and C")
        for measure in ("reader process", "read_series"):
            py, c = statistics.median(times[(measure, True)]), statistics.median(times[(measure, False)])
            lines.append(f"| {path.name} | {measure} | {py:.3f} | {c:.3f} | {py / c:.1f}× |")
            print(lines[-1], flush=True)
    load_after = os.getloadavg()
    footer = (
        f"\nMedians of {args.rounds} rounds, Python and C interleaved; the reader's frames identical both ways. "
        f"Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores, shared)."
    )
    print(footer)
    if args.out:
        args.out.write_text(
            "# Reading a CSV: the C row kernel (issue #8 item 8)\n\n"
            "`python bench/bench_reader_cpu.py` (see its docstring for what is measured).\n\n"
            + "\n".join(lines) + "\n" + footer + "\n"
        )  # fmt: skip


if __name__ == "__main__":
    main()
