"""Replay pacing without sleeping: the clock is a number we pass in."""

from __future__ import annotations

import pytest

from hrviz.core.model import Anomaly, Kind
from hrviz.core.replay import EventCursor, ReplayClock, faster, slower


def shown_at(clock: ReplayClock, times: list[float]) -> list[int]:
    return [clock.due(t) for t in times]


def test_one_reading_per_second() -> None:
    clock = ReplayClock()
    assert shown_at(clock, [0.0, 0.4, 0.99, 1.0, 1.5, 2.0, 5.0]) == [1, 0, 0, 1, 0, 1, 3]
    assert clock.shown == 6


def test_next_at_is_when_the_next_reading_is_due() -> None:
    clock = ReplayClock()
    clock.due(10.0)
    assert clock.next_at(10.0) == pytest.approx(11.0)


def test_pause_stops_and_resume_continues_without_a_burst() -> None:
    clock = ReplayClock()
    clock.due(0.0)
    clock.due(2.0)  # 3 shown
    clock.pause(2.5)
    assert clock.due(100.0) == 0 and clock.next_at(100.0) is None
    clock.resume(100.0)
    assert shown_at(clock, [100.0, 100.6, 101.6]) == [0, 1, 1]


def test_speed_change_applies_from_now() -> None:
    clock = ReplayClock()
    clock.due(0.0)
    clock.set_speed(0.5, 10.0)
    assert clock.due(1.5) == 10  # 0.5 s at 1× + 1 s at 10× = position 10.5 → 11 due in all
    with pytest.raises(ValueError):
        clock.set_speed(2.0, 0)


def test_restart_from_a_given_point() -> None:
    clock = ReplayClock()
    clock.due(0.0)
    clock.start(50.0, shown=40)  # e.g. a viewer reconnecting after reading 39
    assert clock.due(50.0) == 1 and clock.shown == 41


def test_speed_ladder() -> None:
    assert [faster(s) for s in (1, 2, 5, 10, 60, 600)] == [2, 5, 10, 60, 600, 600]
    assert [slower(s) for s in (1, 2, 5, 10, 60, 600)] == [1, 1, 2, 5, 10, 60]


def test_events_are_handed_out_once_when_reached() -> None:
    events = [Anomaly(Kind.GAP, 30.0, 100.0), Anomaly(Kind.SPIKE, 10.0, 12.0), Anomaly(Kind.MISSING, 10.0, 11.0)]
    cursor = EventCursor(events)
    assert cursor.reached(5.0) == []
    assert [e.kind for e in cursor.reached(10.0)] == [Kind.MISSING, Kind.SPIKE]
    assert cursor.reached(20.0) == []
    assert [e.kind for e in cursor.reached(1000.0)] == [Kind.GAP]
    cursor.seek(10.0)
    assert [e.kind for e in cursor.reached(40.0)] == [Kind.GAP]


# -- edges scripts/mutation.sh found unpinned -------------------------------------------------------


def test_next_at_divides_by_the_speed_from_the_anchor() -> None:
    clock = ReplayClock(speed=2.0)
    clock.start(100.0, shown=5)
    assert clock.due(100.0) == 1 and clock.shown == 6
    assert clock.next_at(100.0) == 100.5  # the 7th reading: half a second later at 2x


def test_a_clock_never_started_starts_where_it_stands() -> None:
    clock = ReplayClock(shown=5)
    assert (clock.due(100.0), clock.shown) == (1, 6)
    assert clock.next_at(100.0) == 101.0
    restarted = ReplayClock(shown=5)
    restarted.start(10.0)
    assert restarted.shown == 0 and restarted.due(10.0) == 1


def test_pause_before_start_and_resume() -> None:
    clock = ReplayClock(shown=3)
    clock.pause(1.0)
    assert clock.paused is True and clock.next_at(1.0) is None
    clock.resume(2.0)
    assert clock.paused is False
    assert (clock.due(2.0), clock.shown) == (1, 4)


def test_speed_must_be_positive_and_one_is_fine() -> None:
    clock = ReplayClock(speed=2.0)
    clock.start(0.0)
    clock.set_speed(0.0, 1.0)
    assert clock.speed == 1.0
    clock.set_speed(0.0, 0.5)
    assert clock.speed == 0.5
    with pytest.raises(ValueError, match=r"^speed must be positive, not 0$"):
        clock.set_speed(0.0, 0)
