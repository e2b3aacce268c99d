"""What the detector keeps open until it knows: a run that becomes one event, an excursion whose
readings are held until it comes back or stays, a long absence awaiting its verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from hrviz.core.model import Anomaly, Kind


@dataclass(slots=True)
class Run:
    """An open run of readings that will become one event when it closes."""

    kind: Kind
    start: float
    end: float
    bpm: float | None = None
    baseline: float | None = None

    def event(self) -> Anomaly:
        delta = None
        if self.kind in (Kind.SPIKE, Kind.DROP) and self.baseline is not None and self.bpm is not None:
            delta = round(self.bpm - self.baseline, 2)
        return Anomaly(self.kind, self.start, self.end, self.bpm, self.baseline, delta)


@dataclass(slots=True)
class Excursion(Run):
    values: list[float] = field(default_factory=list)  # the measured readings away from the level


@dataclass(slots=True)
class Hole:
    """A long absence whose verdict waits for the next steps: a gap, or the file slowing down."""

    FOLLOW: ClassVar[int] = 3  # steps after it that tell a hole from a change of rhythm

    start: float
    end: float
    step: float  # the local cadence before it
    before: float  # the step just before it
    follow: list[float] = field(default_factory=list)

    def verdict(self) -> Anomaly | None:
        """A gap unless the file carried on at about this slow rhythm (then it is the rhythm).

        At the very end of the file there is nothing after it: the step before it stands in.
        """
        steps = self.follow or [self.before]
        if sorted(steps)[(len(steps) - 1) // 2] * 3 >= self.end - self.start:
            return None
        return Anomaly(Kind.GAP, self.start, self.end, baseline=self.step)


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
