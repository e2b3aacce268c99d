"""CPU per reading of ingest's insights fold (issue #8 item 8): ``fold_batch`` over the batches of a
1M-row file with the Python ``fold_plain`` and ``fold_inline`` and with their C twins (``_cfold.c``,
``_cinline.c``), interleaved, plus the same for ``Stats.add_batch``. The detector runs once, untimed; its batches are folded again per run.

    .venv/bin/python bench/bench_fold.py [--csv bench/data/hr_1m.csv] [--runs 7]

Prints CPU seconds (process time) per run and the medians; checks that both folds give the same
summary to the bit. Results: bench/README.md, "C kernels / CPU per reading".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hrviz.core.detector import Detector, DetectorConfig  # noqa: E402
from hrviz.core.ingest import BATCH, EFFORT_MAX_HR  # noqa: E402
from hrviz.core.insights import batch as fold  # noqa: E402
from hrviz.core.insights.summary import SummaryBuilder  # noqa: E402
from hrviz.core.model import ReadingBatch, Stats  # noqa: E402
from hrviz.core.reader import read_series  # noqa: E402


def batches_of(csv: Path) -> list[ReadingBatch]:
    with csv.open("rb") as f:
        [series] = read_series(f, str(csv))
    step, usual = series.cadence() or (1.0, 0.0)
    detector = Detector(DetectorConfig(), cadence=step, usual_step=usual)
    return [b for b, _ in detector.batches(zip(series.ts, series.bpm, strict=True), BATCH) if b]


def timed(run: Callable[[], object]) -> tuple[float, object]:
    start = time.process_time()
    result = run()
    return time.process_time() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "bench/data/hr_1m.csv")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    batches = batches_of(args.csv)
    readings = sum(len(b) for b in batches)
    Impl = tuple[Callable[..., bool | None], Callable[..., bool | None]]
    impls: dict[str, Impl] = {"python": (fold.fold_plain, fold.fold_inline)}
    if fold._cfold is not None and fold._cinline is not None:
        impls["c"] = (fold._cfold.fold_plain, fold._cinline.fold_inline)

    def fold_all(impl: Impl) -> Callable[[], object]:
        def run() -> object:
            fold._FOLD_PLAIN, fold._FOLD_INLINE = impl
            builder = SummaryBuilder(EFFORT_MAX_HR)
            for b in batches:
                fold.fold_batch(builder, b)
            return builder.finish()

        return run

    def stats_all() -> object:
        stats = Stats()
        for b in batches:
            stats.add_batch(b)
        return stats

    times: dict[str, list[float]] = {name: [] for name in [*impls, "Stats.add_batch"]}
    results: dict[str, object] = {}
    for _ in range(args.runs):
        for name, impl in impls.items():
            took, results[name] = timed(fold_all(impl))
            times[name].append(took)
        times["Stats.add_batch"].append(timed(stats_all)[0])
    print(f"{readings:,} readings in {len(batches)} batches, {args.runs} runs, load {os.getloadavg()[0]:.1f}")
    for name, values in times.items():
        runs = " ".join(f"{v:.3f}" for v in values)
        print(f"{name:16s} median {statistics.median(values):.3f} CPU-s  ({runs})")
    if "c" in results:
        same = repr(asdict(results["c"])) == repr(asdict(results["python"]))  # type: ignore[call-overload]
        ratio = statistics.median(times["c"]) / statistics.median(times["python"])
        print(f"fold_batch C / Python: {ratio:.2f}x; same summary to the bit: {same}")
        if not same:
            raise SystemExit("the C fold's summary differs from the Python one")


if __name__ == "__main__":
    main()
