"""Generate a large 1 Hz heart-rate CSV with known anomalies, for benchmarking ``hrviz ingest``.

    python bench/generate.py --rows 1000000 --out bench/data/hr_1m.csv [--seed 42]

The file has a ``timestamp,bpm`` header and ISO-8601 timestamps with a UTC offset. Heart rate is
a mean-reverting random walk around a resting level with periodic exercise bouts (ramp up, hold,
ramp down). Injected on top, in fixed proportions: single- and multi-sample spikes and drops,
blank cells, placeholder ``0`` values, a few gaps of more than 60 s, short holes of 2-10 s,
out-of-range values (< 30 or > 220 bpm) and one flatline (a stuck sensor). The same ``--seed``
always gives the byte-identical file. A summary of what was injected goes to stderr (or, with
``--truth``, to a JSON file).

``--ahead N`` stamps N rows, evenly spread, 10 minutes ahead of their place (the out-of-order file
of issue 8: every row after each of them goes back in time until the clock catches up), with the
same values otherwise, for measuring the reader's sort.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

DEFAULT_START = "2026-03-14T07:30:00+01:00"
CHUNK = 50_000  # lines written per write() call

# Per-row probabilities of each injected anomaly (chosen so a 1M-row file holds hundreds of each).
P_SPIKE = 1 / 2500
P_DROP = 1 / 1500
P_BLANK = 1 / 400
P_ZERO = 1 / 1000
P_HOLE = 1 / 5000
P_OUT_OF_RANGE = 1 / 10_000
GAPS_PER_MILLION = 5
AHEAD_SECONDS = 600  # --ahead rows are stamped this far ahead
FLATLINE_SECONDS = 150
# Cumulative cut points for one uniform draw per row.
CUT_SPIKE = P_SPIKE
CUT_DROP = CUT_SPIKE + P_DROP
CUT_BLANK = CUT_DROP + P_BLANK
CUT_ZERO = CUT_BLANK + P_ZERO
CUT_OUT_OF_RANGE = CUT_ZERO + P_OUT_OF_RANGE


@dataclass(slots=True)
class Bout:
    """One exercise bout: seconds since the start at which it begins, its shape and its peak."""

    start: int
    ramp_up: int
    hold: int
    ramp_down: int
    peak: float

    @property
    def end(self) -> int:
        return self.start + self.ramp_up + self.hold + self.ramp_down

    def target(self, t: int, rest: float) -> float:
        """The bout's target heart rate at second ``t`` (``rest`` outside the bout)."""
        x = t - self.start
        if x < 0 or t >= self.end:
            return rest
        if x < self.ramp_up:
            return rest + (self.peak - rest) * x / self.ramp_up
        x -= self.ramp_up
        if x < self.hold:
            return self.peak
        x -= self.hold
        return self.peak - (self.peak - rest) * x / self.ramp_down


def plan_bouts(rng: random.Random, seconds: int) -> list[Bout]:
    """Exercise bouts 2-5 hours apart, 15-77 minutes long (ramps included), peaking at 120-175 bpm."""
    bouts: list[Bout] = []
    t = rng.randint(600, 3600)
    while t < seconds:
        bout = Bout(t, rng.randint(120, 420), rng.randint(600, 3600), rng.randint(180, 600), rng.uniform(120, 175))
        bouts.append(bout)
        t = bout.end + rng.randint(7200, 18000)
    return bouts


def resting_level(clock: int) -> float:
    """A day/night rhythm by local clock seconds: lowest (52 bpm) at 04:00, highest (68) at 16:00."""
    return 60.0 - 8.0 * math.cos(2 * math.pi * (clock / 86400.0 - 4 / 24))


def generate(rows: int, seed: int, start: datetime, injected: Counter[str], ahead: int = 0) -> Iterator[str]:
    """The file's lines, header first, each newline-terminated; counts what it injects in ``injected``.

    A generator, so that files of any size are written in constant memory.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = random.Random(seed)
    # Planned up front so they land in the same places for a given seed and row count.
    n_gaps = max(1, round(rows * GAPS_PER_MILLION / 1_000_000)) if rows >= 10_000 else 0
    gap_rows = {rng.randrange(rows // 20, rows - rows // 20) for _ in range(n_gaps)}
    flat_row = rng.randrange(rows // 3, 2 * rows // 3) if rows >= 10_000 else -1
    bouts = plan_bouts(rng, rows + rows // 10)  # a little slack for the gaps and holes
    bout_index = 0

    ahead_every = rows // (ahead + 1) if ahead else 0  # rows between two stamped ahead
    if ahead:
        injected["ahead_10_min"] = ahead
    yield "timestamp,bpm\n"
    t = 0  # seconds since the start
    first_sec = start.hour * 3600 + start.minute * 60 + start.second  # local clock at t = 0
    hr = resting_level(first_sec)
    excursion: list[float] = []  # pending spike / drop values to emit, one per row
    flat_left = 0
    flat_value = 0
    day_prefix_for = -1
    day_prefix = ""
    offset_text = start.isoformat()[19:]  # "+01:00"
    base_midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)

    for row in range(rows):
        if row in gap_rows:
            skip = rng.randint(90, 1800)
            t += skip
            injected["gap_gt_60s"] += 1
        elif rng.random() < P_HOLE:
            t += rng.randint(2, 10)
            injected["short_hole"] += 1

        # Underlying signal: mean reversion toward the resting level or the current bout.
        while bout_index < len(bouts) and bouts[bout_index].end <= t:
            bout_index += 1
        rest = resting_level(first_sec + t)
        target = bouts[bout_index].target(t, rest) if bout_index < len(bouts) else rest
        hr += 0.08 * (target - hr) + rng.gauss(0.0, 0.7)
        hr = min(max(hr, 40.0), 195.0)
        value = str(round(hr))

        if row == flat_row:
            flat_left, flat_value = FLATLINE_SECONDS, round(hr)
            injected["flatline"] += 1
        if flat_left:
            flat_left -= 1
            value = str(flat_value)
        elif excursion:
            value = str(round(excursion.pop()))
        else:
            r = rng.random()
            if r < CUT_SPIKE:
                width = rng.choice((1, 1, 2, 3))
                excursion = [min(hr + rng.uniform(38, 70), 215.0)] * width
                value = str(round(excursion.pop()))
                injected["spike"] += 1
            elif r < CUT_DROP:
                # A drop must stay >= 30 bpm below the level yet in range (a sensor slipping
                # mid-run, say); at resting rates there is no room for one, so none is injected.
                low = max(hr - rng.uniform(38, 55), 31.0)
                if hr - low >= 34:
                    excursion = [low] * rng.choice((1, 2))
                    value = str(round(excursion.pop()))
                    injected["drop"] += 1
            elif r < CUT_BLANK:
                value = ""
                injected["blank"] += 1
            elif r < CUT_ZERO:
                value = "0"
                injected["placeholder_zero"] += 1
            elif r < CUT_OUT_OF_RANGE:
                value = str(rng.choice((rng.randint(5, 25), rng.randint(225, 300))))
                injected["out_of_range"] += 1

        sec = first_sec + t + (AHEAD_SECONDS if ahead_every and row % ahead_every == ahead_every - 1 else 0)
        day = sec // 86400
        if day != day_prefix_for:
            day_prefix_for = day
            day_prefix = (base_midnight + timedelta(days=day)).strftime("%Y-%m-%dT")
        s = sec % 86400
        yield f"{day_prefix}{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}{offset_text},{value}\n"
        t += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows (default 1,000,000)")
    parser.add_argument("--out", type=Path, default=Path("bench/data/hr_1m.csv"), help="CSV to write")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--start", default=DEFAULT_START, help=f"first timestamp with offset ({DEFAULT_START})")
    parser.add_argument("--truth", type=Path, help="also write the injected-anomaly counts as JSON here")
    parser.add_argument("--ahead", type=int, default=0, help="rows stamped 10 minutes ahead (out of order)")
    args = parser.parse_args(argv)

    if args.rows < 1:
        parser.error("--rows must be at least 1")
    start = datetime.fromisoformat(args.start)
    if start.tzinfo is None or start.microsecond:
        parser.error("--start needs whole seconds and a UTC offset, e.g. 2026-03-14T07:30:00+01:00")
    injected: Counter[str] = Counter()
    lines = generate(args.rows, args.seed, start, injected, args.ahead)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as f:
        while chunk := list(itertools.islice(lines, CHUNK)):
            f.write("".join(chunk))
    summary = {"rows": args.rows, "seed": args.seed, "out": str(args.out), "injected": dict(sorted(injected.items()))}
    if args.truth is not None:
        args.truth.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
