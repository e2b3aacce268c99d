"""Plain output for ``hrviz watch`` when stdout is not a terminal: one line per reading.

Meant for scripts and CI logs, so the format is stable and greppable (see docs/watch.md):

    2026-03-14T07:31:30+01:00  104  spike  ! spike 07:31:30–07:31:32 (2 s) 104 bpm +42 vs 62

Each line is flushed as it is printed, so a pipe sees readings at the replay's own pace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from hrviz.adapters.watch.feed import Feed, Tick
from hrviz.adapters.watch.view import WatchView, describe_event
from hrviz.core.model import Anomaly, Reading, format_ts

IDLE_POLL = 0.1  # seconds between polls when the feed has nothing scheduled (a server feed)
MIN_SLEEP = 0.001


def flags(reading: Reading) -> str:
    """``filled`` and the anomaly kinds a reading is part of, comma-separated; ``-`` for none."""
    names = (["filled"] if reading.filled else []) + [k for k in reading.kinds if k != "filled"]
    return ",".join(names) or "-"


def format_bpm(bpm: float) -> str:
    return f"{bpm:g}" if bpm == bpm else "-"  # NaN never reaches here, but never print "nan"


def format_line(reading: Reading | None, events: list[Anomaly], tz_offset_min: int | None) -> str:
    """One reading (or, at the very end, events alone) as one line."""
    if reading is not None:
        head = f"{format_ts(reading.ts, tz_offset_min)}  {format_bpm(reading.bpm)}  {flags(reading)}"
    else:
        head = f"{format_ts(events[0].start, tz_offset_min) if events else '-'}  -  -"
    tail = "".join(f"  ! {describe_event(e, tz_offset_min)}" for e in events)
    return head + tail


def format_summary(view: WatchView) -> str:
    stats = view.stats.as_dict()

    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    return (
        f"# end: {view.shown} readings; min {num(stats['min'])} mean {num(stats['mean'])} "
        f"max {num(stats['max'])}; {view.event_count} events"
    )


def apply(view: WatchView, tick: Tick) -> None:
    if tick.reading is not None:
        view.add(tick.reading)
    view.add_events(tick.events)


def run_plain(
    feed: Feed,
    view: WatchView,
    out: TextIO,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Print every reading as it becomes due, then a summary line; returns at the end of the feed."""
    print(f"# hrviz watch: {view.title}", file=out, flush=True)
    while True:
        ticks = feed.poll(clock())
        for tick in ticks:
            apply(view, tick)
            print(format_line(tick.reading, tick.events, view.tz_offset_min), file=out, flush=True)
        if feed.done:
            break
        at = feed.next_at(clock())
        delay = IDLE_POLL if at is None else at - clock()
        if delay > 0 or not ticks:
            sleep(max(delay, MIN_SLEEP))  # never spin when a deadline rounds to "now" but nothing came
    if view.message:
        print(f"# {view.message}", file=out, flush=True)
    print(format_summary(view), file=out, flush=True)
