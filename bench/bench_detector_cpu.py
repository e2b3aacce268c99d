"""CPU seconds of the detector per million readings: ingest's column path with and without the C kernel.

    python bench/bench_detector_cpu.py [bench/data/hr_1m.csv ...] [--rounds 7] [--before DIR]

Each file is read once; then the two paths (hrviz.core.columns.column_batches with the kernel
hrviz.core._cdetect, and with kernel=None: the columns zipped into Detector.batches, the pure-Python
reference) run alternately, ``--rounds`` times each, on the same columns (the machine is noisy: side
by side, medians). Their outputs are compared too. Process CPU time, the load average printed alongside.
``--before DIR`` (a ``git archive`` of an older commit, unpacked) adds that tree's ingest path, as its
``_store`` fed the detector then (``Detector.batches`` over the zipped columns), timed in a child
process per round, interleaved with the others.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hrviz.core import columns  # noqa: E402
from hrviz.core.detector import Detector  # noqa: E402
from hrviz.core.reader import read_series  # noqa: E402
from hrviz.core.series import Series  # noqa: E402


def once(s: Series, kernel: object, keep: bool = False) -> tuple[float, list[object]]:
    """CPU seconds of one pass; the outputs only when ``keep`` (ingest drops each batch once stored, and
    keeping a million readings alive makes the garbage collector's passes costly)."""
    step, usual = s.cadence() or (1.0, 0.0)
    d = Detector(cadence=step, usual_step=usual)
    out: list[object] = []
    t = time.process_time()
    for b, e in columns.column_batches(d, [(s.ts, s.bpm)], 5000, kernel):  # type: ignore[arg-type]
        if keep:
            out.append((b.ts, b.bpm, b.marks, e))
    cpu = time.process_time() - t
    return cpu, [*out, d.stats, d.cadence.segments]


BEFORE = """
import sys, time
from itertools import chain
from hrviz.core.detector import Detector
from hrviz.core.reader import read_series
with open(sys.argv[1], "rb") as fh:
    s = max(read_series(fh, sys.argv[1]), key=len)
step, usual = s.cadence() or (1.0, 0.0)
d = Detector(cadence=step, usual_step=usual)
t = time.process_time()
for _ in d.batches(chain.from_iterable(zip(ts, bpm, strict=True) for ts, bpm in [(s.ts, s.bpm)]), 5000):
    pass
print(time.process_time() - t)
"""


def before(tree: Path, path: Path) -> float:
    """CPU seconds of the older tree's detector loop, in a child process that imports hrviz from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", BEFORE, str(path.resolve())], cwd=tree, env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[Path("bench/data/hr_1m.csv")])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, help="an older tree (git archive), timed alongside")
    args = parser.parse_args()
    if columns.KERNEL is None:
        sys.exit("the C kernel hrviz.core._cdetect is not built (or HRVIZ_PURE_PYTHON=1): nothing to compare")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    head = "| file | readings |" + (" before s/M |" if args.before else "") + " Python s/M | C s/M | ratio |"
    print(head + (" before/C |" if args.before else "") + " same output |")
    print("|---|---:|" + "---:|" * (5 if args.before else 3) + "---|")
    for path in args.files:
        with path.open("rb") as fh:
            series = max(read_series(fh, path.name), key=len)
        same = once(series, None, keep=True)[1] == once(series, columns.KERNEL, keep=True)[1]
        old: list[float] = []
        py, c = [], []
        for _ in range(args.rounds):
            if args.before:
                old.append(before(args.before, path))
            py.append(once(series, None)[0])
            c.append(once(series, columns.KERNEL)[0])
        per_m = 1e6 / max(len(series), 1)
        mp, mc = statistics.median(py) * per_m, statistics.median(c) * per_m
        mo = statistics.median(old) * per_m if old else 0.0
        cells = [f"{mo:.3f}"] if old else []
        cells += [f"{mp:.3f}", f"{mc:.3f}", f"{mp / mc:.1f}x"] + ([f"{mo / mc:.1f}x"] if old else [])
        print(f"| {path.name} | {len(series):,} | " + " | ".join(cells) + f" | {'yes' if same else 'NO'} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
