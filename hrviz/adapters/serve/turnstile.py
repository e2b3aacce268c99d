"""WebSocket handshakes let in at the pace the event loop keeps up with.

Why: at a ``serve`` start 1,000 viewers connect within a second. Each handshake, and the replay it
asks for next, is a few dozen loop callbacks; taken all at once they filled every loop iteration
with hundreds of them (20-100 ms an iteration), and every tick of the viewers already playing that
fell due meanwhile was late by as much. The turnstile lets a few handshakes in every
:data:`TICK`, and only one while its own timer wakes late (the loop is behind): the viewers already
playing keep their pace, and the newcomers wait a moment in the turnstile (in the kernel's accept
queue before it) instead. One viewer connecting to an idle server never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

TICK = 0.005  # seconds between two openings while handshakes wait
BATCH = 4  # handshakes let in per opening while the loop is on time
BEHIND = 0.003  # the opening's own timer this late: the loop is behind, one handshake per opening


class Turnstile:
    """Call :meth:`enter` before accepting a handshake (on the event loop)."""

    def __init__(self) -> None:
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._free = BATCH  # handshakes that may enter before the next opening
        self._task: asyncio.Task[None] | None = None
        self.waited = 0  # handshakes that had to wait (for tests and logs)

    async def enter(self) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            self._run_soon()
            return
        self.waited += 1
        ticket = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        self._run_soon()
        try:
            await ticket
        except asyncio.CancelledError:  # the client left while waiting: its place goes to the next one
            with contextlib.suppress(ValueError):
                self._waiting.remove(ticket)
            raise

    def _run_soon(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        """Every TICK, let BATCH handshakes in (one when the loop is behind); ends when none waits."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            self._free = BATCH if loop.time() - due < BEHIND else 1
            while self._free > 0 and self._waiting:
                ticket = self._waiting.popleft()
                if not ticket.done():
                    ticket.set_result(None)
                    self._free -= 1
            if not self._waiting and self._free == BATCH:
                return

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for ticket in self._waiting:
            ticket.cancel()
        self._waiting.clear()
