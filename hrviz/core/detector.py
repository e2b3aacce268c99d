"""The streaming anomaly detector: sans-I/O, one sample in, readings and events out.

The same object serves batch ingest (:meth:`Detector.batches`) and one-at-a-time feeding
(:meth:`Detector.feed`), and both run the very same loop (:meth:`Detector._consume`), so every rule
has one home. Memory stays small: a few level readings, the open runs (``hrviz/core/runs.py``), the
rolling cadence (``hrviz/core/cadence.py``), the few readings of an excursion not yet decided.

The loop is on ingest's hot path (a million samples a file is ordinary), so an ordinary reading
— on the file's rhythm, close to the level, nothing open — is checked by a handful of comparisons
that are *necessary conditions* for "nothing happens" and then only book-kept; every decision is
taken in :meth:`Detector._step`. The rules and their reasons: docs/anomalies.md.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from hrviz.core.cadence import RETUNE, Cadence
from hrviz.core.model import Anomaly, Kind, Reading, ReadingBatch, Stats
from hrviz.core.runs import Excursion, Hole, Run, median

Output = Reading | Anomaly
Sample = tuple[float, float | None]
Kinds = tuple[str, ...]
_NONE: Kinds = ()
_MISSING: Kinds = (str(Kind.MISSING),)
_OUT_OF_RANGE: Kinds = (str(Kind.OUT_OF_RANGE),)
_FLATLINE: Kinds = (str(Kind.FLATLINE),)
_EXCURSION = {str(Kind.SPIKE), str(Kind.DROP)}
FLAT_USUAL_FACTOR = 3  # a stuck value lasts this many times the source's long runs (90th percentile)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds; the defaults follow the original design (30 bpm) and physiology."""

    delta: float = 30.0  # bpm a spike / drop must move away from the local level
    excursion_readings: int = 3  # a spike / drop is at most this many readings away ...
    excursion_seconds: float = 10.0  # ... or this long, whichever allows more; longer is a new level
    level_readings: int = 5  # the local level is the median of this many recent readings
    max_fill: float = 60.0  # absences up to this long are filled; longer ones are never filled
    missing_factor: float = 1.5  # a step over this many local cadences has missing readings
    low: float = 30.0  # below: physiologically impossible
    high: float = 220.0  # above: physiologically impossible
    flatline_seconds: float = 60.0
    flatline_readings: int = 10


class Detector:
    """Feed samples in time order with :meth:`feed` (then :meth:`finish`), or all at once with :meth:`batches`.

    ``cadence`` and ``usual_step`` are the first estimate of the file's rhythm (median and 90th
    percentile step of its head); the detector then follows the rhythm as it changes. ``stats``
    holds min / mean / max of the measured, in-range readings emitted so far.
    """

    def __init__(self, config: DetectorConfig | None = None, cadence: float = 1.0, usual_step: float = 0.0) -> None:
        self.config = cfg = config or DetectorConfig()
        self.cadence = Cadence(cfg.missing_factor, cfg.max_fill)
        self.cadence.start(cadence, usual_step)
        self.stats = Stats()
        self._seq = 0  # the next reading's seq
        self._last: float | None = None
        self._fill: float | None = None  # the last measured in-range value: what gets repeated
        self._level: deque[float] = deque(maxlen=max(cfg.level_readings, 1))
        self._lo, self._hi = math.inf, -math.inf  # bounds of the level, loose after old values left
        self._missing: Run | None = None
        self._excursion: Excursion | None = None
        self._held: list[Reading] = []  # readings emitted during an open excursion, released when it closes
        self._out_of_range: Run | None = None
        self._holes: list[Hole] = []
        # the current run of identical values: plain attributes, it changes on most readings
        self._flat_bpm: float | None = None
        self._flat_start = self._flat_end = 0.0
        self._flat_count = 0
        self._runs: deque[int] = deque(maxlen=32)  # lengths of the last runs of identical values
        self._min_level = min(3, cfg.level_readings)

    # -- public -----------------------------------------------------------------------------------

    def feed(self, ts: float, bpm: float | None) -> list[Output]:
        """One sample (``bpm`` None or NaN when the file had no value); the outputs it completes."""
        batch, events = ReadingBatch(self._next_out()), list[Anomaly]()
        self._consume(iter(((ts, bpm),)), batch, events, math.inf)
        self.stats.add_batch(batch)
        return _merge(batch, events)

    def finish(self) -> list[Output]:
        """Close what is still open at the end of the recording."""
        batch, events = ReadingBatch(self._next_out()), list[Anomaly]()
        self._finish(batch.append, events)
        self.stats.add_batch(batch)
        return _merge(batch, events)

    def run(self, samples: Iterable[Sample]) -> Iterator[Output]:
        """Batch convenience: every output for ``samples``, then those of :meth:`finish`."""
        for ts, bpm in samples:
            yield from self.feed(ts, bpm)
        yield from self.finish()

    def batches(self, samples: Iterable[Sample], size: int = 5000) -> Iterator[tuple[ReadingBatch, list[Anomaly]]]:
        """Ingest's path: readings in batches of about ``size``, with the events closed meanwhile.

        Then the end of the recording is closed, as :meth:`finish` does; the last batch may be empty.
        """
        it = iter(samples)
        while True:
            batch, events = ReadingBatch(self._next_out()), list[Anomaly]()
            done = self._consume(it, batch, events, self._seq + size)
            if done:
                self._finish(batch.append, events)
            self.stats.add_batch(batch)
            yield batch, events
            if done:
                return

    # -- the loop ---------------------------------------------------------------------------------

    def _consume(self, it: Iterator[Sample], batch: ReadingBatch, events: list[Anomaly], limit: float) -> bool:
        """Run samples into ``batch`` until ``limit`` seqs were made; True when ``it`` is exhausted.
        The calm branch has a C twin for ingest's columns (hrviz/core/_cdetect.c, driven by columns.py)."""
        cad, level, runs_append = self.cadence, self._level, self._runs.append
        steps, steps_append = cad.steps, cad.steps.append
        low, high, delta = self.config.low, self.config.high, self.config.delta
        flat_short = self.config.flatline_readings - 1  # a run this long can not qualify with one more
        append_ts, append_bpm, append = batch.ts.append, batch.bpm.append, batch.append
        out: list[Reading] = []  # what one slow step emits
        last, seq, fill, lo, hi, fb, fs, fe, fc = self._load()
        missing_after, calm, until_retune = cad.missing_after, self._calm(), RETUNE - len(steps)
        for ts, bpm in it:
            if (
                calm
                and last is not None
                and bpm is not None
                and low <= bpm <= high  # False for NaN too
                and 0 < ts - last <= missing_after
                and bpm - lo < delta  # so within delta of any median of the level
                and hi - bpm < delta
                and fc < flat_short  # no run of identical values can qualify yet
            ):  # an ordinary reading: nothing to decide, only to record
                if bpm == fb:
                    fe = ts
                    fc += 1
                else:
                    if fc:
                        runs_append(fc)
                    fb, fs, fe, fc = bpm, ts, ts, 1
                level.append(bpm)
                if bpm < lo:
                    lo = bpm
                if bpm > hi:
                    hi = bpm
                steps_append(ts - last)
                until_retune -= 1
                if not until_retune:
                    cad.retune(ts)
                    missing_after, until_retune = cad.missing_after, RETUNE
                append_ts(ts)
                append_bpm(bpm)
                seq += 1
                fill = bpm
                last = ts
            else:
                self._save(last, seq, fill, lo, hi, fb, fs, fe, fc)
                self._step(ts, bpm, out, events)
                for reading in out:
                    append(reading)
                out.clear()
                last, seq, fill, lo, hi, fb, fs, fe, fc = self._load()
                missing_after, calm, until_retune = cad.missing_after, self._calm(), RETUNE - len(steps)
            if seq >= limit:
                self._save(last, seq, fill, lo, hi, fb, fs, fe, fc)
                return False
        self._save(last, seq, fill, lo, hi, fb, fs, fe, fc)
        return True

    def _load(self) -> tuple[float | None, int, float | None, float, float, float | None, float, float, int]:
        """The state the hot loop keeps in local variables (one home for the swap)."""
        return (self._last, self._seq, self._fill, self._lo, self._hi,
                self._flat_bpm, self._flat_start, self._flat_end, self._flat_count)  # fmt: skip

    def _save(
        self, last: float | None, seq: int, fill: float | None, lo: float, hi: float,
        fb: float | None, fs: float, fe: float, fc: int,
    ) -> None:  # fmt: skip
        self._last, self._seq, self._fill, self._lo, self._hi = last, seq, fill, lo, hi
        self._flat_bpm, self._flat_start, self._flat_end, self._flat_count = fb, fs, fe, fc

    def _calm(self) -> bool:
        return self._missing is None and self._excursion is None and self._out_of_range is None and not self._holes

    def _next_out(self) -> int:
        """Seq of the next reading to come out (held readings have been numbered already)."""
        return self._seq - len(self._held)

    # -- one sample: every rule -------------------------------------------------------------------

    def _step(self, ts: float, bpm: float | None, out: list[Reading], events: list[Anomaly]) -> None:
        last, cad = self._last, self.cadence
        if last is None:
            cad.note(ts)
        else:
            if ts <= last:  # the reader sorts and de-duplicates; never fail on a stray row
                return
            step = ts - last
            for hole in self._holes:
                hole.follow.append(step)
            if self._holes and len(self._holes[0].follow) >= Hole.FOLLOW:
                self._judge_holes(events)
            if step > cad.missing_after:
                if step > cad.gap_after:
                    self._hole(last, ts, out, events)
                elif step <= self.config.max_fill:
                    self._fill_between(last, ts, out)
            cad.add(step, ts)
        self._last = ts
        if bpm is None or bpm != bpm:  # None or NaN
            self._missing_cell(ts, out)
            return
        if self._missing is not None:
            events.append(self._missing.event())
            self._missing = None
        is_flat = self._flatline(ts, bpm, events)
        if bpm < self.config.low or bpm > self.config.high:
            self._impossible(ts, bpm)
            self._emit(Reading(self._seq, ts, bpm, False, _OUT_OF_RANGE + _FLATLINE if is_flat else _OUT_OF_RANGE), out)
            return
        if self._out_of_range is not None:
            events.append(self._out_of_range.event())
            self._out_of_range = None
        self._fill = bpm
        kinds = _NONE
        if self._excursion is not None:
            kinds = self._excursion_goes_on(ts, bpm, out, events)
        if self._excursion is None and not kinds:
            kinds = self._level_or_departure(ts, bpm)
        self._emit(Reading(self._seq, ts, bpm, False, kinds + _FLATLINE if is_flat else kinds), out)

    def _emit(self, reading: Reading, out: list[Reading]) -> None:
        (self._held if self._excursion is not None else out).append(reading)
        self._seq += 1

    # -- absences ---------------------------------------------------------------------------------

    def _hole(self, last: float, ts: float, out: list[Reading], events: list[Anomaly]) -> None:
        """Too long to fill: close everything (nothing is measured across it); a gap if the file goes on."""
        self._close_runs(out, events)
        self._reset_level()
        cad = self.cadence
        before = cad.steps[-1] if cad.steps else cad.window[-1] if cad.window else 0.0
        self._holes.append(Hole(last, ts, cad.step, before))

    def _judge_holes(self, events: list[Anomaly]) -> None:
        for hole in self._holes:
            gap = hole.verdict()
            if gap is not None:
                events.append(gap)
        self._holes.clear()

    def _fill_between(self, last: float, ts: float, out: list[Reading]) -> None:
        """Readings on the local cadence's grid, as many as fit before ``ts``."""
        step = self.cadence.step
        n = round((ts - last) / step) - 1
        for i in range(1, n + 1):
            self._missing_cell(last + i * step, out)

    def _missing_cell(self, ts: float, out: list[Reading]) -> None:
        run = self._missing
        if run is None:
            self._missing = Run(Kind.MISSING, ts, ts, self._fill, self.cadence.step)
        else:
            run.end = ts
        if self._fill is not None:  # nothing to repeat before the first measurement
            self._emit(Reading(self._seq, ts, self._fill, True, _MISSING), out)

    # -- measurements -----------------------------------------------------------------------------

    def _flatline(self, ts: float, bpm: float, events: list[Anomaly]) -> bool:
        """The very same value, long enough and often enough; True when this reading is part of one."""
        if bpm == self._flat_bpm:
            self._flat_end = ts
            self._flat_count += 1
        else:
            count = self._flat_count
            self._close_flat(events)
            if count:
                self._runs.append(count)
            self._flat_bpm, self._flat_start, self._flat_end, self._flat_count = bpm, ts, ts, 1
        return self._flat_qualifies()

    def _flat_qualifies(self) -> bool:
        """Long enough, often enough, and far longer than this source's long runs of one value."""
        cfg, n = self.config, self._flat_count
        if n < cfg.flatline_readings or self._flat_end - self._flat_start < cfg.flatline_seconds:
            return False
        runs = self._runs
        return not runs or n >= FLAT_USUAL_FACTOR * sorted(runs)[len(runs) * 9 // 10]

    def _close_flat(self, events: list[Anomaly]) -> None:
        if self._flat_bpm is not None and self._flat_qualifies():
            events.append(Anomaly(Kind.FLATLINE, self._flat_start, self._flat_end, self._flat_bpm))
        self._flat_bpm, self._flat_count = None, 0

    def _impossible(self, ts: float, bpm: float) -> None:
        """One event per run of impossible values, carrying the most extreme of them."""
        run = self._out_of_range
        if run is None:
            self._out_of_range = Run(Kind.OUT_OF_RANGE, ts, ts, bpm)
            return
        run.end = ts
        middle = (self.config.low + self.config.high) / 2
        if abs(bpm - middle) > abs((run.bpm or middle) - middle):
            run.bpm = bpm

    def _level_or_departure(self, ts: float, bpm: float) -> Kinds:
        """Does this reading leave the local level by ``delta``? If not, it becomes part of the level."""
        level, delta = self._level, self.config.delta
        if len(level) >= self._min_level:
            self._lo, self._hi = min(level), max(level)
            if bpm - self._lo >= delta or self._hi - bpm >= delta:
                baseline = median(level)
                kind = Kind.SPIKE if bpm - baseline >= delta else Kind.DROP if baseline - bpm >= delta else None
                if kind is not None:
                    self._excursion = Excursion(kind, ts, ts, bpm, baseline, values=[bpm])
                    return (str(kind),)
        level.append(bpm)
        self._lo, self._hi = min(self._lo, bpm), max(self._hi, bpm)
        return _NONE

    def _excursion_goes_on(self, ts: float, bpm: float, out: list[Reading], events: list[Anomaly]) -> Kinds:
        """Inside an excursion: back near the level (a spike / drop), or away too long (a new level)."""
        exc = self._excursion
        assert exc is not None and exc.baseline is not None and exc.bpm is not None
        delta = self.config.delta
        away = (bpm - exc.baseline) if exc.kind is Kind.SPIKE else (exc.baseline - bpm)
        peak = (exc.bpm - exc.baseline) if exc.kind is Kind.SPIKE else (exc.baseline - exc.bpm)
        if away < delta / 2 or (away < delta and peak - away >= delta / 2):
            # back near the level (or past it), or back within delta of it and well off the peak —
            # at a sparse cadence the level itself moves between readings: it was an excursion
            events.append(exc.event())
            self._release(out, keep=True)
            return _NONE
        cfg = self.config
        if len(exc.values) >= cfg.excursion_readings and ts - exc.start > cfg.excursion_seconds:
            # it stays there: a new level (exercise starting, say), not a spike
            self._release(out, keep=False)
            self._reset_level()
            self._level.extend(exc.values)
            self._lo, self._hi = min(exc.values), max(exc.values)
            return _NONE
        exc.end = ts
        exc.values.append(bpm)
        if away > ((exc.bpm - exc.baseline) if exc.kind is Kind.SPIKE else (exc.baseline - exc.bpm)):
            exc.bpm = bpm
        return (str(exc.kind),)

    def _release(self, out: list[Reading], keep: bool) -> None:
        """Let the held readings out, marked as the excursion they were (``keep``) or as plain readings."""
        held = self._held
        out.extend(held if keep else (r._replace(kinds=tuple(k for k in r.kinds if k not in _EXCURSION)) for r in held))
        held.clear()
        self._excursion = None

    def _reset_level(self) -> None:
        self._level.clear()
        self._lo, self._hi = math.inf, -math.inf

    # -- closing ----------------------------------------------------------------------------------

    def _close_runs(self, out: list[Reading], events: list[Anomaly]) -> None:
        """Close every open run; an excursion that never came back is no spike, its readings go out plain."""
        if self._missing is not None:
            events.append(self._missing.event())
        if self._excursion is not None:
            self._release(out, keep=False)
        if self._out_of_range is not None:
            events.append(self._out_of_range.event())
        self._close_flat(events)
        self._missing = self._out_of_range = None

    def _finish(self, append: Callable[[Reading], None], events: list[Anomaly]) -> None:
        out: list[Reading] = []
        self._close_runs(out, events)
        self._judge_holes(events)
        if self._last is not None:
            self.cadence.note(self._last)
        for reading in out:
            append(reading)


def _merge(batch: ReadingBatch, events: list[Anomaly]) -> list[Output]:
    """Outputs in time order; at equal times an event before the reading it precedes."""
    readings: list[Output] = list(batch)
    if not events:
        return readings
    return sorted([*readings, *events], key=lambda o: (o.ts, 1) if isinstance(o, Reading) else (o.end, 0))
