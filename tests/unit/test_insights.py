"""Insights with known answers: exact seconds per zone, episodes, recoveries, quality; real files."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrviz.core.errors import SettingsError
from hrviz.core.ingest import ingest
from hrviz.core.insights import insights, profile, resting_bpm, summarize
from hrviz.core.insights.summary import Minute
from hrviz.core.model import Anomaly, Kind, Reading, Session
from tests.real_data import REAL
from tests.unit.fakes import MemoryStore

T0 = 1_700_000_000.0


def series(*parts: tuple[float, int], step: float = 1.0, t0: float = T0) -> list[Reading]:
    """Readings ``step`` apart: each part is (bpm, count)."""
    out: list[Reading] = []
    for bpm, count in parts:
        for _ in range(count):
            out.append(Reading(len(out), t0 + len(out) * step, bpm))
    return out


def figures(readings: list[Reading], max_hr: float = 200, model: str = "max") -> dict[str, object]:
    p = profile(max_hr, model=model)
    return insights(Session("s1", "test.csv", None, "fp"), summarize(readings, p.max_hr), p).as_dict()


def zone_seconds(d: dict[str, object]) -> list[float]:
    return [z["seconds"] for z in d["zones"]]  # type: ignore[attr-defined,index]


def test_ten_minutes_each_at_60_130_170_with_max_200() -> None:
    d = figures(series((60, 600), (130, 600), (170, 600)))
    # 60 = 30 % (no zone), 130 = 65 % (zone 2), 170 = 85 % (zone 4)
    assert zone_seconds(d) == [0.0, 600.0, 0.0, 600.0, 0.0]
    assert d["below_zones_seconds"] == 600.0  # the ten minutes at 60 bpm: measured, in no zone
    assert [(z["low_bpm"], z["high_bpm"]) for z in d["zones"]] == [  # type: ignore[attr-defined]
        (100, 120),
        (120, 140),
        (140, 160),
        (160, 180),
        (180, 200),
    ]
    assert d["episodes"] == [
        {
            "kind": "high",
            "start": "2023-11-14T22:23:20",
            "end": "2023-11-14T22:43:20",
            "start_ts": T0 + 600,
            "seconds": 1200.0,
            "peak_bpm": 170.0,
        }
    ]
    assert (d["resting_bpm"], d["mean_bpm"], d["max_bpm"]) == (60.0, 120.0, 170.0)
    assert (d["recorded_seconds"], d["covered_seconds"], d["coverage"], d["filled"]) == (1800.0, 1800.0, 1.0, 0.0)


def test_filled_readings_and_gaps_never_count_as_zone_time() -> None:
    readings = series((170, 600))
    filled = [r._replace(filled=True) if 100 <= r.seq < 160 else r for r in readings]  # one minute filled
    gap = [r._replace(ts=r.ts + 3600) if r.seq >= 300 else r for r in filled]  # an hour without readings
    d = figures(gap)
    assert zone_seconds(d) == [0.0, 0.0, 0.0, 540.0, 0.0]
    assert d["recorded_seconds"] == 600.0 + 3600
    assert d["covered_seconds"] == 600.0
    assert d["quality"]["gaps"] == 1 and d["quality"]["longest_gap_seconds"] == 3600.0  # type: ignore[index]
    assert d["filled"] == 0.1
    assert d["episodes"] == []  # the gap splits 20 min above 120 into two runs of 5 min


def test_a_filled_minute_bridges_an_episode_but_sets_no_peak() -> None:
    readings = [r._replace(filled=True, bpm=250.0) if 300 <= r.seq < 360 else r for r in series((130, 700))]
    d = figures(readings)
    assert [(e["seconds"], e["peak_bpm"]) for e in d["episodes"]] == [(700.0, 130.0)]  # type: ignore[attr-defined]


def test_low_episode_and_one_below_ten_minutes_is_none() -> None:
    d = figures(series((60, 60), (35, 660), (60, 60), (38, 599), (60, 10)))
    assert [(e["kind"], e["seconds"], e["peak_bpm"]) for e in d["episodes"]] == [("low", 660.0, 35.0)]  # type: ignore[attr-defined]


def test_karvonen_zones_use_the_measured_resting_rate() -> None:
    d = figures(series((60, 600), (130, 600), (170, 600)), model="hrr")
    # reserve 200 - 60 = 140: zone 1 starts at 60 + 70 = 130, zone 3 at 60 + 98 = 158, zone 4 at 172
    assert [z["low_bpm"] for z in d["zones"]] == [130.0, 144.0, 158.0, 172.0, 186.0]  # type: ignore[attr-defined]
    assert zone_seconds(d) == [600.0, 0.0, 600.0, 0.0, 0.0]


def test_hrr60_after_a_hard_effort() -> None:
    d = figures(series((100, 60), (175, 120), (150, 30), (130, 30), (120, 100)))
    assert d["recoveries"] == [
        {
            "effort_start": "2023-11-14T22:14:20",
            "effort_end": "2023-11-14T22:16:20",
            "end_ts": T0 + 180,
            "peak_bpm": 175.0,
            "end_bpm": 175.0,
            "after_60s_bpm": 120.0,
            "hrr60_bpm": 55.0,
        }
    ]


def test_no_hrr60_when_the_minute_after_is_not_measured_or_effort_resumes() -> None:
    assert figures(series((175, 120), (150, 30), (175, 100)))["recoveries"] == []
    assert figures(series((175, 120), (150, 40)))["recoveries"] == []  # the recording ends too soon


def test_resting_is_the_lowest_five_minute_mean_not_one_dip() -> None:
    d = figures(series((70, 600), (45, 20), (70, 300), (62, 420), (80, 300)))  # 5 whole clock minutes at 62
    assert d["resting_bpm"] == 62.0


def test_quality_counts_anomalies_per_hour_and_says_it_in_words() -> None:
    readings = series((70, 7200))
    session = Session("s1", "x", None, "fp", anomalies=[Anomaly(Kind.SPIKE, T0, T0 + 1, 150, 70, 80)] * 4)
    p = profile(190)
    d = insights(session, summarize(readings, 190), p).as_dict()
    assert d["quality"] == {
        "verdict": "good",
        "sentence": "good: 0.0 % filled, no gaps",
        "filled_pct": 0.0,
        "coverage_pct": 100.0,
        "gaps": 0,
        "longest_gap_seconds": 0.0,
        "anomalies_per_hour": {"spike": 2.0},
    }


def test_irregular_cadence_uses_the_typical_interval() -> None:
    readings = series((150, 120), step=5.0)  # one reading every 5 s for 10 min
    d = figures(readings)
    assert d["interval_seconds"] == 5.0 and zone_seconds(d) == [0.0, 0.0, 600.0, 0.0, 0.0]


def test_profile_sources_and_bad_values() -> None:
    assert profile(age=40).max_hr == 180 and profile(age=40).estimated
    assert profile().source == "default" and profile().max_hr == 190
    assert not profile(185).estimated
    with pytest.raises(SettingsError):
        profile(500)
    with pytest.raises(SettingsError):
        profile(age=2)
    with pytest.raises(SettingsError):
        profile(190, model="lactate")


def test_empty_and_tiny_sessions() -> None:
    d = figures([])
    assert d["resting_bpm"] is None and d["quality"]["verdict"] == "poor"  # type: ignore[index]
    d = figures(series((80, 3)))
    assert d["resting_bpm"] is None  # under half a minute measured: no resting rate


def ingested(name: str) -> tuple[Session, MemoryStore]:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (real data lives in the team's shared folder)")
    store = MemoryStore()
    with path.open("rb") as f:
        (session,) = ingest(f, name, store)
    return session, store


@pytest.mark.parametrize(
    ("name", "resting", "max_bpm"),
    [
        ("polar_flow_running_2015-09-06.csv", (60, 140), (150, 200)),
        ("wahoo_fitness_running_2016-10-07.csv", (60, 150), (150, 200)),
        ("fitbit_google_takeout_heart_rate_2024-03-31.csv", (45, 70), (150, 200)),
    ],
)
def test_real_files(name: str, resting: tuple[float, float], max_bpm: tuple[float, float]) -> None:
    session, store = ingested(name)
    s = summarize(store.readings(session.id), 190)
    d = insights(session, s, profile(190)).as_dict()
    assert resting[0] <= d["resting_bpm"] <= resting[1]  # type: ignore[operator]
    assert max_bpm[0] <= d["max_bpm"] <= max_bpm[1]  # type: ignore[operator]
    assert d["max_bpm"] == session.stats.max  # the same measured readings as the ingest's stats
    assert abs(d["mean_bpm"] - session.stats.mean) < 0.05  # type: ignore[operator]
    zoned = sum(zone_seconds(d))
    assert 0 < zoned <= d["covered_seconds"] <= d["recorded_seconds"]  # type: ignore[operator]
    assert s.readings == session.readings


def test_a_real_day_has_a_low_resting_rate_and_is_a_good_recording() -> None:
    session, store = ingested("fitbit_google_takeout_heart_rate_2024-03-31.csv")
    d = insights(session, summarize(store.readings(session.id), 190), profile(190)).as_dict()
    assert d["recorded_seconds"] == pytest.approx(86387, abs=30)  # type: ignore[arg-type]
    q = d["quality"]
    assert (q["verdict"], q["gaps"], q["longest_gap_seconds"]) == ("fair", 1, 5167.0)  # type: ignore[index]
    assert q["sentence"].startswith("fair: 0.3 % filled, 1 long gap (longest 1 h 26 min)")  # type: ignore[index]
    assert d["resting_bpm"] == 49.9 and d["episodes"] == []


def test_a_dip_under_a_minute_does_not_split_an_episode_a_minute_does() -> None:
    d = figures(series((130, 300), (100, 59), (130, 400)))
    assert [(e["start_ts"], e["seconds"]) for e in d["episodes"]] == [(T0, 759.0)]  # type: ignore[attr-defined]
    d = figures(series((130, 300), (100, 60), (130, 400)))
    assert d["episodes"] == []  # 5 min and 6 min 40 s: neither lasts 10 min


def test_the_batch_path_equals_the_reading_path_and_json_round_trips() -> None:
    import random
    from dataclasses import asdict

    from hrviz.core.insights import SummaryBuilder
    from hrviz.core.insights.batch import fold_batch
    from hrviz.core.insights.stored import from_json, to_json
    from hrviz.core.model import ReadingBatch

    rng = random.Random(7)
    readings, bpm, t = [], 70.0, T0
    for i in range(40_000):
        bpm = min(200.0, max(30.0, bpm + rng.choice((-2, -1, 0, 1, 2))))
        t += 3600 if i == 20_000 else (1.0 if rng.random() > 0.01 else 2.0)
        filled = rng.random() < 0.003
        kinds = ("spike",) if rng.random() < 0.002 else ("out_of_range",) if rng.random() < 0.001 else ()
        readings.append(Reading(i, t, bpm, filled, kinds))
    one = SummaryBuilder(190)
    one.add(readings)
    batched = SummaryBuilder(190)
    for start in range(0, len(readings), 4999):
        fold_batch(batched, ReadingBatch.of(readings[start : start + 4999]))
    a, b = one.finish(), batched.finish()
    assert asdict(a) == asdict(b) and a.gaps and a.minutes
    back = from_json(to_json(a, 190.0))
    assert back is not None and asdict(back[0]) == asdict(a) and back[1] == 190.0


def test_ingest_stores_the_summary_with_the_session() -> None:
    from hrviz.core.insights.stored import from_json

    store = MemoryStore()
    csv = "time,bpm\n" + "".join(f"2024-01-01T10:{m:02d}:{s:02d}Z,{130}\n" for m in range(12) for s in range(60))
    import io

    (session,) = ingest(io.BytesIO(csv.encode()), "run.csv", store)
    row = store.sessions[session.id].summary
    assert row is not None and row.day == "2024-01-01" and row.bins == {130: 720.0}
    assert row.resting_bpm == 130.0 and row.max_bpm == 130.0 and row.recorded_s == 720.0
    found = from_json(row.summary_json)
    assert found is not None and [e.seconds for e in found[0].episodes] == [720.0]


def test_summaries_are_found_through_a_queues_staging_wrapper() -> None:
    from hrviz.core.insights.stored import summaries_of
    from hrviz.core.staging import StagingStore
    from tests.unit.fakes import RecordingQueue

    class Keeping(MemoryStore):
        def summary(self, session_id: str) -> str | None:
            return None

        def save_summary(self, row: object) -> None:
            pass

        def trends(self, edges: object, since_day: object = None) -> list[object]:
            return []

    plain, keeping = MemoryStore(), Keeping()
    assert summaries_of(plain) is None
    assert summaries_of(keeping) is keeping
    assert summaries_of(StagingStore(keeping, RecordingQueue())) is keeping


def test_the_html_report_says_the_time_below_zone_1() -> None:
    from hrviz.core.insights.html import render

    p = profile(200)
    ins = insights(Session("s1", "test.csv", None, "fp"), summarize(series((60, 600), (130, 600)), p.max_hr), p)
    page = render([ins], "2026-11-30")
    assert "Below zone 1 (under 100 bpm, in no zone): 10 min</p>" in page


def test_backfill_summarises_each_session_once_even_when_live_ones_lose_theirs_again() -> None:
    """serve's trends backfill: a live session's next small transaction drops the summary just
    stored, so looping until no session is left unsummarised never ended with 500 live sessions."""
    import io

    from hrviz.core.insights.report import backfill

    store = MemoryStore()
    ids = []
    for k in range(7):
        csv = "time,bpm\n" + "".join(f"2024-01-0{1 + k % 3}T1{k}:00:{s:02d}Z,{70 + s % 5}\n" for s in range(30))
        (session,) = ingest(io.BytesIO(csv.encode()), f"run-{k}.csv", store)
        ids.append(session.id)
    assert len(set(ids)) == 7
    live = set(ids[::2])  # 4 of the 7 being recorded: whatever is stored for them is dropped again

    class Summaries:
        def __init__(self) -> None:
            self.saved: dict[str, object] = {}
            self.saves: list[str] = []

        def unsummarised(self, limit: int = 1000) -> list[str]:
            return sorted(sid for sid in ids if sid not in self.saved)[:limit]

        def save_summary(self, row: Any) -> None:
            self.saves.append(row.session_id)
            if row.session_id not in live:
                self.saved[row.session_id] = row

    summaries = Summaries()
    assert backfill(store, summaries, 190.0, page=2) == 7  # type: ignore[arg-type]
    assert sorted(summaries.saves) == sorted(ids)  # each once, paged 2 at a time
    assert sorted(summaries.saved) == sorted(set(ids) - live)


def test_quality_names_a_stuck_sensor_and_impossible_values_apart() -> None:
    readings = series((70, 7200))
    flat = Anomaly(Kind.FLATLINE, T0 + 60, T0 + 140, 70, None, None)
    high = Anomaly(Kind.OUT_OF_RANGE, T0 + 600, T0 + 601, 240, None, None)
    session = Session("s1", "x", None, "fp", anomalies=[flat])
    d = insights(session, summarize(readings, 190), profile(190)).as_dict()
    assert d["quality"]["sentence"] == "good: 0.0 % filled, no gaps, 1 stuck-sensor stretch"  # type: ignore[index]
    session = Session("s2", "x", None, "fp", anomalies=[flat, high])  # 1 an hour, together: still good
    d = insights(session, summarize(readings, 190), profile(190)).as_dict()
    assert d["quality"]["sentence"] == (  # type: ignore[index]
        "good: 0.0 % filled, no gaps, 1 stretch of impossible values, 1 stuck-sensor stretch"
    )
    session = Session("s3", "x", None, "fp", anomalies=[high, flat, flat])  # 1.5 an hour: too many for good
    d = insights(session, summarize(readings, 190), profile(190)).as_dict()
    assert d["quality"]["sentence"] == (  # type: ignore[index]
        "fair: 0.0 % filled, no gaps, 1 stretch of impossible values, 2 stuck-sensor stretches"
    )


def test_a_rare_kind_is_not_rounded_to_zero_an_hour() -> None:
    readings = series((70, 2000), step=60.0)  # 33 h 20 min, one reading a minute
    rare = Anomaly(Kind.DROP, T0 + 600, T0 + 660, 30, 70, -40)
    d = insights(Session("s1", "x", None, "fp", anomalies=[rare]), summarize(readings, 190), profile(190)).as_dict()
    assert d["quality"]["anomalies_per_hour"] == {"drop": 0.03}  # type: ignore[index]
    long = series((70, 30000), step=60.0)  # 500 h: 1 drop is 0.002 an hour, which 2 decimals made 0
    d = insights(Session("s2", "x", None, "fp", anomalies=[rare]), summarize(long, 190), profile(190)).as_dict()
    assert d["quality"]["anomalies_per_hour"] == {"drop": 0.002}  # type: ignore[index]


def test_one_hourly_reading_is_not_a_sustained_episode_two_are() -> None:
    """Hourly data (an Apple Health export): a reading stands for the hour to the next, but one reading above 120
    is one measurement, not ten sustained minutes; two in a row are."""
    one = figures(series((70, 5), (133, 1), (70, 5), step=3600.0))
    assert one["episodes"] == []
    two = figures(series((70, 5), (133, 1), (126, 1), (70, 5), step=3600.0))
    assert [(e["kind"], e["seconds"], e["peak_bpm"]) for e in two["episodes"]] == [("high", 7200.0, 133.0)]  # type: ignore[attr-defined]


def test_the_batch_fold_counts_an_episodes_readings_as_the_reading_loop_does() -> None:
    from hrviz.core.insights.batch import fold_batch
    from hrviz.core.insights.summary import SummaryBuilder
    from hrviz.core.model import ReadingBatch

    readings = series((70, 399), (130, 701), (70, 300))  # the run starts at a batch's end, goes on in whole batches
    by_reading = SummaryBuilder(200.0)
    by_reading.add(readings)
    by_batch = SummaryBuilder(200.0)
    by_batch.add(readings[:300])
    cuts = [300, 400, 401, *range(501, len(readings), 100), len(readings)]  # a batch of one opens the run
    for a, b in zip(cuts, cuts[1:], strict=False):
        batch = ReadingBatch(a)
        for r in readings[a:b]:
            batch.append(r)
        fold_batch(by_batch, batch)
    expected = [("high", T0 + 399, T0 + 1100, 130.0)]
    assert [(e.kind, e.start, e.end, e.peak_bpm) for e in by_reading.finish().episodes] == expected
    assert [(e.kind, e.start, e.end, e.peak_bpm) for e in by_batch.finish().episodes] == expected


def test_the_batch_fold_of_an_infinite_value_without_a_maximum_equals_the_reading_loop() -> None:
    """Without a maximum there are no efforts: the batch loop once took inf for 'no effort threshold' and an
    infinite reading for an effort (AssertionError); the reading loop never tracks one."""
    from dataclasses import asdict

    from hrviz.core.insights.batch import fold_batch
    from hrviz.core.insights.summary import SummaryBuilder
    from hrviz.core.model import ReadingBatch

    readings = series((70, 300), (float("inf"), 1), (70, 10))
    by_reading, by_batch = SummaryBuilder(None), SummaryBuilder(None)
    by_reading.add(readings)
    by_batch.add(readings[:300])
    fold_batch(by_batch, ReadingBatch.of(readings[300:]))
    assert asdict(by_batch.finish()) == asdict(by_reading.finish())


def _resting_reference(minutes: list[Minute]) -> float | None:
    """resting_bpm as first written (a list of the last five minutes), to hold the faster one to."""
    good = [m for m in minutes if m.seconds >= 30.0]
    best: float | None = None
    run: list[Minute] = []
    for m in good:
        if run and m.start - run[-1].start != 60:
            run = []
        run.append(m)
        if len(run) > 5:
            run.pop(0)
        if len(run) == 5:
            mean = sum(x.total for x in run) / sum(x.count for x in run)
            best = mean if best is None else min(best, mean)
    if best is None and good:
        best = min(m.mean for m in good)
    return None if best is None else round(best, 1)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([60.0, 60.0, 60.0, 120.0, 59.5, 0.0, 3600.0]),
            st.integers(1, 60),
            st.sampled_from([29.9, 30.0, 45.0, 60.0]),
            st.floats(20.0, 240.0),
        ),
        max_size=40,
    )
)
def test_the_resting_rate_is_the_lowest_five_minute_mean_as_first_written(
    parts: list[tuple[float, int, float, float]],
) -> None:
    minutes, start = [], T0 - T0 % 60
    for step, count, seconds, mean in parts:
        start += step
        minutes.append(Minute(start, count, seconds, mean * count + 0.1, mean - 5, mean + 5))
    assert repr(resting_bpm(minutes)) == repr(_resting_reference(minutes))


def _close_enough(a: object, b: object) -> bool:
    """Equal, floats up to the rounding of a different order of additions."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close_enough(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close_enough(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=120, deadline=None)
@given(
    segments=st.lists(
        st.tuples(
            st.sampled_from([1.0, 1.0, 1.0, 5.0, 2.0, 30.0, 61.0, 150.0, 3600.0]),
            st.integers(25, 230),
            st.integers(1, 500),
            st.sampled_from([0, 0, 1, -1, 3]),
        ),
        min_size=1,
        max_size=8,
    ),
    marks=st.lists(st.integers(0, 10_000), max_size=15),
    size=st.sampled_from([1, 7, 100, 997, 5000]),
    max_hr=st.sampled_from([None, 190.0, 150.0]),
    fractional=st.booleans(),
)
def test_the_batch_path_equals_the_reading_path_for_any_recording(
    segments: list[tuple[float, int, int, int]], marks: list[int], size: int, max_hr: float | None, fractional: bool
) -> None:
    """fold_batch (the C kernels when built, the Python twins under HRVIZ_PURE_PYTHON=1) against
    SummaryBuilder.add: runs through every threshold, gaps, filled and out-of-range readings, batches
    of any size. Whole seconds and values add up exactly, so the two are equal; fractions may round
    differently (the batch path sums a stretch, then adds it)."""
    from dataclasses import asdict

    from hrviz.core.insights import SummaryBuilder
    from hrviz.core.insights.batch import fold_batch
    from hrviz.core.model import ReadingBatch

    steps, values = [1.0] * 260, [70.0] * 260
    for step, value, count, drift in segments:
        steps += [step * (1.1 if fractional else 1.0)] * count
        values += [value + drift * (i % 40) + (0.25 if fractional else 0.0) for i in range(count)]
    readings, t = [], T0
    for i, (gap, bpm) in enumerate(zip(steps, values, strict=True)):
        t += gap
        m = next((m for m in marks if m % len(steps) == i), None)
        mark = () if m is None else ((m % 3 == 0, ("spike",) if m % 3 == 1 else ("out_of_range",)))
        readings.append(Reading(i, t, bpm, *mark))
    one = SummaryBuilder(max_hr)
    one.add(readings)
    batched = SummaryBuilder(max_hr)
    batched.add(readings[:260])  # the first 257 set the typical interval, one by one either way
    for start in range(260, len(readings), size):
        fold_batch(batched, ReadingBatch.of(readings[start : start + size]))
    a, b = asdict(one.finish()), asdict(batched.finish())
    if fractional:
        assert _close_enough(a, b)
    else:
        assert a == b


@pytest.mark.parametrize(("hard", "recoveries"), [(59, 0), (60, 1)])
def test_an_effort_of_exactly_a_minute_counts_in_the_batch_path_too(hard: int, recoveries: int) -> None:
    from hrviz.core.insights import SummaryBuilder
    from hrviz.core.insights.batch import fold_batch
    from hrviz.core.model import ReadingBatch

    readings = series((70, 300), (160, hard), (100, 120))  # 0.8 x 190 = 152: 160 is hard work
    one, batched = SummaryBuilder(190.0), SummaryBuilder(190.0)
    one.add(readings)
    batched.add(readings[:280])  # past the first 257 readings, which the builder reads one by one
    for start in range(280, len(readings), 100):
        fold_batch(batched, ReadingBatch.of(readings[start : start + 100]))
    for b in (one, batched):
        assert [(r.end_bpm, r.after_bpm) for r in b.finish().recoveries] == [(160.0, 100.0)] * recoveries
