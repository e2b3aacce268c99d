"""One pass over a session's readings: everything the insights need, folded as they stream by.

A reading stands for the time until the next one, up to :data:`GAP_FACTOR` times the session's
typical interval (the median spacing of its first readings) and at least :data:`GAP_FLOOR_S`;
longer spacing is a gap and counts as not covered. Only measured, in-range readings
(``counts_in_stats``) count for heart-rate figures: filled readings and gaps never count as time in
a zone or in an episode's peak.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hrviz.core.model import Reading, counts_in_stats

GAP_FACTOR = 2.5  # a spacing longer than this many typical intervals is a gap...
GAP_FLOOR_S = 60.0  # ...and longer than a minute (the detector fills shorter absences: max_fill)
PROBE = 257  # readings buffered to find the typical interval before folding starts
HIGH_BPM, LOW_BPM, EPISODE_S = 120.0, 40.0, 600.0  # Apple's high/low heart-rate notifications
EPISODE_GRACE_S = 60.0  # an episode ends after this long on the other side (one dip does not split it)
EPISODE_READINGS = 2  # one reading held for an hour (hourly data) is not a sustained episode
EFFORT_FRACTION, EFFORT_S, RECOVERY_S = 0.8, 60.0, 60.0  # a hard effort: ≥ 80 % of max HR for ≥ 60 s; HRR60


@dataclass(slots=True)
class Episode:
    """A sustained run above ``high`` or below ``low`` (filled readings bridge it, gaps end it)."""

    kind: str  # "high" | "low"
    start: float
    end: float
    peak_bpm: float  # the highest (high) or lowest (low) measured value in it

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class Recovery:
    """HRR60: how far the heart rate fell in the 60 s after a hard effort ended."""

    effort_start: float
    effort_end: float
    end_bpm: float  # the last measured value of the effort
    after_bpm: float  # the measured value 60 s later
    peak_bpm: float

    @property
    def drop_bpm(self) -> float:
        return self.end_bpm - self.after_bpm


@dataclass(slots=True)
class Minute:
    """Measured readings of one clock minute: the resting rate and the charts are built from these."""

    start: float
    count: int = 0
    seconds: float = 0.0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")

    @property
    def mean(self) -> float:
        return self.total / self.count


@dataclass(slots=True)
class Summary:
    """What a pass over the readings found; see :mod:`hrviz.core.insights.report` for the figures."""

    readings: int = 0
    filled: int = 0
    step: float = 1.0  # the typical interval, seconds
    first_ts: float | None = None
    last_ts: float | None = None
    covered_s: float = 0.0
    measured_s: float = 0.0  # covered by measured, in-range readings
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds) of each gap
    seconds_at: dict[float, float] = field(default_factory=dict)  # bpm → measured seconds at that value
    total_bpm: float = 0.0
    count_bpm: int = 0
    max_bpm: float | None = None
    minutes: list[Minute] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)

    @property
    def recorded_s(self) -> float:
        if self.first_ts is None or self.last_ts is None:
            return 0.0
        return self.last_ts - self.first_ts + self.step

    @property
    def mean_bpm(self) -> float | None:
        return self.total_bpm / self.count_bpm if self.count_bpm else None


def typical_interval(ts: list[float]) -> float:
    """The median positive spacing; 1 s when there is none to measure."""
    steps = [b - a for a, b in zip(ts, ts[1:], strict=False) if b > a]
    return statistics.median(steps) if steps else 1.0


class _Run:
    """A run above (or below) a threshold in progress."""

    __slots__ = ("start", "end", "peak", "last_measured", "out_since", "count")

    def __init__(self, ts: float, end: float, bpm: float) -> None:
        self.start, self.end, self.peak, self.last_measured = ts, end, bpm, bpm
        self.count = 1  # measured readings on its side of the threshold
        self.out_since: float | None = None  # when the values went to the other side of the threshold


class SummaryBuilder:
    """Feed readings in seq order (any number of calls), then :meth:`finish`.

    ``max_hr`` sets what a hard effort is for HRR60 (``EFFORT_FRACTION`` of it); everything else
    is independent of the person, so the zones can be drawn later for any maximum.
    """

    def __init__(
        self, max_hr: float | None = None, high: float = HIGH_BPM, low: float = LOW_BPM, min_episode: float = EPISODE_S
    ) -> None:
        self.s = Summary()
        self.high, self.low, self.min_episode = high, low, min_episode
        self.effort_bpm = None if max_hr is None else EFFORT_FRACTION * max_hr
        self._probe: list[Reading] | None = []
        self._prev: Reading | None = None
        self._runs: dict[str, _Run | None] = {"high": None, "low": None}
        self._effort: _Run | None = None
        self._pending: tuple[_Run, float] | None = None  # an ended effort waiting for its +60 s value
        self._minute: Minute | None = None

    def add(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            if self._probe is not None:
                self._probe.append(r)
                if len(self._probe) >= PROBE:
                    self._start_folding()
            else:
                self._fold(r)

    def finish(self) -> Summary:
        if self._probe is not None:
            self._start_folding()
        if self._prev is not None:
            self._close(self._prev, self.s.step)
        for kind in ("high", "low"):
            self._end_run(kind)
        s = self.s
        if self._minute is not None:
            s.minutes.append(self._minute)
        return s

    def _start_folding(self) -> None:
        probe, self._probe = self._probe or [], None
        self.s.step = typical_interval([r.ts for r in probe])
        for r in probe:
            self._fold(r)

    def _fold(self, r: Reading) -> None:
        s, prev = self.s, self._prev
        s.readings += 1
        if r.filled:
            s.filled += 1
        if s.first_ts is None:
            s.first_ts = r.ts
        s.last_ts = r.ts
        if prev is not None:
            dt = r.ts - prev.ts
            if dt > max(GAP_FACTOR * s.step, GAP_FLOOR_S):
                self._close(prev, s.step)
                s.gaps.append((prev.ts + s.step, dt - s.step))
                for kind in ("high", "low"):
                    self._end_run(kind)
                self._effort, self._pending = None, None
            else:
                self._close(prev, dt)
        self._prev = r

    def _close(self, r: Reading, span: float) -> None:
        """Reading ``r`` stood for ``span`` seconds: count them."""
        s = self.s
        s.covered_s += span
        if not counts_in_stats(r.filled, r.kinds):
            for run in self._runs.values():  # a filled reading bridges a run without setting its peak
                if run is not None and run.out_since is None:
                    run.end = r.ts + span
            return
        bpm = r.bpm
        s.measured_s += span
        s.seconds_at[bpm] = s.seconds_at.get(bpm, 0.0) + span
        s.total_bpm += bpm
        s.count_bpm += 1
        if s.max_bpm is None or bpm > s.max_bpm:
            s.max_bpm = bpm
        self._minute_add(r.ts, bpm, span)
        self._track("high", bpm > self.high, r.ts, span, bpm)
        self._track("low", bpm < self.low, r.ts, span, bpm)
        if self.effort_bpm is not None:
            self._track_effort(r.ts, span, bpm)

    def _minute_add(self, ts: float, bpm: float, span: float) -> None:
        start = ts - ts % 60
        m = self._minute
        if m is None or m.start != start:
            if m is not None:
                self.s.minutes.append(m)
            m = self._minute = Minute(start)
        m.count += 1
        m.seconds += span
        m.total += bpm
        m.low = min(m.low, bpm)
        m.high = max(m.high, bpm)

    def _track(self, kind: str, inside: bool, ts: float, span: float, bpm: float) -> None:
        run = self._runs[kind]
        if not inside:
            if run is not None:
                if run.out_since is None:
                    run.out_since = ts
                if ts + span - run.out_since >= EPISODE_GRACE_S:
                    self._end_run(kind)
        elif run is None:
            self._runs[kind] = _Run(ts, ts + span, bpm)
        else:
            run.end, run.out_since = ts + span, None
            run.count += 1
            run.peak = max(run.peak, bpm) if kind == "high" else min(run.peak, bpm)

    def _end_run(self, kind: str) -> None:
        run = self._runs[kind]
        if run is not None and run.end - run.start >= self.min_episode and run.count >= EPISODE_READINGS:
            self.s.episodes.append(Episode(kind, run.start, run.end, run.peak))
            self.s.episodes.sort(key=lambda e: e.start)
        self._runs[kind] = None

    def _track_effort(self, ts: float, span: float, bpm: float) -> None:
        assert self.effort_bpm is not None
        pending = self._pending
        if pending is not None:
            done, end_ts = pending
            if bpm >= self.effort_bpm:  # back to hard work before the minute was over: no HRR60
                self._pending = None
            elif ts >= end_ts + RECOVERY_S:
                if ts <= end_ts + RECOVERY_S + self.s.step:
                    self.s.recoveries.append(Recovery(done.start, end_ts, done.last_measured, bpm, done.peak))
                self._pending = None
        effort = self._effort
        if bpm >= self.effort_bpm:
            if effort is None:
                self._effort = _Run(ts, ts + span, bpm)
            else:
                effort.end = ts + span
                effort.peak = max(effort.peak, bpm)
                effort.last_measured = bpm
        elif effort is not None:
            if effort.end - effort.start >= EFFORT_S:
                self._pending = (effort, ts)
            self._effort = None


RESTING_WINDOW = 5  # minutes: the resting rate is the lowest mean over this many consecutive minutes
MINUTE_COVERED_S = 30.0  # a minute counts for the resting rate when half of it was measured


def resting_bpm(minutes: Sequence[Minute]) -> float | None:
    """The lowest mean over ``RESTING_WINDOW`` consecutive, well-measured minutes.

    A session shorter than that: its lowest well-measured minute; none at all: None.
    """
    good = [m for m in minutes if m.seconds >= MINUTE_COVERED_S]
    best: float | None = None
    starts, totals, counts = [m.start for m in good], [m.total for m in good], [m.count for m in good]
    first = 0  # where the current run of consecutive minutes began
    for i in range(len(good)):  # a session has ~1,440 minutes a day: sums of slices, not of generators
        if i > first and starts[i] - starts[i - 1] != 60:
            first = i
        if i - first + 1 >= RESTING_WINDOW:
            window = slice(i - RESTING_WINDOW + 1, i + 1)
            mean = sum(totals[window]) / sum(counts[window])
            best = mean if best is None else min(best, mean)
    if best is None and good:
        best = min(m.mean for m in good)
    return None if best is None else round(best, 1)


def summarize(readings: Iterable[Reading], max_hr: float | None = None) -> Summary:
    builder = SummaryBuilder(max_hr)
    builder.add(readings)
    return builder.finish()
