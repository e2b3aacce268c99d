"""CPU cost of printing readings for the real stack: the MySQL TSV and the Kafka records, Python vs C.

    python bench/bench_format.py [--csv bench/data/hr_1m.csv] [--rounds 7]

The file is read and run through the detector once (as ``hrviz ingest`` does, batches of 5,000);
then, per round and interleaved, the same batches are printed by the Python code (the reference:
``rows.tsv_python``, ``RecordEncoder.encode_batch_python``) and by the C kernels (``_ctsv.c``,
``_crecords.c``), two ways each, as the two publish paths use them:

* ``tsv``: the TSV alone;
* ``tsv + block``: the TSV for LOAD DATA and the records as one block for the staging file;
* ``tsv + records``: the TSV and one ``str`` per record (what a producer sends batch by batch).

CPU seconds per round (process time), medians over the rounds, and the ratio Python / C.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hrviz.adapters.queue.records import RecordEncoder  # noqa: E402
from hrviz.adapters.store import rows  # noqa: E402
from hrviz.core.detector import Detector  # noqa: E402
from hrviz.core.model import ReadingBatch  # noqa: E402
from hrviz.core.reader import read_series  # noqa: E402


def python_tsv(encoder: RecordEncoder, batch: ReadingBatch) -> None:
    batch._texts = None
    rows.tsv_python(batch)


def c_tsv(encoder: RecordEncoder, batch: ReadingBatch) -> None:
    rows.tsv_lines(batch)


def python_block(encoder: RecordEncoder, batch: ReadingBatch) -> None:
    batch._texts = None  # printed afresh, as ingest prints each batch once
    rows.tsv_python(batch)
    ("\n".join(encoder.encode_batch_python(batch)) + "\n").encode()


def python_records(encoder: RecordEncoder, batch: ReadingBatch) -> None:
    batch._texts = None
    rows.tsv_python(batch)
    encoder.encode_batch_python(batch)


def c_block(encoder: RecordEncoder, batch: ReadingBatch) -> None:
    rows.tsv_lines(batch)
    encoder.encode_block(batch)


def c_records(encoder: RecordEncoder, batch: ReadingBatch) -> None:
    rows.tsv_lines(batch)
    encoder.encode_batch(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default="bench/data/hr_1m.csv")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if rows._CTSV is None or RecordEncoder("s", 0)._c is None:
        sys.exit("the C kernels are not built (pip install -e .) or HRVIZ_PURE_PYTHON is set")
    with open(args.csv, "rb") as f:
        (series,) = read_series(f, args.csv)
    batches = [b for b, _ in Detector().batches(zip(series.ts, series.bpm, strict=True), 5000) if len(b)]
    encoder = RecordEncoder("25bf8f97e337", series.tz_offset_min)
    n = sum(len(b) for b in batches)
    marks = sum(len(b.marks) for b in batches)
    ways: dict[str, Callable[[RecordEncoder, ReadingBatch], None]] = {
        "python tsv": python_tsv,
        "C tsv": c_tsv,
        "python tsv + block": python_block,
        "C tsv + block": c_block,
        "python tsv + records": python_records,
        "C tsv + records": c_records,
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            start = time.process_time()
            for batch in batches:
                way(encoder, batch)
            times[name].append(time.process_time() - start)
    print(f"{n:,} readings ({marks:,} marked), {len(batches)} batches, {args.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, runs in times.items():
        per = med[name] / n * 1e9
        print(
            f"{name:22s} median {med[name]:.3f} CPU-s ({per:.0f} ns/reading)  runs {' '.join(f'{t:.3f}' for t in runs)}"
        )
    for way in ("tsv", "tsv + block", "tsv + records"):
        print(f"{way}: python / C = {med[f'python {way}'] / med[f'C {way}']:.1f}x")


if __name__ == "__main__":
    main()
