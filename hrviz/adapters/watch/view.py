"""What ``hrviz watch`` shows, as plain data: the scrolling window, stats so far, events reached.

Kept free of rich and plotext so the chart, the plain-line printer and the tests all read the same
state, and so the rules (what counts in the stats, where a line must break) are tested cheaply.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from hrviz.core.model import Anomaly, Reading, Stats, counts_in_stats, format_ts

MAX_EVENTS = 200  # the panel shows a handful; keeping a bounded history is plenty
BREAK_FACTOR = 2.0  # a step longer than this many normal intervals is a gap: never bridged


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of consecutive readings that may be joined by a line (no gap inside)."""

    readings: tuple[Reading, ...]


@dataclass(slots=True)
class WatchView:
    """The replay as seen so far; fed reading by reading, read by the renderers."""

    title: str
    tz_offset_min: int | None = None
    window: float = 120.0  # seconds of readings kept on screen
    speed: float = 1.0
    paused: bool = False
    finished: bool = False
    total: int | None = None  # readings in the session, when known
    shown: int = 0
    stats: Stats = field(default_factory=Stats)
    events: deque[Anomaly] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))  # newest first
    points: deque[Reading] = field(default_factory=deque)
    message: str | None = None  # a status note (e.g. "connection lost")
    cadence: float | None = None  # smallest step seen between readings: the file's own rhythm

    @property
    def current(self) -> Reading | None:
        return self.points[-1] if self.points else None

    def add(self, reading: Reading) -> None:
        """Take the next reading; drop what scrolled out of the window."""
        if self.points:
            step = reading.ts - self.points[-1].ts
            if step > 0 and (self.cadence is None or step < self.cadence):
                self.cadence = step
        self.points.append(reading)
        self.shown += 1
        if counts_in_stats(reading.filled, reading.kinds):
            self.stats.add(reading.bpm)
        horizon = reading.ts - self.window
        while self.points and self.points[0].ts < horizon:
            self.points.popleft()

    def add_events(self, events: Iterable[Anomaly]) -> None:
        for event in events:
            self.events.appendleft(event)

    def clock(self, ts: float | None) -> str:
        """Time of day as the file wrote it (HH:MM:SS), for the chart and the panel."""
        text = format_ts(ts, self.tz_offset_min)
        if text is None:
            return "--:--:--"
        return text[11:19]

    def segments(self) -> list[Segment]:
        return split_segments(self.points, self.cadence)


def split_segments(readings: Iterable[Reading], cadence: float | None = None) -> list[Segment]:
    """Split where the step between readings is well beyond the normal cadence (a gap).

    The detector fills short absences, so consecutive readings are one cadence apart except
    across a gap; the cadence is the smallest step seen (robust to the gaps themselves).
    """
    items = list(readings)
    if not items:
        return []
    if cadence is None:
        steps = [b.ts - a.ts for a, b in zip(items, items[1:], strict=False) if b.ts > a.ts]
        cadence = min(steps) if steps else 1.0
    out: list[Segment] = []
    run = [items[0]]
    for prev, cur in zip(items, items[1:], strict=False):
        if cur.ts - prev.ts > BREAK_FACTOR * cadence:
            out.append(Segment(tuple(run)))
            run = []
        run.append(cur)
    out.append(Segment(tuple(run)))
    return out


def describe_event(event: Anomaly, tz_offset_min: int | None) -> str:
    """One event in words, shared by the panel and the plain lines."""
    kind = str(event.kind)
    start = format_ts(event.start, tz_offset_min) or "?"
    end = format_ts(event.end, tz_offset_min) or "?"
    span = event.end - event.start
    parts = [kind, f"{start[11:19]}" + (f"–{end[11:19]} ({span:g} s)" if span > 0 else "")]
    if event.bpm is not None:
        parts.append(f"{event.bpm:g} bpm")
    if event.delta is not None and event.baseline is not None:
        parts.append(f"{event.delta:+g} vs {event.baseline:g}")
    return " ".join(parts)
