"""Replay pacing, sans-I/O: one reading per second of the viewer's clock, times the speed.

Both ``serve`` and ``watch`` drive one of these with their own clock (``time.monotonic``): ask
:meth:`ReplayClock.due` how many readings should have been shown by now, show them, sleep until
:meth:`ReplayClock.next_at`. Keeping the arithmetic here means pause, speed changes and resume
behave identically in the browser and in the terminal, and are unit-tested without sleeping.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from hrviz.core.model import Anomaly

SPEEDS = (1.0, 2.0, 5.0, 10.0, 60.0, 600.0)
MAX_SPEED = 1_000_000.0  # "as fast as the viewer takes them": serve paces it by its send queue, not the clock
WIRE_SPEEDS = (*SPEEDS, MAX_SPEED)  # what a browser may ask for (the terminal's ladder stops at 600x)


@dataclass(slots=True)
class ReplayClock:
    """Counts readings due on a clock that can pause and change speed without jumping."""

    speed: float = 1.0
    shown: int = 0  # readings already handed out
    paused: bool = False
    _anchor_time: float | None = None  # clock time at which ``_anchor_count`` readings were due
    _anchor_count: float = 0.0

    def start(self, now: float, shown: int = 0) -> None:
        """Start (or restart from ``shown``): the first reading is due at once."""
        self.shown = shown
        self._anchor_time = now
        self._anchor_count = shown

    def _position(self, now: float) -> float:
        if self._anchor_time is None:
            return float(self.shown)
        if self.paused:
            return self._anchor_count
        return self._anchor_count + (now - self._anchor_time) * self.speed

    def due(self, now: float) -> int:
        """How many more readings to show now (0 while paused); the caller shows them."""
        if self._anchor_time is None:
            self.start(now, self.shown)
        target = int(self._position(now)) + 1
        count = max(0, target - self.shown)
        self.shown += count
        return count

    def next_at(self, now: float) -> float | None:
        """Clock time at which the next reading is due; None while paused."""
        if self.paused or self._anchor_time is None:
            return None
        return self._anchor_time + (self.shown - self._anchor_count) / self.speed

    def pause(self, now: float) -> None:
        if not self.paused:
            self._anchor_count = min(self._position(now), float(self.shown))
            self._anchor_time = now
            self.paused = True

    def resume(self, now: float) -> None:
        if self.paused:
            self._anchor_time = now
            self._anchor_count = max(self._anchor_count, self.shown - 1.0)
            self.paused = False

    def set_speed(self, now: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self._anchor_count = self._position(now)
        self._anchor_time = now
        self.speed = speed


def faster(speed: float) -> float:
    """The next speed up the 1×, 2×, 5×, 10×, 60×, 600× ladder (stays at the top)."""
    return next((s for s in SPEEDS if s > speed), SPEEDS[-1])


def slower(speed: float) -> float:
    return next((s for s in reversed(SPEEDS) if s < speed), SPEEDS[0])


@dataclass(slots=True)
class EventCursor:
    """Hands out anomaly events as the replay reaches their start time, each exactly once."""

    events: Sequence[Anomaly]
    _starts: list[float] = field(default_factory=list)
    _next: int = 0

    def __post_init__(self) -> None:
        self.events = sorted(self.events, key=lambda a: (a.start, a.end))
        self._starts = [a.start for a in self.events]

    def reached(self, ts: float) -> list[Anomaly]:
        """Events whose start is at or before ``ts`` and not handed out yet."""
        end = bisect_right(self._starts, ts)
        if end <= self._next:
            return []
        out = list(self.events[self._next : end])
        self._next = end
        return out

    def seek(self, ts: float) -> None:
        """Position after every event starting at or before ``ts`` (for resume and restart)."""
        self._next = bisect_right(self._starts, ts)
