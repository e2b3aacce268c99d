"""The interactive ``hrviz watch`` loop: feed → view → rich Live, with keys and resizes.

One thread does everything: poll the feed for due readings, redraw, then wait for a key until
the next reading is due. No thread means no locking around plotext's global figure, and the
terminal is restored by ``with`` blocks on every way out (q, Ctrl-C, SIGTERM, an error).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from rich.console import Console
from rich.live import Live

from hrviz.adapters.watch.chart import WatchScreen
from hrviz.adapters.watch.feed import Feed
from hrviz.adapters.watch.keys import KeyReader
from hrviz.adapters.watch.plain import apply
from hrviz.adapters.watch.view import WatchView
from hrviz.core.replay import faster, slower

IDLE_WAIT = 0.25  # seconds between resize checks while nothing else is due (paused, ended)
MIN_FRAME = 1 / 30  # at 60× a frame per reading would be wasted work: cap the redraw rate
MIN_WAIT = 0.001  # never spin when a deadline rounds to "now" but nothing came
QUIT_KEYS = frozenset("qQ\x03\x04")


def live_console() -> Console:
    """A console that always asks the terminal for its size.

    An exported COLUMNS / LINES (some shells and runners export them) would pin rich to the size
    at start-up, and the chart would stop following resizes.
    """
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return Console(_environ=environ)


def handle_key(key: str, feed: Feed, view: WatchView, now: float) -> bool:
    """Apply one key to the feed; True when it asks to quit."""
    if key in QUIT_KEYS:
        return True
    if key == " ":
        feed.toggle_pause(now)
    elif key in "+=":
        feed.set_speed(now, faster(feed.speed))
    elif key in "-_":
        feed.set_speed(now, slower(feed.speed))
    view.paused, view.speed = feed.paused, feed.speed
    return False


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM / SIGHUP unwind like Ctrl-C, so the terminal is restored on those too."""

    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    saved = {sig: signal.signal(sig, raise_interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def run_live(
    feed: Feed, view: WatchView, console: Console, key_fd: int, clock: Callable[[], float] = time.monotonic
) -> None:
    """Run until the user quits (q); the final frame stays up after the session ends.

    Without a keyboard (stdin not a terminal) it returns at the end of the session instead.
    """
    view.paused, view.speed = feed.paused, feed.speed
    with (
        terminate_as_interrupt(),
        KeyReader(key_fd) as keys,
        Live(WatchScreen(view), console=console, screen=True, auto_refresh=False, redirect_stderr=False) as live,
    ):
        size = console.size
        dirty, last_frame = True, 0.0
        while True:
            ticks = feed.poll(clock())
            for tick in ticks:
                apply(view, tick)
                dirty = True
            if (feed.message, feed.paused, feed.speed) != (view.message, view.paused, view.speed):
                view.message, view.paused, view.speed = feed.message, feed.paused, feed.speed  # a server's word
                dirty = True
            if feed.done and not view.finished:
                view.finished = dirty = True
            if console.size != size:
                size, dirty = console.size, True
            now = clock()
            if dirty and now - last_frame >= MIN_FRAME:
                live.refresh()
                dirty, last_frame = False, now
            if view.finished and not dirty and not keys.interactive:
                return  # nobody can press q: the end of the session is the end
            at = feed.next_at(now)
            timeout = IDLE_WAIT if at is None else min(max(at - now, 0.0 if ticks else MIN_WAIT), IDLE_WAIT)
            if dirty:
                timeout = min(timeout, max(last_frame + MIN_FRAME - now, 0.0))
            key = keys.read(timeout)
            if key and any(handle_key(ch, feed, view, clock()) for ch in key):
                return
            if key:
                dirty = True
