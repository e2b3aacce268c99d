"""What the reader hands to the detector: one subject's samples, sorted and de-duplicated.

Kept as two compact ``array('d')`` columns (16 bytes a row) rather than a list of objects, so that
a file of millions of rows fits in a few tens of MB while it is sorted.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from hrviz.core.model import RawSample


@dataclass(slots=True)
class Series:
    """One subject's samples. ``bpm`` holds NaN where the file had no usable value."""

    subject: str | None
    ts: array = field(default_factory=lambda: array("d"))
    bpm: array = field(default_factory=lambda: array("d"))
    rows: int = 0  # data rows read for this subject, before de-duplication
    duplicates: int = 0  # rows dropped because their timestamp was already seen
    tz_offset_min: int | None = None  # the file's UTC offset in minutes; None for naive times

    def __len__(self) -> int:
        return len(self.ts)

    def samples(self) -> Iterator[RawSample]:
        for ts, bpm in zip(self.ts, self.bpm, strict=True):
            yield RawSample(ts, None if math.isnan(bpm) else bpm)

    def median_interval(self) -> float | None:
        """The file's own normal cadence: the median step between consecutive timestamps."""
        n = len(self.ts)
        if n < 2:
            return None
        ts = self.ts
        if n > 200_001:  # a strided sample keeps this O(1) in memory for huge files
            stride = n // 100_000
            steps = sorted(ts[i + 1] - ts[i] for i in range(0, n - 1, stride))
        else:
            steps = sorted(ts[i + 1] - ts[i] for i in range(n - 1))
        return steps[len(steps) // 2]
