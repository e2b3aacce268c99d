"""The streaming anomaly detector: sans-I/O, one sample in, readings and events out.

The same object serves batch ingest and live replay. It keeps only a few seconds of state (the
recent level, the open runs), so memory does not grow with the recording. The rules and the
reasons behind them are in docs/anomalies.md.

It is on the hot path of ingest (a million samples a file is ordinary), so the common case — an
ordinary in-range reading near the recent level — costs a handful of comparisons: two floats bound
the recent level from below and above, and the median is only computed when a reading is far
enough from them to possibly be a spike or a drop.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hrviz.core.model import Anomaly, Kind, Reading, ReadingBatch, Stats

Output = Reading | Anomaly
Kinds = tuple[str, ...]
_NONE: Kinds = ()
_MISSING: Kinds = (str(Kind.MISSING),)
_OUT_OF_RANGE: Kinds = (str(Kind.OUT_OF_RANGE),)
_SPIKE: Kinds = (str(Kind.SPIKE),)
_DROP: Kinds = (str(Kind.DROP),)
_FLATLINE: Kinds = (str(Kind.FLATLINE),)


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
    reported as one long series of gaps. ``stats`` holds min / mean / max of the measured,
    in-range readings so far.
    """

    def __init__(self, config: DetectorConfig | None = None, cadence: float = 1.0, usual_step: float = 0.0) -> None:
        self.config = cfg = config or DetectorConfig()
        self.cadence = cadence if cadence > 0 else 1.0
        self.stats = Stats()
        self._missing_after = max(cfg.missing_factor * self.cadence, 1.5 * usual_step)
        self._gap_after = max(cfg.max_fill, self._missing_after)
        self._seq = 0
        self._last_ts: float | None = None
        self._fill: float | None = None  # the last measured in-range value: what gets repeated
        self._level: deque[tuple[float, float]] = deque()  # recent measured, normal readings
        # lo <= min(level) and hi >= max(level): widened on append, made exact only when a reading
        # comes within reach of them (trimming old readings only ever makes the bounds looser)
        self._lo = math.inf
        self._hi = -math.inf
        self._missing: _Run | None = None
        self._excursion: _Run | None = None
        self._out_of_range: _Run | None = None
        # the current run of identical values, as plain attributes: it changes on most readings
        self._flat_bpm: float | None = None
        self._flat_start = 0.0
        self._flat_end = 0.0
        self._flat_count = 0
        # thresholds copied out of the config: attribute lookups on the hot path add up
        self._low, self._high, self._delta = cfg.low, cfg.high, cfg.delta
        self._flat_n, self._flat_s = cfg.flatline_readings, cfg.flatline_seconds
        self._span, self._within = cfg.level_span, cfg.rise_within

    # -- public -----------------------------------------------------------------------------------

    def feed(self, ts: float, bpm: float | None) -> list[Output]:
        """One sample (``bpm`` None or NaN when the file had no value); what it completes."""
        readings: list[Reading] = []
        events: list[Anomaly] = []
        self._step(ts, bpm, readings, events)
        for r in readings:
            if not r.filled and _OUT_OF_RANGE[0] not in r.kinds:
                self.stats.add(r.bpm)
        if not events:
            return list(readings)
        return sorted([*readings, *events], key=_order)

    def finish(self) -> list[Output]:
        """Close the runs still open at the end of the recording."""
        events: list[Anomaly] = []
        self._close_all(events)
        return list(events)

    def run(self, samples: Iterable[tuple[float, float | None]]) -> Iterator[Output]:
        """Batch convenience: every output for ``samples``, then those of :meth:`finish`."""
        for ts, bpm in samples:
            yield from self.feed(ts, bpm)
        yield from self.finish()

    def chunks(
        self, samples: Iterable[tuple[float, float | None]], size: int = 5000
    ) -> Iterator[tuple[ReadingBatch, list[Anomaly]]]:
        """The fast path for ingest: readings in batches of about ``size``, with the events closed meanwhile.

        Gives exactly what :meth:`feed` gives (a property test holds them equal). The common case —
        a measured, in-range reading on the normal rhythm, close to the recent level, with no run
        open — is handled inline on local variables; anything else goes through :meth:`_step`.
        """
        level = self._level
        low, high, delta, span, within = self._low, self._high, self._delta, self._span, self._within
        flat_n, flat_s, missing_after = self._flat_n, self._flat_s, self._missing_after
        last, seq, fill, lo, hi = self._last_ts, self._seq, self._fill, self._lo, self._hi
        fb, fs, fe, fc = self._flat_bpm, self._flat_start, self._flat_end, self._flat_count
        calm = self._missing is None and self._excursion is None and self._out_of_range is None
        batch = ReadingBatch(seq)
        ts_append, bpm_append, marks = batch.ts.append, batch.bpm.append, batch.marks
        events: list[Anomaly] = []
        slow: list[Reading] = []
        slow_path = False
        limit = seq + size
        for ts, bpm in samples:
            if (
                calm
                and last is not None
                and bpm is not None
                and low <= bpm <= high  # False for NaN too
                and 0 < ts - last <= missing_after
            ):
                horizon = ts - span
                while level and level[0][0] < horizon:
                    level.popleft()
                near = True
                if bpm - lo >= delta or hi - bpm >= delta:  # within reach of the bounds: make them exact
                    if level:
                        lo, hi = min(v for _, v in level), max(v for _, v in level)
                    else:
                        lo, hi = math.inf, -math.inf
                    near = not (
                        len(level) >= 2 and ts - level[-1][0] <= within and (bpm - lo >= delta or hi - bpm >= delta)
                    )
                if near:
                    if bpm == fb:
                        fe = ts
                        fc += 1
                    else:
                        if fb is not None and fc >= flat_n and fe - fs >= flat_s:
                            events.append(Anomaly(Kind.FLATLINE, fs, fe, fb))
                        fb, fs, fe, fc = bpm, ts, ts, 1
                    if fc >= flat_n and ts - fs >= flat_s:
                        marks[seq - batch.first_seq] = (False, _FLATLINE)
                    level.append((ts, bpm))
                    if bpm < lo:
                        lo = bpm
                    if bpm > hi:
                        hi = bpm
                    ts_append(ts)
                    bpm_append(bpm)
                    seq += 1
                    fill = bpm
                    last = ts
                else:
                    slow_path = True
            else:
                slow_path = True
            if slow_path:  # hand the state to _step and take it back
                slow_path = False
                self._last_ts, self._seq, self._fill, self._lo, self._hi = last, seq, fill, lo, hi
                self._flat_bpm, self._flat_start, self._flat_end, self._flat_count = fb, fs, fe, fc
                self._step(ts, bpm, slow, events)
                for reading in slow:
                    batch.append(reading)
                slow.clear()
                last, seq, fill, lo, hi = self._last_ts, self._seq, self._fill, self._lo, self._hi
                fb, fs, fe, fc = self._flat_bpm, self._flat_start, self._flat_end, self._flat_count
                calm = self._missing is None and self._excursion is None and self._out_of_range is None
            if seq >= limit:
                self._account(batch)
                yield batch, events
                batch, events = ReadingBatch(seq), []
                ts_append, bpm_append, marks = batch.ts.append, batch.bpm.append, batch.marks
                limit = seq + size
        self._last_ts, self._seq, self._fill, self._lo, self._hi = last, seq, fill, lo, hi
        self._flat_bpm, self._flat_start, self._flat_end, self._flat_count = fb, fs, fe, fc
        self._close_all(events)
        self._account(batch)
        yield batch, events

    def _account(self, batch: ReadingBatch) -> None:
        """Fold a batch's measured, in-range readings into the stats, with C-speed builtins."""
        values = batch.bpm
        if batch.marks:
            skip = {i for i, (filled, kinds) in batch.marks.items() if filled or _OUT_OF_RANGE[0] in kinds}
            if skip:
                values = [v for i, v in enumerate(values) if i not in skip]
        if values:
            stats = self.stats
            stats.count += len(values)
            stats.total += sum(values)
            stats.min = min(stats.min, min(values))
            stats.max = max(stats.max, max(values))

    # -- one sample -------------------------------------------------------------------------------

    def _step(self, ts: float, bpm: float | None, readings: list[Reading], events: list[Anomaly]) -> None:
        last = self._last_ts
        if last is not None:
            if ts <= last:  # the reader sorts and de-duplicates; never fail on a stray row
                return
            step = ts - last
            if step > self._missing_after:
                if step > self._gap_after:
                    self._gap(last, ts, events)
                else:
                    self._fill_between(last, ts, readings)
        self._last_ts = ts
        if bpm is None or bpm != bpm:  # None or NaN
            self._missing_cell(ts, readings)
            return
        if self._missing is not None:
            events.append(self._missing.event())
            self._missing = None
        # flatline: the very same value, long enough and often enough
        if bpm == self._flat_bpm:
            self._flat_end = ts
            self._flat_count += 1
            is_flat = self._flat_count >= self._flat_n and ts - self._flat_start >= self._flat_s
        else:
            if self._flat_bpm is not None:
                self._close_flat(events)
            self._flat_bpm, self._flat_start, self._flat_end, self._flat_count = bpm, ts, ts, 1
            is_flat = self._flat_n <= 1 and self._flat_s <= 0
        if bpm < self._low or bpm > self._high:
            self._impossible(ts, bpm, events)
            readings.append(Reading(self._seq, ts, bpm, False, _OUT_OF_RANGE + _FLATLINE if is_flat else _OUT_OF_RANGE))
            self._seq += 1
            return
        if self._out_of_range is not None:
            events.append(self._out_of_range.event())
            self._out_of_range = None
        kinds = self._level_kinds(ts, bpm) if self._excursion is None else self._excursion_kinds(ts, bpm, events)
        if is_flat:
            kinds = kinds + _FLATLINE
        self._fill = bpm
        readings.append(Reading(self._seq, ts, bpm, False, kinds))
        self._seq += 1

    # -- absences ---------------------------------------------------------------------------------

    def _gap(self, last: float, ts: float, events: list[Anomaly]) -> None:
        self._close_all(events)
        events.append(Anomaly(Kind.GAP, last, ts))
        self._reset_level()  # spikes and drops are never measured across a gap

    def _fill_between(self, last: float, ts: float, readings: list[Reading]) -> None:
        missing = round((ts - last) / self.cadence) - 1
        if missing < 1:
            return
        step = (ts - last) / (missing + 1)
        for i in range(1, missing + 1):
            self._missing_cell(last + i * step, readings)

    def _missing_cell(self, ts: float, readings: list[Reading]) -> None:
        run = self._missing
        if run is None:
            self._missing = _Run(Kind.MISSING, ts, ts, self._fill)
        else:
            run.end = ts
            run.count += 1
        if self._fill is not None:  # nothing to repeat before the first measurement
            readings.append(Reading(self._seq, ts, self._fill, True, _MISSING))
            self._seq += 1

    # -- measurements -----------------------------------------------------------------------------

    def _impossible(self, ts: float, bpm: float, events: list[Anomaly]) -> None:
        cfg = self.config
        run = self._out_of_range
        if run is None:
            self._out_of_range = _Run(Kind.OUT_OF_RANGE, ts, ts, bpm)
            return
        run.end = ts
        middle = (cfg.low + cfg.high) / 2
        if abs(bpm - middle) > abs((run.bpm or middle) - middle):
            run.bpm = bpm  # report the most extreme value of the run

    def _excursion_kinds(self, ts: float, bpm: float, events: list[Anomaly]) -> tuple[str, ...]:
        """Inside an excursion: one event per excursion, however long, and its return is part of it."""
        cfg = self.config
        exc = self._excursion
        assert exc is not None and exc.baseline is not None and exc.bpm is not None
        if abs(bpm - exc.baseline) < cfg.delta / 2:  # back near the level: the excursion is over
            events.append(exc.event())
            self._excursion = None
            return self._level_kinds(ts, bpm)
        if ts - exc.start > cfg.excursion_max:  # it stayed there: a new level, not a spike
            events.append(exc.event())
            self._excursion = None
            self._reset_level()
            return self._level_kinds(ts, bpm)
        exc.end = ts
        if (bpm > exc.bpm) if exc.kind is Kind.SPIKE else (bpm < exc.bpm):
            exc.bpm = bpm
        return _SPIKE if exc.kind is Kind.SPIKE else _DROP

    def _level_kinds(self, ts: float, bpm: float) -> tuple[str, ...]:
        """Outside an excursion: does this reading start one? If not, it joins the recent level."""
        level = self._level
        horizon = ts - self._span
        while level and level[0][0] < horizon:
            level.popleft()
        if len(level) >= 2 and ts - level[-1][0] <= self._within:
            kinds = self._maybe_excursion(ts, bpm)
            if kinds:
                return kinds
        level.append((ts, bpm))
        self._lo = min(self._lo, bpm)
        self._hi = max(self._hi, bpm)
        return _NONE

    def _maybe_excursion(self, ts: float, bpm: float) -> tuple[str, ...]:
        cfg = self.config
        values = sorted(v for _, v in self._level)
        baseline = values[len(values) // 2]
        recent = [v for t, v in self._level if t >= ts - cfg.rise_within]
        if bpm - baseline >= cfg.delta and bpm - min(recent) >= cfg.delta:
            self._excursion = _Run(Kind.SPIKE, ts, ts, bpm, baseline)
            return _SPIKE
        if baseline - bpm >= cfg.delta and max(recent) - bpm >= cfg.delta:
            self._excursion = _Run(Kind.DROP, ts, ts, bpm, baseline)
            return _DROP
        return _NONE

    def _reset_level(self) -> None:
        self._level.clear()
        self._lo, self._hi = math.inf, -math.inf

    def _close_flat(self, events: list[Anomaly]) -> None:
        if self._flat_count >= self._flat_n and self._flat_end - self._flat_start >= self._flat_s:
            events.append(Anomaly(Kind.FLATLINE, self._flat_start, self._flat_end, self._flat_bpm))
        self._flat_bpm = None

    def _close_all(self, events: list[Anomaly]) -> None:
        if self._missing is not None:
            events.append(self._missing.event())
        if self._excursion is not None:
            events.append(self._excursion.event())
        if self._out_of_range is not None:
            events.append(self._out_of_range.event())
        if self._flat_bpm is not None:
            self._close_flat(events)
        self._missing = self._excursion = self._out_of_range = None


def _order(item: Output) -> tuple[float, int]:
    """Outputs of one feed in time order; at equal times an event before the reading it precedes."""
    if isinstance(item, Reading):
        return (item.ts, 1)
    return (item.end, 0)
