"""What the reader hands to the detector: one subject's samples, sorted and de-duplicated.

Kept as two compact ``array('d')`` columns (16 bytes a row) rather than a list of objects, so that
a file of millions of rows fits in a few tens of MB while it is sorted.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class Series:
    """One subject's samples. ``bpm`` holds NaN where the file had no usable value."""

    subject: str | None
    ts: array = field(default_factory=lambda: array("d"))
    bpm: array = field(default_factory=lambda: array("d"))
    rows: int = 0  # data rows read for this subject, before de-duplication
    duplicates: int = 0  # rows dropped because their timestamp was already seen
    tz_offset_min: int | None = None  # the file's UTC offset in minutes; None for naive times
    warnings: list[str] = field(default_factory=list)  # damage the reader worked around (a truncated FIT)
    skipped: int = 0  # rows left out for an unusable time (docs/formats.md, "Bad rows")
    skipped_lines: tuple[int, ...] = ()  # the first few of their line numbers
    ignored: dict[str, int] = field(default_factory=dict)  # rows not used as heart rate, by reason

    def __len__(self) -> int:
        return len(self.ts)

    def cadence(self) -> tuple[float, float] | None:
        """The file's own rhythm, from its first :data:`CADENCE_SAMPLES` timestamps (see :func:`cadence_of`)."""
        return cadence_of(self.ts[:CADENCE_SAMPLES])


CADENCE_SAMPLES = 65_536  # enough for a stable median; small enough to know before a big file is read


def cadence_of(ts: Sequence[float]) -> tuple[float, float] | None:
    """(median step, 90th-percentile step) between consecutive timestamps.

    The median is the grid missing readings are filled on; the 90th percentile tells how
    irregular the device is normally (Fitbit steps 5, 10 or 15 s), so that its ordinary
    rhythm is not reported as missing readings. Taken from the start of the recording so that
    a file streamed chunk by chunk and a file read whole get the same answer.
    """
    if len(ts) < 2:
        return None
    steps = sorted(ts[i + 1] - ts[i] for i in range(len(ts) - 1))
    return steps[len(steps) // 2], steps[min(len(steps) - 1, int(len(steps) * 0.9))]
