"""Entities shared by every layer: readings, anomaly events, sessions.

Times are float seconds since the Unix epoch (cheap to compare and to store) plus, per session,
the file's own UTC offset so that they can be shown the way the file wrote them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from itertools import repeat
from typing import NamedTuple

from hrviz.core.explain import sentence, severity


class Kind(StrEnum):
    """The anomaly kinds; see docs/anomalies.md for the rules behind each."""

    MISSING = "missing"
    GAP = "gap"
    SPIKE = "spike"
    DROP = "drop"
    OUT_OF_RANGE = "out_of_range"
    FLATLINE = "flatline"


class Reading(NamedTuple):
    """One point to replay, one per expected tick.

    ``filled`` readings were absent in the file and carry the previous value, so charts draw them
    differently and detectors never treat them as measurements. ``kinds`` names the anomalies the
    reading is part of, as known when it was emitted. A NamedTuple, not a dataclass: millions are
    made per replay, and a tuple is cheaper to build and to compare.
    """

    seq: int
    ts: float
    bpm: float
    filled: bool = False
    kinds: tuple[str, ...] = ()


ReadingRow = tuple[int, float, float, bool, tuple[str, ...]]
"""A reading as a plain tuple laid out like :class:`Reading` (seq, ts, bpm, filled, kinds)."""


@dataclass(slots=True)
class ReadingBatch:
    """Consecutive readings as columns: what ingest's hot path produces and the stores take.

    Most readings are plain measurements, so they are kept as two float columns and nothing else;
    only the unusual ones (filled, or part of an anomaly) get an entry in ``marks``. Building
    this costs two list appends a reading instead of an object, and a store can encode whole
    columns at once. Iterating gives :class:`Reading` objects.
    """

    first_seq: int
    ts: list[float] = field(default_factory=list)
    bpm: list[float] = field(default_factory=list)
    marks: dict[int, tuple[bool, tuple[str, ...]]] = field(default_factory=dict)  # offset → (filled, kinds)
    _texts: tuple[list[str], list[str], list[str]] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ts)

    def texts(self) -> tuple[list[str], list[str], list[str]]:
        """Every reading's seq, ts and bpm as text (``str``, and ``repr``, which keeps a float
        exact), made once per batch: the MySQL store's TSV and the Kafka records both print them,
        and formatting floats is most of what either costs."""
        texts = self._texts
        if texts is None or len(texts[1]) != len(self.ts):
            first = self.first_seq
            seqs = list(map(str, range(first, first + len(self.ts))))
            texts = self._texts = (seqs, list(map(repr, self.ts)), list(map(repr, self.bpm)))
        return texts

    def __iter__(self) -> Iterator[Reading]:
        marks, seq = self.marks, self.first_seq
        for i, (ts, bpm) in enumerate(zip(self.ts, self.bpm, strict=True)):
            mark = marks.get(i)
            yield Reading(seq + i, ts, bpm, False, ()) if mark is None else Reading(seq + i, ts, bpm, *mark)

    def rows(self) -> list[ReadingRow]:
        """Plain tuples, built mostly in C (zip): for stores that write row by row."""
        first, ts, bpm = self.first_seq, self.ts, self.bpm
        rows: list[ReadingRow] = list(zip(range(first, first + len(ts)), ts, bpm, repeat(False), repeat(())))
        for i, (filled, kinds) in self.marks.items():
            rows[i] = (first + i, ts[i], bpm[i], filled, kinds)
        return rows

    def append(self, reading: Reading) -> None:
        if reading.filled or reading.kinds:
            self.marks[len(self.ts)] = (reading.filled, reading.kinds)
        self.ts.append(reading.ts)
        self.bpm.append(reading.bpm)

    @property
    def filled(self) -> int:
        return sum(1 for filled, _ in self.marks.values() if filled)

    @classmethod
    def of(cls, readings: Iterable[Reading], first_seq: int | None = None) -> ReadingBatch:
        """A batch of consecutive readings (tests, and adapters that receive readings one by one)."""
        batch: ReadingBatch | None = None if first_seq is None else cls(first_seq)
        for r in readings:
            if batch is None:
                batch = cls(r.seq)
            batch.append(r)
        return batch if batch is not None else cls(0)


def counts_in_stats(filled: bool, kinds: tuple[str, ...]) -> bool:
    """Stats are over measured values only: filled and impossible readings would skew them.

    The one home of this rule (the chart's lines join these readings only); web/app.js mirrors it.
    """
    return not filled and "out_of_range" not in kinds


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One anomaly event: a run of missing readings, a gap, one excursion, a stuck sensor."""

    kind: Kind
    start: float
    end: float
    bpm: float | None = None
    baseline: float | None = None
    delta: float | None = None


@dataclass(slots=True)
class Stats:
    """Running min / mean / max over measured (unfilled, in-range) readings."""

    count: int = 0
    total: float = 0.0
    min: float = math.inf
    max: float = -math.inf

    def add_batch(self, batch: ReadingBatch) -> None:
        """Fold a batch's measured, in-range readings in, with C-speed builtins."""
        values = batch.bpm
        if batch.marks:
            skip = sorted(i for i, (filled, kinds) in batch.marks.items() if not counts_in_stats(filled, kinds))
            if skip:  # the values between the skipped ones, copied slice by slice (in C), in order
                kept: list[float] = []
                start = 0
                for i in skip:
                    kept += values[start:i]
                    start = i + 1
                values = kept + values[start:]
        if values:
            self.count += len(values)
            self.total += sum(values)
            self.min = min(self.min, min(values))
            self.max = max(self.max, max(values))

    def add(self, bpm: float) -> None:
        self.count += 1
        self.total += bpm
        if bpm < self.min:
            self.min = bpm
        if bpm > self.max:
            self.max = bpm

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def as_dict(self) -> dict[str, float | None]:
        if not self.count:
            return {"min": None, "mean": None, "max": None}
        return {"min": self.min, "mean": round(self.total / self.count, 2), "max": self.max}


@dataclass(frozen=True, slots=True)
class StoredSummary:
    """A session's insights summary as stored: one ``session_summaries`` row and its bins.

    Built by :mod:`hrviz.core.insights.stored` at ingest; kept here so a :class:`Session` can carry it
    to the store's commit (the insights package imports this module, not the reverse)."""

    session_id: str
    day: str  # YYYY-MM-DD of the first reading, in the file's own offset (UTC when it had none)
    resting_bpm: float | None
    mean_bpm: float | None
    max_bpm: float | None
    recorded_s: float
    covered_s: float
    anomalies: int
    effort_max_hr: float | None  # the maximum the recoveries were found with
    summary_json: str
    bins: dict[int, float]  # whole bpm (floor) → measured seconds


@dataclass(slots=True)
class Session:
    """One subject's recording from one file, as stored and as reported by ``hrviz ingest``."""

    id: str
    source: str
    subject: str | None
    fingerprint: str
    rows: int = 0
    readings: int = 0
    filled: int = 0
    duplicates: int = 0
    start: float | None = None
    end: float | None = None
    tz_offset_min: int | None = None
    stats: Stats = field(default_factory=Stats)
    anomalies: list[Anomaly] = field(default_factory=list)
    existing: bool = False
    warnings: list[str] = field(default_factory=list)  # what the reader worked around; not stored
    cadence: dict[str, object] | None = None  # the rhythm found (explain.cadence_report); known at ingest only
    # Rows the read left out for an unusable time, and the first few of their lines: a report of
    # this read (docs/formats.md, "Bad rows"), not stored, so 0 for a listed session.
    skipped: int = 0
    skipped_lines: list[int] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # rows not used as heart rate, by reason; not stored
    summary: StoredSummary | None = None  # the insights summary, computed at ingest, stored at commit

    def iso(self, ts: float | None) -> str | None:
        return format_ts(ts, self.tz_offset_min)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape documented in docs/api.md and printed by ``hrviz ingest --json``."""
        return {
            "id": self.id,
            "source": self.source,
            "subject": self.subject,
            "rows": self.rows,
            "readings": self.readings,
            "filled": self.filled,
            "duplicates": self.duplicates,
            "start": self.iso(self.start),
            "end": self.iso(self.end),
            "existing": self.existing,
            "warnings": list(self.warnings),
            "skipped_rows": self.skipped,
            "skipped_lines": self.skipped_lines,
            "ignored": dict(self.ignored),
            "stats": self.stats.as_dict(),
            "cadence": self.cadence,
            "anomalies": [anomaly_dict(a, self.tz_offset_min) for a in self.anomalies],
        }


def format_ts(ts: float | None, tz_offset_min: int | None) -> str | None:
    """ISO-8601 in the file's own offset when it had one, else naive (as the file wrote it).

    None for a time no calendar can show: the reader never lets one through (docs/formats.md,
    "Bad rows"), but a session stored by an older hrviz may hold one, and listing it must not fail.
    """
    if ts is None:
        return None
    try:
        if tz_offset_min is None:
            dt = datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)
        else:
            tz = UTC if tz_offset_min == 0 else timezone(timedelta(minutes=tz_offset_min))
            dt = datetime.fromtimestamp(ts, tz)
    except (OverflowError, OSError, ValueError):
        return None
    text = dt.isoformat(timespec="milliseconds" if ts % 1 else "seconds")
    return text.replace("+00:00", "Z")


def anomaly_dict(a: Anomaly, tz_offset_min: int | None) -> dict[str, object]:
    return {
        "kind": str(a.kind),
        "start": format_ts(a.start, tz_offset_min),
        "end": format_ts(a.end, tz_offset_min),
        "bpm": a.bpm,
        "baseline": a.baseline,
        "delta": a.delta,
        "severity": round(severity(a), 2),
        "sentence": sentence(a),
    }
