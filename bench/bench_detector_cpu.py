"""CPU seconds of the detector per million readings: ingest's column path with and without the C kernel.

    python bench/bench_detector_cpu.py [bench/data/hr_1m.csv ...] [--rounds 7]

Each file is read once; then the two paths (hrviz.core.columns.column_batches with the kernel
hrviz.core._cdetect, and with kernel=None: the columns zipped into Detector.batches, the pure-Python
reference) run alternately, ``--rounds`` times each, on the same columns (the machine is noisy: side
by side, medians). Their outputs are compared too. Process CPU time, the load average printed alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[Path("bench/data/hr_1m.csv")])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if columns.KERNEL is None:
        sys.exit("the C kernel hrviz.core._cdetect is not built (or HRVIZ_PURE_PYTHON=1): nothing to compare")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| file | readings | Python s/M | C s/M | ratio | same output |")
    print("|---|---:|---:|---:|---:|---|")
    for path in args.files:
        with path.open("rb") as fh:
            series = max(read_series(fh, path.name), key=len)
        same = once(series, None, keep=True)[1] == once(series, columns.KERNEL, keep=True)[1]
        py, c = [], []
        for _ in range(args.rounds):
            py.append(once(series, None)[0])
            c.append(once(series, columns.KERNEL)[0])
        per_m = 1e6 / max(len(series), 1)
        mp, mc = statistics.median(py) * per_m, statistics.median(c) * per_m
        print(f"| {path.name} | {len(series):,} | {mp:.3f} | {mc:.3f} | {mp / mc:.1f}x | {'yes' if same else 'NO'} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
