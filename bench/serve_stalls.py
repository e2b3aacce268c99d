"""Run ``hrviz`` with an event-loop stall recorder: which loop iterations and callbacks ran long.

    python bench/bench_serve.py fanout --backend kafka --seconds 20 --server-wrapper bench/serve_stalls.py
    SERVE_STALLS_OUT=stalls.txt ...   # where the report goes (default: hrviz-stalls-<pid>.txt in the
                                      # temp directory; not an HRVIZ_ name: the bench passes none on)

Why not the p99 alone: on a shared two-core machine the tail moves with other people's load. This
counts the stalls themselves, in the server: per loop iteration its callbacks and how long they ran
(an iteration full of short callbacks delays a tick as much as one long callback), per callback over
:data:`SLOW` its wall and CPU time (little CPU: the loop thread waited, for a core or the GIL), and
the loop thread's stack sampled every 5 ms while a callback runs long. Written at exit (SIGTERM).
For what the other threads do meanwhile, ``py-spy record --gil --threads -p PID`` beside it.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import atexit
import os
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from typing import Any

SLOW = 0.02  # a callback or iteration this long is a stall
OUT = os.environ.get("SERVE_STALLS_OUT") or os.path.join(tempfile.gettempdir(), f"hrviz-stalls-{os.getpid()}.txt")
T0 = time.monotonic()
LOOP_THREAD = threading.get_ident()

iterations: list[list[Any]] = []  # [woke at, select timeout, callbacks, longest, busy until next select]
slow: list[tuple[float, float, float, str]] = []  # (at, wall, cpu, callback)
stacks: Counter[str] = Counter()
running: list[float | None] = [None]  # when the callback now running started
_run = asyncio.events.Handle._run


def _timed_run(self: asyncio.events.Handle) -> None:
    if not iterations:
        _watch_select(asyncio.get_running_loop())
    started, cpu = time.monotonic(), time.thread_time()
    running[0] = started
    try:
        _run(self)
    finally:
        running[0] = None
    took = time.monotonic() - started
    it = iterations[-1]
    it[2] += 1
    it[3] = max(it[3], took)
    if took > SLOW:
        slow.append((started - T0, took, time.thread_time() - cpu, repr(self)[:160]))


def _watch_select(loop: asyncio.AbstractEventLoop) -> None:
    selector = loop._selector  # type: ignore[attr-defined]
    select = selector.select

    def timed(timeout: float | None = None) -> Any:
        now = time.monotonic()
        if iterations:
            iterations[-1][4] = now - iterations[-1][0]
        events = select(timeout)
        iterations.append([time.monotonic(), timeout, 0, 0.0, 0.0])
        return events

    selector.select = timed
    iterations.append([time.monotonic(), None, 0, 0.0, 0.0])


def _sample() -> None:
    while True:
        time.sleep(0.005)
        started = running[0]
        if started is not None and time.monotonic() - started > SLOW:
            frame = sys._current_frames().get(LOOP_THREAD)
            if frame is not None:
                stacks[
                    "".join(f"  {f.filename}:{f.lineno} {f.name}\n" for f in traceback.extract_stack(frame)[-12:])
                ] += 1


def _report() -> None:
    long_ = [it for it in iterations if it[4] > SLOW]
    with open(OUT, "w") as out:
        out.write(f"iterations: {len(iterations)}, over {SLOW * 1000:.0f} ms: {len(long_)}\n")
        out.write("  at s   busy ms  callbacks  longest ms  (select timeout ms)\n")
        for at, timeout, n, longest, busy in long_:
            wait = "-" if timeout is None else f"{timeout * 1000:.1f}"
            out.write(f"{at - T0:7.3f} {busy * 1000:8.1f} {n:9d} {longest * 1000:10.1f}  ({wait})\n")
        out.write(f"\ncallbacks over {SLOW * 1000:.0f} ms: {len(slow)} (at s, wall ms, CPU ms of the loop thread)\n")
        for at, wall, cpu, what in slow:
            out.write(f"{at:7.3f} {wall * 1000:7.1f} {cpu * 1000:6.1f}  {what}\n")
        out.write("\nthe loop thread while a callback ran long (5 ms samples):\n")
        for stack, n in stacks.most_common(20):
            out.write(f"--- {n}\n{stack}")


asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]
threading.Thread(target=_sample, daemon=True, name="stall-sampler").start()
atexit.register(_report)

if __name__ == "__main__":
    from hrviz.cli import app

    sys.argv[0] = "hrviz"
    app()
