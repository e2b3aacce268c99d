"""Feeds for readings being recorded now (docs/live.md): a live session in the store, and stdin.

Neither is paced: what was recorded so far is shown at once, then each new reading as it comes
(the live edge is never held back by a replay clock). Pause holds the display; what arrives
meanwhile is shown on resume. Speed has no meaning for them and is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from hrviz.adapters.watch.feed import UNPACED_BATCH, Tick
from hrviz.core.detector import Detector, DetectorConfig
from hrviz.core.model import Anomaly, Reading, Session
from hrviz.core.reader.lines import BadRow, LineReader

POLL = 0.05  # seconds between two looks for new readings


class _Unpaced:
    speed = 1.0
    paused = False
    done = False
    message: str | None = None

    def next_at(self, now: float) -> float | None:
        return None if self.done else now + POLL

    def toggle_pause(self, now: float) -> None:
        self.paused = not self.paused

    def set_speed(self, now: float, speed: float) -> None:
        pass  # the live edge has one speed: as it comes

    def close(self) -> None:
        pass


class StoreFollowFeed(_Unpaced):
    """A live session read from the store as it grows, until it is finalized.

    ``fetch(from_seq, limit)`` gives stored readings; ``look()`` the session as stored now and
    whether it is still live (its anomalies come with the finalized session).
    """

    def __init__(
        self, fetch: Callable[[int, int], list[Reading]], look: Callable[[], tuple[Session | None, bool]]
    ) -> None:
        self._fetch = fetch
        self._look = look
        self._next = 0

    def poll(self, now: float) -> list[Tick]:
        if self.done or self.paused:
            return []
        readings = self._fetch(self._next, UNPACED_BATCH)
        if readings:
            self._next = readings[-1].seq + 1
            return [Tick(r) for r in readings]
        session, live = self._look()
        if live and session is not None:
            return []
        more = self._fetch(self._next, UNPACED_BATCH)  # stored between the fetch and the look
        if more:
            self._next = more[-1].seq + 1
            return [Tick(r) for r in more]
        self.done = True
        return [Tick(None, list(session.anomalies))] if session is not None and session.anomalies else []


class LinesFeed(_Unpaced):
    """CSV lines (stdin) through the detector's live path, shown as they come, never stored.

    ``pull()`` gives the lines readable now and whether the input ended; bad rows go to ``on_bad``.
    """

    def __init__(
        self,
        pull: Callable[[], tuple[list[bytes], bool]],
        source: str = "stdin",
        interval: float = 1.0,
        config: DetectorConfig | None = None,
        on_bad: Callable[[BadRow], None] | None = None,
    ) -> None:
        self._pull = pull
        self.reader = LineReader(source, interval)
        self._detector = Detector(config, cadence=interval)
        self._on_bad = on_bad
        self._first = True
        self._events: list[Anomaly] = []

    @property
    def tz_offset_min(self) -> int | None:
        return self.reader.tz_offset_min

    def poll(self, now: float) -> list[Tick]:
        if self.done or self.paused:
            return []
        lines, ended = self._pull()
        ticks: list[Tick] = []
        for raw in lines:
            text = raw.decode("utf-8-sig" if self._first else "utf-8", errors="replace")
            self._first = False
            for item in self.reader.line(text):
                if isinstance(item, BadRow):
                    if self._on_bad is not None:
                        self._on_bad(item)
                    continue
                self._take(self._detector.feed(*item), ticks)
        if ended:
            self._take(self._detector.finish(), ticks)
            if self._events:
                ticks.append(Tick(None, self._events))
            self.done = True
        return ticks

    def _take(self, outputs: list[Reading | Anomaly], ticks: list[Tick]) -> None:
        for out in outputs:
            if isinstance(out, Reading):
                ticks.append(Tick(out, self._events))
                self._events = []
            elif not math.isnan(out.start):
                self._events.append(out)
