"""Events for people: a severity (0–1) and one plain sentence, built from an event's stored fields.

Computed on demand rather than stored, so a session read back from either store explains itself
exactly as it did at ingest, and the CLI, ``--json``, the page and the terminal all say the same
words. The scale of ``severity`` is documented in docs/anomalies.md; numbers are written the way
people read them (``3 s``, ``14 min``, ``2 h 5 min``; bpm with the decimals the file had, never
invented ones).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from hrviz.core.cadence import Cadence


class Event(Protocol):
    """What explaining needs of an event: :class:`hrviz.core.model.Anomaly` is one.

    Declared here, not imported: model imports this module (to explain its events), so importing
    model back would make a cycle.
    """

    @property
    def kind(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def bpm(self) -> float | None: ...
    @property
    def baseline(self) -> float | None: ...
    @property
    def delta(self) -> float | None: ...


class Thresholds(Protocol):
    """The detector settings a cadence report mentions (:class:`hrviz.core.detector.DetectorConfig`)."""

    @property
    def max_fill(self) -> float: ...
    @property
    def flatline_readings(self) -> int: ...
    @property
    def flatline_seconds(self) -> float: ...


E = TypeVar("E", bound=Event)

PLAUSIBLE = (30.0, 220.0)  # the default range: how far outside it a value is says how implausible it is
DEFAULT_STEP = 60.0  # a gap whose cadence is unknown is judged against one reading a minute


def duration(seconds: float) -> str:
    """``0.5 s``, ``3 s``, ``2 min 30 s``, ``14 min``, ``2 h 5 min``, ``3 d 4 h``."""
    if seconds < 10 and seconds != round(seconds):
        return f"{_trim(f'{seconds:.1f}')} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 600:
        m, rest = divmod(s, 60)
        return f"{m} min {rest} s" if rest else f"{m} min"
    m = round(s / 60)
    if m < 60:
        return f"{m} min"
    if m < 48 * 60:
        h, rest = divmod(m, 60)
        return f"{h} h {rest} min" if rest else f"{h} h"
    h = round(m / 60)
    d, rest = divmod(h, 24)
    return f"{d} d {rest} h" if rest else f"{d} d"


def bpm(value: float) -> str:
    """A heart rate as the file had it: up to two decimals, none when it is whole."""
    return _trim(f"{value:.2f}")


def severity(a: Event) -> float:
    """0 (harmless) to 1 (most alarming): see docs/anomalies.md for the scale of each kind."""
    kind, span = str(a.kind), a.end - a.start
    if kind in ("spike", "drop") and a.delta is not None:
        return _clamp(abs(a.delta) / max(a.baseline or 0.0, 1.0))  # the change against the baseline
    if kind == "gap":
        return _clamp(math.log10(max(span / (a.baseline or DEFAULT_STEP), 1.0)) / 3)  # 1000× the cadence: 1
    if kind == "missing":
        return min(0.5, 0.1 + _count(a) / 100)
    if kind == "out_of_range" and a.bpm is not None:
        low, high = PLAUSIBLE
        return 0.8 + 0.2 * _clamp(max(low - a.bpm, a.bpm - high, 0.0) / 50)
    if kind == "flatline":
        return _clamp(0.3 + 0.7 * span / 600)
    return 0.0


def sentence(a: Event) -> str:
    """What happened, in one sentence."""
    kind, span = str(a.kind), a.end - a.start
    if kind in ("spike", "drop") and a.delta is not None and a.baseline is not None and a.bpm is not None:
        verb = "Rose" if kind == "spike" else "Fell"
        how_long = "for one reading" if span <= 0 else f"for {duration(span)}"
        change = f"{verb} {bpm(abs(a.delta))} bpm from a {bpm(a.baseline)} bpm baseline to {bpm(a.bpm)} bpm"
        return f"{change} {how_long}, then came back"
    if kind == "gap":
        rhythm = f" where this file has one every {duration(a.baseline)}" if a.baseline else ""
        return f"No readings for {duration(span)}{rhythm}"
    if kind == "missing":
        n = _count(a)
        what = "1 reading" if n == 1 else f"{n} readings"
        rhythm = f" where this file has one every {duration(a.baseline)}" if a.baseline else ""
        fill = f"; filled with {bpm(a.bpm)} bpm" if a.bpm is not None else "; nothing before them to fill with"
        return f"{what} missing{rhythm}{fill}"
    if kind == "out_of_range" and a.bpm is not None:
        how = "fast" if a.bpm > sum(PLAUSIBLE) / 2 else "slowly"
        how_long = "one reading" if span <= 0 else f"for {duration(span)}"
        return f"Impossible value {bpm(a.bpm)} bpm ({how_long}): no human heart beats that {how}"
    if kind == "flatline" and a.bpm is not None:
        return f"Stuck at exactly {bpm(a.bpm)} bpm for {duration(span)}: a real heart rate wobbles"
    return kind


def most_significant(anomalies: Iterable[E]) -> list[E]:
    """Highest severity first; ties in time order."""
    return sorted(anomalies, key=lambda a: (-severity(a), a.start, a.end))


def cadence_report(cadence: Cadence, first_step: float, config: Thresholds, iso: object) -> dict[str, object]:
    """``{"median_s": 5, "segments": [...]}``: the rhythm found, and the rules it changed or kept from applying.

    ``iso`` formats a timestamp the way the session shows times (a callable).
    """
    segments = []
    for seg in cadence.segments:
        notes = []
        step, every = seg.every, duration(seg.every)
        unusual = max(cadence.missing_factor * step, 1.5 * seg.usual_max)
        if unusual >= config.max_fill:
            notes.append(
                f"missing readings: never filled here, a step is only unusual beyond {duration(unusual)} at "
                f"one reading every {every}, longer than --max-fill ({duration(config.max_fill)}); "
                "holes that are long for this part are gaps"
            )
        if seg.end - seg.start < 3 * step:
            notes.append(f"spike, drop: not looked for, too few readings here (one every {every}) to know a level")
        if config.flatline_readings * step > config.flatline_seconds:
            notes.append(
                f"flatline: needs {config.flatline_readings} identical readings, "
                f"{duration(config.flatline_readings * step)} at one every {every}"
            )
        segments.append({
            "start": iso(seg.start),  # type: ignore[operator]
            "end": iso(seg.end),  # type: ignore[operator]
            "every_s": _round(step),
            "usual_max_s": _round(seg.usual_max),
            "notes": notes,
        })  # fmt: skip
    return {"median_s": _round(first_step), "segments": segments}


def ignored_rows(ignored: dict[str, int]) -> list[str]:
    """What the reader left out of the heart rate, in words: other metrics, placeholder values."""
    out = []
    metrics = sorted(((n, why[7:]) for why, n in ignored.items() if why.startswith("metric ")), reverse=True)
    if metrics:
        listed = ", ".join(f"{n:,} {name}" for n, name in metrics)
        out.append(f"rows of other metrics left out: {listed}")
    placeholders = sorted((why[12:], n) for why, n in ignored.items() if why.startswith("placeholder "))
    if placeholders:
        listed = ", ".join(f"{value} ({n:,} row{'s' if n > 1 else ''})" for value, n in placeholders)
        out.append(f"placeholder values read as missing readings: {listed}")
    return out


def _count(a: Event) -> int:
    step = a.baseline or 1.0
    return round((a.end - a.start) / step) + 1


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _round(x: float) -> float | int:
    return int(x) if x == int(x) else round(x, 3)
