"""Detection quality per cadence: labelled anomalies injected into real clean recordings.

    python bench/bench_detect.py [--data /work/shared/data/real] [--seed 7] [--json-out bench/results/detect.json]

Base signals are real 1 Hz recordings from the shared data folder (WHOOP, Garmin, Empatica E4,
Polar, Wahoo), cut into continuous pieces (no step over 5 s). Each piece is resampled to a cadence
by sample-and-hold (the value at a time is the latest real reading: every value is one the device
reported) at 1 s, 5 s, Fitbit's irregular 5/10/15 s, 60 s and Apple-like 2–10 min steps, and cut
into windows. On each window the detector is run twice:

- **clean**: as resampled. Every event found is a false alarm (reported per hour of clean data).
  "Clean" is decided on the base signal, without the detector: a piece is cut wherever the heart
  rate moves 25 bpm or more within 2 minutes (chest-strap artefacts, the onset of exercise), and
  wherever the base has a hole over 30 s.
- **injected**: one anomaly of each kind at evenly spaced places, each labelled with its span:
  spike / drop (1–3 readings, 35–70 bpm above / 33–50 below the median of the 5 readings before),
  missing (1–4 blank cells), out_of_range (1–2 readings of 240–260 or 15–25), flatline (the
  current value repeated for max(75 s, 14 readings)), gap (readings removed for a hole that is
  long for the cadence: 90–600 s at 1–15 s, 15–40 min at 60 s, 1.5–2.5 h at 2–10 min).

A detected event matches a label of the same kind when their spans overlap within one step; each
label matches once. An event the clean window already had is counted once, as a false alarm of the
clean run, and not again (as a false positive) in each injected run of that window. F1 per kind and macro-F1 per cadence. Where windows are few (60 s, 2–10 min),
each window is injected several times (fresh places and values each round). The detector's settings are the
defaults; they were fixed before this benchmark was first run. The Apple Health export is also
checked on its own: which of its gaps are true holes (a step of at least 1 h that is at least 10
times the median of the 20 steps on either side).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hrviz.core.columns import column_batches  # noqa: E402
from hrviz.core.detector import Detector  # noqa: E402
from hrviz.core.model import Anomaly  # noqa: E402
from hrviz.core.reader import read_series  # noqa: E402
from hrviz.core.series import cadence_of  # noqa: E402

BASES = (  # about 1 Hz: the base of every cadence
    "whoop4_openwhoop_2026-02-19.csv",
    "garmin_flirt_mixed_metrics_2019-10-16.csv",
    "empatica_e4_stresspredict_S02_HR.csv",
    "polar_flow_running_2015-09-06.csv",
    "wahoo_fitness_running_2016-10-07.csv",
)
SPARSE_BASES = (  # 5/10/15 s: a base for the 60 s and 2-10 min cadences only
    "fitbit_kaggle_user2022484408_2016-04-01_to_04-03.csv",
    "fitbit_kaggle_user8877689391_2016-05-10_to_05-12.csv",
    "fitbit_google_takeout_heart_rate_2024-03-31.csv",
)
MAX_HOLD = 30.0  # a base piece ends at a hole longer than this (sample-and-hold bridges shorter ones)
CALM_BPM = 25.0  # a clean piece never moves this much within CALM_SECONDS (no artefact, no exercise onset)
CALM_SECONDS = 30.0
AFTER_GAP = 5  # readings after an injected gap where no other anomaly is labelled
SLOT = 18  # readings between injected anomalies: room for a flatline and a fresh level
ROUNDS = {"60 s": 4, "Apple 2-10 min": 12}  # injection rounds per window where windows are few
KINDS = ("spike", "drop", "missing", "out_of_range", "flatline", "gap")
Sample = tuple[float, float | None]


@dataclass(frozen=True)
class Rhythm:
    name: str
    step: Callable[[random.Random], float]
    readings: int  # per window
    gap: tuple[float, float]  # seconds of an injected hole
    sparse: bool = False  # also resampled from the 5/10/15 s bases


RHYTHMS = (
    Rhythm("1 s", lambda r: 1.0, 900, (90, 600)),
    Rhythm("5 s", lambda r: 5.0, 360, (90, 600)),
    Rhythm("Fitbit 5/10/15 s", lambda r: r.choice((5.0, 5.0, 10.0, 15.0)), 300, (90, 600)),
    Rhythm("60 s", lambda r: 60.0, 150, (900, 2400), sparse=True),
    Rhythm("Apple 2-10 min", lambda r: float(r.randint(120, 600)), 50, (5400, 9000), sparse=True),
)


@dataclass
class Label:
    kind: str
    start: float
    end: float


def pieces(data: Path, names: tuple[str, ...]) -> list[tuple[str, list[float], list[float]]]:
    """Continuous stretches (no step over :data:`MAX_HOLD`, at least 10 min) of the base recordings."""
    out = []
    for name in names:
        with (data / name).open("rb") as fh:
            series = max(read_series(fh, name), key=len)
        unsteady = _unsteady(series.ts, series.bpm)
        ts, bpm = [], []
        for t, b in zip(series.ts, series.bpm, strict=True):
            if math.isnan(b) or not 30 <= b <= 220:
                continue
            if ts and (t - ts[-1] > MAX_HOLD or int(t // (CALM_SECONDS / 2)) in unsteady):
                if ts[-1] - ts[0] >= 600:
                    out.append((name, ts, bpm))
                ts, bpm = [], []
            ts.append(t)
            bpm.append(b)
        if ts and ts[-1] - ts[0] >= 600:
            out.append((name, ts, bpm))
    return out


def _unsteady(ts: Sequence[float], bpm: Sequence[float]) -> set[int]:
    """Half-CALM_SECONDS buckets whose neighbourhood moves CALM_BPM or more: left out of clean pieces."""
    half = CALM_SECONDS / 2
    lo: dict[int, float] = {}
    hi: dict[int, float] = {}
    for t, b in zip(ts, bpm, strict=True):
        if math.isnan(b):
            continue
        k = int(t // half)
        lo[k], hi[k] = min(lo.get(k, b), b), max(hi.get(k, b), b)
    out = set()
    for k in lo:
        near = [j for j in (k - 1, k, k + 1) if j in lo]
        if max(hi[j] for j in near) - min(lo[j] for j in near) >= CALM_BPM:
            out.add(k)
    return out


def windows(base: list[tuple[str, list[float], list[float]]], rhythm: Rhythm, rng: random.Random) -> list[list[Sample]]:
    """Sample-and-hold resampling of each piece, cut into windows of ``rhythm.readings``."""
    out = []
    for _, ts, bpm in base:
        t, current = ts[0], []
        while t <= ts[-1]:
            current.append((t, bpm[bisect_right(ts, t) - 1]))
            if len(current) == rhythm.readings:
                out.append(current)
                current = []
            t += rhythm.step(rng)
        if len(current) >= rhythm.readings * 0.6:
            out.append(current)
    return out


def inject(window: list[Sample], rhythm: Rhythm, rng: random.Random) -> tuple[list[Sample], list[Label]]:
    """Labelled anomalies of each kind (as many as fit 18 readings apart), in a random order, evenly spaced."""
    samples: list[Sample] = list(window)
    order = list(KINDS)
    rng.shuffle(order)
    order = order[: max(1, min(len(KINDS), (len(samples) - 20) // SLOT))]
    slot = (len(samples) - 20) // len(order)
    labels: list[Label] = []
    cut: tuple[float, float] | None = None
    for n, kind in enumerate(order):
        i = 20 + n * slot + slot // 4
        level = statistics.median(b for _, b in samples[i - 5 : i] if b is not None)
        if kind in ("spike", "drop"):
            width = rng.choice((1, 1, 2, 3))
            if kind == "drop" and level - 33 < 32:
                kind, change = "spike", rng.uniform(35, 70)  # no room below a resting rate for a drop
            else:
                change = rng.uniform(35, 70) if kind == "spike" else -rng.uniform(33, min(50, level - 32))
            for j in range(i, i + width):
                samples[j] = (samples[j][0], float(round(min(level + change, 215.0))))
            labels.append(Label(kind, samples[i][0], samples[i + width - 1][0]))
        elif kind == "missing":
            width = rng.randint(1, 4)
            for j in range(i, i + width):
                samples[j] = (samples[j][0], None)
            labels.append(Label(kind, samples[i][0], samples[i + width - 1][0]))
        elif kind == "out_of_range":
            width = rng.choice((1, 2))
            value = float(rng.randint(240, 260) if rng.random() < 0.5 else rng.randint(15, 25))
            for j in range(i, i + width):
                samples[j] = (samples[j][0], value)
            labels.append(Label(kind, samples[i][0], samples[i + width - 1][0]))
        elif kind == "flatline":
            value, j = samples[i - 1][1], i
            while j < len(samples) and (j - i < 14 or samples[j][0] - samples[i][0] < 75):
                samples[j] = (samples[j][0], value)
                j += 1
            labels.append(Label(kind, samples[i - 1][0], samples[j - 1][0]))
        else:
            cut = (samples[i][0], samples[i][0] + rng.uniform(*rhythm.gap))
    if cut is not None:  # last: removing readings moves indices
        before = [s for s in samples if s[0] < cut[0]]
        after = [s for s in samples if s[0] > cut[1]]
        # the detector needs a few readings of level after a gap (docs/anomalies.md): no spike or drop there
        settle = after[AFTER_GAP][0] if len(after) > AFTER_GAP else math.inf
        original = dict(window)
        for lab in [lab for lab in labels if lab.kind in ("spike", "drop") and cut[1] < lab.start <= settle]:
            after = [(t, original[t]) if lab.start <= t <= lab.end else (t, b) for t, b in after]
            labels.remove(lab)
        labels = [lab for lab in labels if lab.end < cut[0] or lab.start > cut[1]]
        if before and after:
            labels.append(Label("gap", before[-1][0], after[0][0]))
        samples = before + after
    return samples, labels


def detect(samples: list[Sample]) -> list[Anomaly]:
    """Ingest's path: the samples as columns (a blank as NaN), the C kernel when it is built."""
    head = cadence_of([t for t, _ in samples][:65536]) or (1.0, 0.0)
    ts = array("d", (t for t, _ in samples))
    bpm = array("d", (math.nan if b is None else b for _, b in samples))
    out: list[Anomaly] = []
    for _, events in column_batches(Detector(cadence=head[0], usual_step=head[1]), [(ts, bpm)]):
        out += events
    return out


def score(found: list[Anomaly], labels: list[Label], tol: float, known: list[Anomaly]) -> Counter[tuple[str, str]]:
    """tp / fp / fn per kind; events the clean window already had (``known``) are not scored again."""
    counts: Counter[tuple[str, str]] = Counter()
    unmatched = list(labels)
    for e in found:
        kind = str(e.kind)
        if any(str(k.kind) == kind and k.start <= e.end and k.end >= e.start for k in known):
            continue
        hit = next(
            (lab for lab in unmatched if lab.kind == kind and e.start <= lab.end + tol and e.end >= lab.start - tol),
            None,
        )
        if hit is None:
            counts[(kind, "fp")] += 1
        else:
            unmatched.remove(hit)
            counts[(kind, "tp")] += 1
    for lab in unmatched:
        counts[(lab.kind, "fn")] += 1
    return counts


def f1(c: Counter[tuple[str, str]], kind: str) -> float:
    tp, fp, fn = c[(kind, "tp")], c[(kind, "fp")], c[(kind, "fn")]
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def apple_holes(data: Path) -> dict[str, object]:
    """The Apple export's gaps against its true holes (defined without the detector)."""
    name = "apple_health_export_2015-2017.csv"
    with (data / name).open("rb") as fh:
        (s,) = read_series(fh, name)
    ts = list(s.ts)
    steps = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    holes = set()
    for i, step in enumerate(steps):
        around = steps[max(0, i - 20) : i] + steps[i + 1 : i + 21]
        if step >= 3600 and around and step >= 10 * statistics.median(around):
            holes.add((ts[i], ts[i + 1]))
    gaps = {(e.start, e.end) for e in detect(list(zip(ts, s.bpm, strict=True))) if str(e.kind) == "gap"}
    found = gaps & holes
    return {"true_holes": len(holes), "gaps": len(gaps), "gaps_that_are_true_holes": len(found),
            "true_holes_missed": len(holes - gaps)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/real"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    dense, sparse = pieces(args.data, BASES), pieces(args.data, SPARSE_BASES)
    results: dict[str, object] = {}
    print(
        "| cadence | windows | clean hours | false alarms / h | "
        + " | ".join(f"F1 {k}" for k in KINDS)
        + " | macro-F1 |"
    )
    print("|---" * (5 + len(KINDS)) + "|")
    for rhythm in RHYTHMS:
        counts: Counter[tuple[str, str]] = Counter()
        false_alarms: Counter[str] = Counter()
        hours = 0.0
        wins = windows(dense + sparse if rhythm.sparse else dense, rhythm, rng)
        for window in wins:
            hours += (window[-1][0] - window[0][0]) / 3600
            known = detect(window)
            false_alarms.update(str(e.kind) for e in known)
            for _ in range(ROUNDS.get(rhythm.name, 1)):
                samples, labels = inject(window, rhythm, rng)
                steps = [b[0] - a[0] for a, b in zip(samples, samples[1:], strict=False)]
                counts += score(detect(samples), labels, max(steps), known)
        per_kind = {k: round(f1(counts, k), 3) for k in KINDS}
        macro = round(sum(per_kind.values()) / len(KINDS), 3)
        per_hour = sum(false_alarms.values()) / hours if hours else 0.0
        results[rhythm.name] = {
            "windows": len(wins), "clean_hours": round(hours, 1), "false_alarms": dict(false_alarms),
            "false_alarms_per_hour": round(per_hour, 3), "f1": per_kind, "macro_f1": macro,
            "counts": {f"{k}/{w}": n for (k, w), n in sorted(counts.items())},
        }  # fmt: skip
        cells = " | ".join(f"{per_kind[k]:.2f}" for k in KINDS)
        print(f"| {rhythm.name} | {len(wins)} | {hours:.1f} | {per_hour:.2f} | {cells} | **{macro:.3f}** |")
    results["apple_export"] = apple_holes(args.data)
    print("\nApple Health export:", json.dumps(results["apple_export"]))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
