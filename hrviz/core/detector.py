"""The streaming anomaly detector: sans-I/O, one sample in, readings and events out.

The same object serves batch ingest and live replay. It keeps only a few seconds of state (the
recent level, the open runs), so memory does not grow with the recording. The rules and the
reasons behind them are in docs/anomalies.md.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hrviz.core.model import Anomaly, Kind, RawSample, Reading

Output = Reading | Anomaly
_NONE: tuple[str, ...] = ()
_MISSING = (str(Kind.MISSING),)
_OUT_OF_RANGE = (str(Kind.OUT_OF_RANGE),)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds; the defaults follow the original design (30 bpm) and physiology."""

    delta: float = 30.0  # bpm a spike / drop must move away from the recent level
    rise_within: float = 5.0  # ... within at most this many seconds
    level_span: float = 30.0  # seconds of measured readings that make up "the recent level"
    excursion_max: float = 60.0  # an excursion longer than this is a new level, not a spike
    max_fill: float = 60.0  # absences up to this long are filled; longer ones are gaps
    missing_factor: float = 1.5  # a step over this many normal intervals has missing readings
    low: float = 30.0  # below: physiologically impossible
    high: float = 220.0  # above: physiologically impossible
    flatline_seconds: float = 60.0
    flatline_readings: int = 10


@dataclass(slots=True)
class _Run:
    """An open run of readings that will become one event when it closes."""

    kind: Kind
    start: float
    end: float
    bpm: float | None = None
    baseline: float | None = None
    count: int = 1

    def event(self) -> Anomaly:
        delta = None
        if self.baseline is not None and self.bpm is not None:
            delta = round(self.bpm - self.baseline, 2)
        return Anomaly(self.kind, self.start, self.end, self.bpm, self.baseline, delta)


class Detector:
    """Feed samples in time order with :meth:`feed`; call :meth:`finish` at the end.

    ``cadence`` is the file's normal interval in seconds (its median step): filled readings are
    placed on that grid. ``usual_step`` is the longest step the device takes in its ordinary
    rhythm (the 90th percentile); a step is "missing readings" only beyond both, and a gap only
    beyond ``max_fill`` *and* that threshold, so a device that samples every 2 minutes is not
    reported as one long series of gaps.
    """

    def __init__(self, config: DetectorConfig | None = None, cadence: float = 1.0, usual_step: float = 0.0) -> None:
        self.config = config or DetectorConfig()
        self.cadence = cadence if cadence > 0 else 1.0
        self._missing_after = max(self.config.missing_factor * self.cadence, 1.5 * usual_step)
        self._gap_after = max(self.config.max_fill, self._missing_after)
        self._seq = 0
        self._last_ts: float | None = None
        self._fill: float | None = None  # the last measured in-range value: what gets repeated
        self._level: deque[tuple[float, float]] = deque()  # recent measured, normal readings
        self._missing: _Run | None = None
        self._excursion: _Run | None = None
        self._out_of_range: _Run | None = None
        self._flat: _Run | None = None

    # -- public -----------------------------------------------------------------------------------

    def feed(self, sample: RawSample) -> list[Output]:
        out: list[Output] = []
        ts = sample.ts
        last = self._last_ts
        if last is not None:
            if ts <= last:  # the reader sorts and de-duplicates; never fail on a stray row
                return out
            step = ts - last
            if step > self._gap_after:
                self._gap(last, ts, out)
            elif step > self._missing_after:
                self._fill_between(last, ts, out)
        self._last_ts = ts
        if sample.bpm is None:
            self._missing_cell(ts, out)
        else:
            self._measured(ts, sample.bpm, out)
        return out

    def finish(self) -> list[Output]:
        """Close the runs still open at the end of the recording."""
        out: list[Output] = []
        self._close_all(out)
        return out

    def run(self, samples: Iterable[RawSample]) -> Iterator[Output]:
        """Batch convenience: every output for ``samples``, then those of :meth:`finish`."""
        for sample in samples:
            yield from self.feed(sample)
        yield from self.finish()

    # -- absences ---------------------------------------------------------------------------------

    def _gap(self, last: float, ts: float, out: list[Output]) -> None:
        self._close_all(out)
        out.append(Anomaly(Kind.GAP, last, ts))
        self._level.clear()  # spikes and drops are never measured across a gap

    def _fill_between(self, last: float, ts: float, out: list[Output]) -> None:
        missing = round((ts - last) / self.cadence) - 1
        if missing < 1:
            return
        step = (ts - last) / (missing + 1)
        for i in range(1, missing + 1):
            self._missing_cell(last + i * step, out)

    def _missing_cell(self, ts: float, out: list[Output]) -> None:
        run = self._missing
        if run is None:
            self._missing = _Run(Kind.MISSING, ts, ts, self._fill)
        else:
            run.end = ts
            run.count += 1
        if self._fill is not None:  # nothing to repeat before the first measurement
            out.append(Reading(self._seq, ts, self._fill, True, _MISSING))
            self._seq += 1

    # -- measurements -----------------------------------------------------------------------------

    def _measured(self, ts: float, bpm: float, out: list[Output]) -> None:
        cfg = self.config
        if self._missing is not None:
            out.append(self._missing.event())
            self._missing = None
        kinds = self._flatline(ts, bpm, out)
        if bpm < cfg.low or bpm > cfg.high:
            run = self._out_of_range
            if run is None:
                self._out_of_range = _Run(Kind.OUT_OF_RANGE, ts, ts, bpm)
            else:
                run.end = ts
                if abs(bpm - (cfg.low + cfg.high) / 2) > abs((run.bpm or 0) - (cfg.low + cfg.high) / 2):
                    run.bpm = bpm  # report the most extreme value of the run
            out.append(Reading(self._seq, ts, bpm, False, _OUT_OF_RANGE + kinds))
            self._seq += 1
            return
        if self._out_of_range is not None:
            out.append(self._out_of_range.event())
            self._out_of_range = None
        kinds = self._excursion_kinds(ts, bpm, out) + kinds
        self._fill = bpm
        out.append(Reading(self._seq, ts, bpm, False, kinds))
        self._seq += 1

    def _excursion_kinds(self, ts: float, bpm: float, out: list[Output]) -> tuple[str, ...]:
        """Spike / drop logic: one event per excursion away from the recent level."""
        cfg = self.config
        level = self._level
        exc = self._excursion
        if exc is not None:
            assert exc.baseline is not None and exc.bpm is not None
            if abs(bpm - exc.baseline) < cfg.delta / 2:  # back near the level: the excursion is over
                out.append(exc.event())
                self._excursion = None
            elif ts - exc.start > cfg.excursion_max:  # it stayed there: a new level, not a spike
                out.append(exc.event())
                self._excursion = None
                level.clear()
            else:
                exc.end = ts
                if (bpm > exc.bpm) if exc.kind is Kind.SPIKE else (bpm < exc.bpm):
                    exc.bpm = bpm
                return (str(exc.kind),)
        while level and level[0][0] < ts - cfg.level_span:
            level.popleft()
        if len(level) >= 2 and ts - level[-1][0] <= cfg.rise_within:
            values = sorted(v for _, v in level)
            baseline = values[len(values) // 2]
            recent = [v for t, v in level if t >= ts - cfg.rise_within]
            if bpm - baseline >= cfg.delta and bpm - min(recent) >= cfg.delta:
                self._excursion = _Run(Kind.SPIKE, ts, ts, bpm, baseline)
                return (str(Kind.SPIKE),)
            if baseline - bpm >= cfg.delta and max(recent) - bpm >= cfg.delta:
                self._excursion = _Run(Kind.DROP, ts, ts, bpm, baseline)
                return (str(Kind.DROP),)
        level.append((ts, bpm))
        return _NONE

    def _flatline(self, ts: float, bpm: float, out: list[Output]) -> tuple[str, ...]:
        """A stuck or off-wrist sensor: the very same value, long enough and often enough."""
        run = self._flat
        if run is not None and run.bpm == bpm:
            run.end = ts
            run.count += 1
        else:
            if run is not None and self._is_flat(run):
                out.append(run.event())
            run = self._flat = _Run(Kind.FLATLINE, ts, ts, bpm)
        if self._is_flat(run):
            return (str(Kind.FLATLINE),)
        return _NONE

    def _is_flat(self, run: _Run) -> bool:
        cfg = self.config
        return run.count >= cfg.flatline_readings and run.end - run.start >= cfg.flatline_seconds

    def _close_all(self, out: list[Output]) -> None:
        if self._missing is not None:
            out.append(self._missing.event())
        if self._excursion is not None:
            out.append(self._excursion.event())
        if self._out_of_range is not None:
            out.append(self._out_of_range.event())
        if self._flat is not None and self._is_flat(self._flat):
            out.append(self._flat.event())
        self._missing = self._excursion = self._out_of_range = self._flat = None
