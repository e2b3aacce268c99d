"""serve/live.py: whether a hub opening is live, without a query of every live session per hub."""

from __future__ import annotations

import pytest

from hrviz.adapters.serve import live as serve_live
from hrviz.adapters.serve.live import LiveFollower
from hrviz.core.ports import LiveMark
from tests.unit.fakes import MemoryStore


class _Answers:
    """``live_ids`` as the store answers it, counting the queries."""

    def __init__(self) -> None:
        self.live = {"a": LiveMark(3, 0), "b": LiveMark(5, 1)}
        self.asked = 0

    def __call__(self) -> dict[str, LiveMark]:
        self.asked += 1
        return dict(self.live)


def test_hubs_opening_within_a_look_of_a_live_session_do_not_ask_again(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = _Answers()
    now = [100.0]
    monkeypatch.setattr(serve_live.time, "monotonic", lambda: now[0])
    follower = LiveFollower(MemoryStore, lambda sid: None, answers)
    try:
        assert follower.is_live("a") and answers.asked == 1
        assert follower.is_live("b") and answers.asked == 1  # the same answer, fresh: no query
        answers.live["c"] = LiveMark(1, 0)  # began since the last answer: not in it, so asked about
        assert follower.is_live("c") and answers.asked == 2
        assert not follower.is_live("done") and answers.asked == 3  # never trusted for "not live"
        del answers.live["a"]  # finalized since
        now[0] += serve_live.FRESH  # the answer is too old now: asked again
        assert not follower.is_live("a") and answers.asked == 4
        follower._look({})  # the follower's own look refreshes the answer
        assert answers.asked == 5 and follower.is_live("b") and answers.asked == 5
    finally:
        follower.close()
