"""Ingest's way into the detector: (ts, bpm) columns, as the reader hands them, instead of one tuple a sample.

:func:`column_batches` gives exactly what :meth:`Detector.batches` gives for the same samples. With
the C kernel ``hrviz.core._cdetect`` (built by setup.py, see :mod:`hrviz.core.speedups`) the calm
readings — most of a recording — are book-kept in C straight from the columns, and every other
reading goes through :meth:`Detector._step` as always; without it (no compiler,
``HRVIZ_PURE_PYTHON=1``) the columns are zipped into the detector's own Python loop, the reference.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from types import ModuleType

from hrviz.core import speedups
from hrviz.core.detector import Detector
from hrviz.core.model import Anomaly, Reading, ReadingBatch

Columns = tuple[Sequence[float], Sequence[float]]
KERNEL = speedups.kernel("hrviz.core._cdetect")


def column_batches(
    detector: Detector, chunks: Iterable[Columns], size: int = 5000, kernel: ModuleType | None = KERNEL
) -> Iterator[tuple[ReadingBatch, list[Anomaly]]]:
    """:meth:`Detector.batches` over the samples of ``chunks`` (NaN bpm = missing), read column by column."""
    floats = (_floats(ts, bpm) for ts, bpm in chunks)  # what the reader makes; the same floats either way
    if kernel is None:
        yield from detector.batches(chain.from_iterable(zip(ts, bpm, strict=True) for ts, bpm in floats), size)
        return
    yield from _CalmRuns(detector, kernel).batches(floats, size)


def _floats(ts: Sequence[float], bpm: Sequence[float]) -> tuple[array, array]:
    if len(ts) != len(bpm):
        raise ValueError(f"columns of different lengths: {len(ts)} times, {len(bpm)} values")
    return (
        ts if isinstance(ts, array) and ts.typecode == "d" else array("d", ts),
        bpm if isinstance(bpm, array) and bpm.typecode == "d" else array("d", bpm),
    )


class _CalmRuns:
    """The kernel's driver: the loop of :meth:`Detector._consume`, with its calm branch in C."""

    def __init__(self, detector: Detector, kernel: ModuleType) -> None:
        cfg = detector.config
        self.det, self.calm = detector, kernel.calm
        self.limits = (cfg.low, cfg.high, cfg.delta, cfg.flatline_readings, cfg.flatline_seconds)

    def batches(self, chunks: Iterator[tuple[array, array]], size: int) -> Iterator[tuple[ReadingBatch, list[Anomaly]]]:
        det = self.det
        ts, bpm = array("d"), array("d")
        i = 0
        while True:
            batch, events = ReadingBatch(det._next_out()), list[Anomaly]()
            limit, done = det._seq + size, False
            while True:
                if i == len(ts):
                    chunk = next(chunks, None)
                    if chunk is None:
                        done = True
                        break
                    (ts, bpm), i = chunk, 0
                    continue
                j = i
                if det._last is not None and det._calm():  # calm readings from i on, in C; where they stopped
                    stop = min(len(ts), i + max(limit - det._seq, 1))
                    j = self.calm(det, ts, bpm, i, stop, batch.ts, batch.bpm, self.limits)
                if j == i or (j < len(ts) and det._seq < limit):  # a reading that is not calm: every rule
                    self._step(ts[j], bpm[j], batch, events)
                    j += 1
                i = j
                if det._seq >= limit:
                    break
            if done:
                det._finish(batch.append, events)
            det.stats.add_batch(batch)
            yield batch, events
            if done:
                return

    def _step(self, ts: float, bpm: float, batch: ReadingBatch, events: list[Anomaly]) -> None:
        out: list[Reading] = []
        self.det._step(ts, bpm, out, events)
        for reading in out:
            batch.append(reading)
