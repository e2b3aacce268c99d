"""Where ``hrviz watch`` gets its readings from, behind one small interface.

A local replay (a file or a stored session) is paced here with the shared :class:`ReplayClock`;
a followed server paces itself. The chart and the plain printer only ever call :class:`Feed`, so
both work the same for every source, and pause / speed keys mean the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hrviz.core.model import Anomaly, Reading
from hrviz.core.replay import EventCursor, ReplayClock

UNPACED_BATCH = 2000  # readings handed out per poll without pacing: bounded memory, steady output


@dataclass(slots=True)
class Tick:
    """One reading to show, with the events the replay reached at it (or events alone)."""

    reading: Reading | None
    events: list[Anomaly] = field(default_factory=list)


class Feed(Protocol):
    @property
    def speed(self) -> float: ...

    @property
    def paused(self) -> bool: ...

    @property
    def done(self) -> bool:
        """True once the last reading was handed out."""
        ...

    @property
    def message(self) -> str | None:
        """Why the feed stopped early (a lost connection); None when all is well."""
        ...

    def poll(self, now: float) -> list[Tick]:
        """What is due by ``now`` (may be empty); ``done`` turns True after the last one."""
        ...

    def next_at(self, now: float) -> float | None:
        """When to poll again; None while paused (wait for a key)."""
        ...

    def toggle_pause(self, now: float) -> None: ...

    def set_speed(self, now: float, speed: float) -> None: ...

    def close(self) -> None: ...


class ReplayFeed:
    """Replays readings at one per second times the speed; events surface at their start time."""

    def __init__(
        self, readings: Iterator[Reading], events: Sequence[Anomaly], speed: float = 1.0, paced: bool = True
    ) -> None:
        self._readings = readings
        self._cursor = EventCursor(events)
        self._clock = ReplayClock(speed=speed)
        self._paced = paced
        self.done = False
        self.message: str | None = None

    @property
    def speed(self) -> float:
        return self._clock.speed

    @property
    def paused(self) -> bool:
        return self._clock.paused

    def poll(self, now: float) -> list[Tick]:
        if self.done:
            return []
        due = self._clock.due(now) if self._paced else UNPACED_BATCH
        ticks: list[Tick] = []
        for _ in range(due):
            reading = next(self._readings, None)
            if reading is None:
                self.done = True
                rest = self._cursor.reached(math.inf)
                if rest:
                    ticks.append(Tick(None, rest))
                break
            ticks.append(Tick(reading, self._cursor.reached(reading.ts)))
        return ticks

    def next_at(self, now: float) -> float | None:
        if self.done:
            return None
        if not self._paced:
            return now
        return self._clock.next_at(now)

    def toggle_pause(self, now: float) -> None:
        if self._clock.paused:
            self._clock.resume(now)
        else:
            self._clock.pause(now)

    def set_speed(self, now: float, speed: float) -> None:
        self._clock.set_speed(now, speed)

    def close(self) -> None:
        close = getattr(self._readings, "close", None)
        if close is not None:
            close()
