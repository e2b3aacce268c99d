"""serve's turnstile: handshakes let in a few per opening, one while the event loop is behind."""

from __future__ import annotations

import asyncio
import time

from hrviz.adapters.serve import turnstile
from hrviz.adapters.serve.turnstile import Turnstile


def test_a_viewer_connecting_to_an_idle_server_never_waits() -> None:
    async def play() -> tuple[float, int]:
        gate = Turnstile()
        started = time.monotonic()
        await gate.enter()
        took = time.monotonic() - started
        for _ in range(200):  # its opening task ends once nobody waits (and the loop is on time)
            await asyncio.sleep(turnstile.TICK)
            if gate._task is not None and gate._task.done():
                break
        assert gate._task is not None and gate._task.done()
        return took, gate.waited

    took, waited = asyncio.run(play())
    assert waited == 0 and took < turnstile.TICK


def test_a_crowd_goes_in_a_batch_per_opening_in_arrival_order() -> None:
    """1,000 viewers connecting within a second were taken all at once (hundreds of callbacks in
    each loop iteration, every tick due meanwhile late); now a few per opening."""

    async def play() -> tuple[list[int], list[int]]:
        gate = Turnstile()
        order: list[int] = []
        openings: list[int] = []  # how many went in at each opening
        seen = 0

        async def viewer(i: int) -> None:
            await gate.enter()
            order.append(i)

        crowd = [asyncio.create_task(viewer(i)) for i in range(4 * turnstile.BATCH + 1)]
        while len(order) < len(crowd):
            await asyncio.sleep(turnstile.TICK / 5)
            if len(order) > seen:
                openings.append(len(order) - seen)
                seen = len(order)
        await asyncio.gather(*crowd)
        assert gate.waited == len(crowd) - turnstile.BATCH
        return order, openings

    order, openings = asyncio.run(play())
    assert order == sorted(order)
    assert max(openings) <= turnstile.BATCH and len(openings) >= 5


def test_while_the_loop_is_behind_one_goes_in_per_opening_and_one_who_left_loses_its_place() -> None:
    async def play() -> tuple[list[int], list[int]]:
        gate = Turnstile()
        order: list[int] = []
        turns: list[int] = []  # viewers in at each turn of the loop

        async def viewer(i: int) -> None:
            await gate.enter()
            order.append(i)

        def busy() -> None:  # a callback hogging every turn of the loop: each opening wakes 10 ms late
            turns.append(len(order))
            time.sleep(3 * turnstile.TICK)
            if len(order) < 9:
                asyncio.get_running_loop().call_soon(busy)

        for _ in range(turnstile.BATCH):
            await gate.enter()  # the free places, taken
        crowd = [asyncio.create_task(viewer(i)) for i in range(10)]
        await asyncio.sleep(0)
        crowd[3].cancel()  # left while waiting
        asyncio.get_running_loop().call_soon(busy)
        await asyncio.gather(*crowd, return_exceptions=True)
        return order, [b - a for a, b in zip(turns, turns[1:], strict=False)]

    order, per_turn = asyncio.run(play())
    assert order == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert max(per_turn) == 1  # one per opening, and at most one opening per turn
