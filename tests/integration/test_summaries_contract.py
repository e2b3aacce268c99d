"""Insights summaries, one contract on both stores: stored with the session at commit, read back,
back-filled, summed per day in SQL, deleted with the session (SQLite file and real MariaDB)."""

from __future__ import annotations

import io
from typing import cast

import pytest

from hrviz.core.ingest import IngestOptions, ingest
from hrviz.core.insights import backfill, from_store, profile
from hrviz.core.insights.stored import SummaryStore
from hrviz.core.ports import SessionStore
from tests.integration.test_store_contract import Opener, open_store, small_load_statements  # noqa: F401

pytestmark = pytest.mark.usefixtures("small_load_statements")


def csv(day: str, parts: list[tuple[int, int]]) -> bytes:
    """One reading a second from 08:00 of ``day``: (bpm, seconds) parts."""
    lines, t = ["time,bpm"], 8 * 3600
    for bpm, seconds in parts:
        for _ in range(seconds):
            lines.append(f"{day}T{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}Z,{bpm}")
            t += 1
    return ("\n".join(lines) + "\n").encode()


def put(store: SessionStore, name: str, data: bytes) -> str:
    (session,) = ingest(io.BytesIO(data), name, store, IngestOptions(max_hr=200))
    return session.id


def test_summary_is_stored_at_commit_and_trends_sum_it_per_day(open_store: Opener) -> None:  # noqa: F811
    store = open_store()
    summaries = cast(SummaryStore, store)
    a = put(store, "a.csv", csv("2024-05-01", [(60, 600), (130, 600), (170, 600)]))
    b = put(store, "b.csv", csv("2024-05-01", [(55, 600), (150, 300)]))
    c = put(store, "c.csv", csv("2024-05-03", [(190, 120)]))
    assert summaries.unsummarised() == [] and summaries.summary(a) is not None
    days = summaries.trends((100.0, 120.0, 140.0, 160.0, 180.0))
    assert [(d.day, d.sessions, d.resting_bpm, d.max_bpm) for d in days] == [
        ("2024-05-01", 2, 55.0, 170.0),
        ("2024-05-03", 1, 190.0, 190.0),
    ]  # c: its lowest minute (under 5 min)
    assert days[0].zone_seconds == (0.0, 600.0, 300.0, 600.0, 0.0)
    assert days[1].zone_seconds == (0.0, 0.0, 0.0, 0.0, 120.0) and days[0].recorded_s == 2700.0
    assert summaries.trends((100.0, 120.0, 140.0, 160.0, 180.0), "2024-05-02")[0].day == "2024-05-03"
    fast = from_store(store, a, profile(200), summaries)
    slow = from_store(store, a, profile(200))
    assert fast is not None and slow is not None and fast.as_dict() == slow.as_dict()
    assert [z.seconds for z in fast.zones] == [0.0, 600.0, 0.0, 600.0, 0.0]
    assert store.delete(b) and summaries.summary(b) is None
    assert [d.sessions for d in summaries.trends((100.0, 120.0, 140.0, 160.0, 180.0))] == [1, 1]
    assert c


def test_sessions_without_a_summary_are_back_filled(open_store: Opener) -> None:  # noqa: F811
    store = open_store()
    summaries = cast(SummaryStore, store)
    sid = put(store, "a.csv", csv("2024-06-01", [(80, 900)]))
    for sql in ("DELETE FROM session_summaries", "DELETE FROM session_bpm_seconds"):  # as an older hrviz left it
        raw = store._db if hasattr(store, "_db") else None  # type: ignore[attr-defined]
        if raw is not None:
            raw.execute(sql)
        else:
            conn = store.connect(autocommit=True)  # type: ignore[attr-defined]
            with conn.cursor() as cur:
                cur.execute(sql)
            store.release(conn)  # type: ignore[attr-defined]
    assert summaries.unsummarised() == [sid] and summaries.trends((1.0, 2.0, 3.0, 4.0, 5.0)) == []
    assert backfill(store, summaries, 190.0) == 1 and summaries.unsummarised() == []
    (day,) = summaries.trends((40.0, 60.0, 75.0, 90.0, 100.0))
    assert day.day == "2024-06-01" and day.zone_seconds == (0.0, 0.0, 900.0, 0.0, 0.0) and day.resting_bpm == 80.0
    reopened = open_store()  # a second open runs the schema again: nothing lost
    assert cast(SummaryStore, reopened).summary(sid) is not None
