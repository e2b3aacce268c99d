"""The file's own rhythm, followed as it changes: hourly, then every 2 minutes, then every few seconds.

Devices sample differently, and one export can hold several of them (an Apple Health file goes
from hourly readings to 2-minute ones to seconds). Every rule that says "too long" or "too sudden"
must judge against the rhythm of *this* part of the file, so the detector keeps a rolling estimate:
the median and the 90th percentile of the last :data:`WINDOW` steps, recomputed every
:data:`RETUNE` steps (sorting 32 floats every 16 readings costs almost nothing per reading).
"""

from __future__ import annotations

from dataclasses import dataclass, field

WINDOW = 32  # steps the local cadence is measured over
RETUNE = 16  # the estimate is recomputed after this many new steps
GAP_FACTOR = 4.0  # a hole must also be this many times the usual step: irregular sources wander ...
GAP_STEPS = 10.0  # ... and this many cadences: at 2 min a reading, 8 minutes without one is no hole
# a cadence this many times faster or slower than the segment's starts a new one (Fitbit: 5 vs 15 s is one rhythm)
SEGMENT_FACTOR = 4.0


@dataclass(slots=True)
class Segment:
    """A stretch of the file with one rhythm. ``step`` (the estimate that opened it) is what a new
    rhythm is compared with; ``every`` and ``usual_max`` report the medians of every estimate in it."""

    start: float
    end: float
    step: float
    usual: float  # 90th-percentile step: how irregular the device normally is
    steps: list[float] = field(default_factory=list)  # the estimates made inside it
    usuals: list[float] = field(default_factory=list)

    @property
    def every(self) -> float:
        return _median(self.steps) if self.steps else self.step

    @property
    def usual_max(self) -> float:
        return _median(self.usuals) if self.usuals else self.usual


@dataclass(slots=True)
class Cadence:
    """Rolling cadence, and the thresholds derived from it.

    ``missing_after``: a step longer than this has readings missing (``missing_factor`` × cadence
    and 1.5 × the usual step, so Fitbit's 5/10/15 s rhythm is not "missing"); they are filled if
    the step is no longer than ``max_fill``. ``gap_after``: a step longer than this (``max_fill``,
    :data:`GAP_FACTOR` × the usual step and :data:`GAP_STEPS` × the cadence) may be a gap; whether
    it is one is decided once the next steps show whether the file carried on at its old rhythm
    (see the detector). A step in between is an irregular source's ordinary wandering: neither
    filled nor a gap.
    """

    missing_factor: float
    max_fill: float
    step: float = 1.0
    usual: float = 0.0
    missing_after: float = 1.5
    gap_after: float = 60.0
    steps: list[float] = field(default_factory=list)  # new steps since the last retune
    window: list[float] = field(default_factory=list)  # the last WINDOW steps
    segments: list[Segment] = field(default_factory=list)

    def start(self, step: float, usual: float) -> None:
        """The first estimate, from the head of the file (the caller measured it)."""
        self.step = step if step > 0 else 1.0
        self.usual = max(usual, 0.0)
        self._thresholds()

    def _thresholds(self) -> None:
        self.missing_after = max(self.missing_factor * self.step, 1.5 * self.usual)
        self.gap_after = max(self.max_fill, self.missing_after, GAP_FACTOR * self.usual, GAP_STEPS * self.step)

    def add(self, step: float, ts: float) -> None:
        """One more step (the slow path; the detector's hot loop appends to ``steps`` itself)."""
        self.steps.append(step)
        if len(self.steps) >= RETUNE:
            self.retune(ts)

    def retune(self, ts: float) -> None:
        """Fold the new steps into the window and re-estimate; open a segment when the rhythm changed.

        hrviz/core/_cdetect.c does the very same in C when a segment is only extended (and calls this
        method, or :meth:`note`, for anything else): a change here is a change there."""
        window = self.window
        window.extend(self.steps)
        self.steps.clear()
        if len(window) > WINDOW:
            del window[: len(window) - WINDOW]
        ordered = sorted(window)
        self.step = ordered[len(ordered) // 2]
        self.usual = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        self._thresholds()
        self.note(ts)

    def note(self, ts: float) -> None:
        """Extend the current segment to ``ts``, or start a new one if the rhythm moved far enough."""
        segments = self.segments
        if segments:
            current = segments[-1]
            if current.start == current.end:  # only the first estimate so far: the measured one replaces it
                current.step, current.usual, current.end = self.step, self.usual, ts
                current.steps.append(self.step)
                current.usuals.append(self.usual)
                return
            ratio = self.step / current.step if current.step > 0 else SEGMENT_FACTOR
            if 1 / SEGMENT_FACTOR < ratio < SEGMENT_FACTOR:
                current.end = ts
                current.steps.append(self.step)
                current.usuals.append(self.usual)
                return
            # the window that revealed the new rhythm began about WINDOW steps ago
            since = max(current.start, ts - sum(self.window[-RETUNE:]))
            current.end = since
            segments.append(Segment(since, ts, self.step, self.usual, [self.step], [self.usual]))
            return
        segments.append(Segment(ts, ts, self.step, self.usual))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]
