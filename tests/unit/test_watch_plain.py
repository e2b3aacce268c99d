"""The pure parts of ``hrviz watch``: plain-line format, view rules, pacing, keys, chart sizing."""

from __future__ import annotations

import io

import plotext as plt
import pytest

from hrviz.adapters.watch.chart import WatchScreen, big_number, build_chart, tick_step, y_range
from hrviz.adapters.watch.feed import ReplayFeed
from hrviz.adapters.watch.live import handle_key
from hrviz.adapters.watch.plain import flags, format_line, format_summary, run_plain
from hrviz.adapters.watch.view import WatchView, split_segments
from hrviz.core.model import Anomaly, Kind, Reading

T0 = 1_773_469_800.0  # 2026-03-14T06:30:00Z = 07:30:00+01:00
TZ = 60


def r(seq: int, bpm: float, filled: bool = False, kinds: tuple[str, ...] = (), dt: float | None = None) -> Reading:
    return Reading(seq, T0 + (seq if dt is None else dt), bpm, filled, kinds)


SPIKE = Anomaly(Kind.SPIKE, T0 + 2, T0 + 3, 105.0, 62.0, 43.0)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- line format --------------------------------------------------------------------------------


def test_line_shows_time_in_file_offset_bpm_and_dash_for_no_flags() -> None:
    assert format_line(r(0, 61), [], TZ) == "2026-03-14T07:30:00+01:00  61  -"


def test_line_flags_filled_and_kinds_and_appends_each_event() -> None:
    line = format_line(r(2, 105, kinds=("spike",)), [SPIKE], TZ)
    assert line == (
        "2026-03-14T07:30:02+01:00  105  spike  ! spike 07:30:02 "
        "Rose 43 bpm from a 62 bpm baseline to 105 bpm for 1 s, then came back"
    )
    assert flags(r(1, 92, filled=True, kinds=("missing",))) == "filled,missing"


def test_naive_file_times_stay_naive_and_fractional_bpm_is_kept() -> None:
    assert format_line(r(0, 61.5), [], None) == "2026-03-14T06:30:00  61.5  -"


def test_events_alone_at_the_end_use_the_event_start() -> None:
    assert format_line(None, [SPIKE], TZ).startswith("2026-03-14T07:30:02+01:00  -  -  ! spike")


def test_summary_counts_readings_stats_and_events() -> None:
    view = WatchView("t")
    for reading in (r(0, 60), r(1, 70), r(2, 92, filled=True), r(3, 255, kinds=("out_of_range",))):
        view.add(reading)
    view.add_events([SPIKE])
    assert format_summary(view) == "# end: 4 readings; min 60 mean 65 max 70; 1 events"


# -- view rules ---------------------------------------------------------------------------------


def test_window_drops_readings_older_than_the_window() -> None:
    view = WatchView("t", window=10)
    for i in range(30):
        view.add(r(i, 60))
    assert [p.seq for p in view.points] == list(range(19, 30))
    assert view.shown == 30


def test_events_are_shown_most_severe_first() -> None:
    view = WatchView("t")
    drop = Anomaly(Kind.DROP, T0 + 9, T0 + 10, 50.0, 62.0, -12.0)
    out = Anomaly(Kind.OUT_OF_RANGE, T0 + 11, T0 + 11, 250.0)
    view.add_events([SPIKE, drop, out])
    assert view.most_severe(2) == [out, SPIKE]


def test_a_gap_splits_the_line_but_filled_readings_and_a_sparse_rhythm_do_not() -> None:
    readings = [r(0, 60), r(1, 61), r(2, 61, filled=True), r(3, 62), r(4, 63, dt=90), r(5, 64, dt=91)]
    segments = split_segments(readings, {T0 + 90})
    assert [[x.seq for x in s.readings] for s in segments] == [[0, 1, 2, 3], [4, 5]]
    fitbit = [r(i, 60, dt=t) for i, t in enumerate([0, 5, 15, 30, 35, 45])]  # 5/10/15 s: one line
    assert len(split_segments(fitbit, set())) == 1


def test_the_line_breaks_at_the_gaps_the_detector_reported() -> None:
    view = WatchView("t", window=99.5)
    view.add(r(0, 60))
    view.add(r(1, 60))
    view.add_events([Anomaly(Kind.GAP, T0 + 1, T0 + 100)])
    view.add(r(2, 60, dt=100))
    assert [p.seq for p in view.points] == [1, 2]
    assert len(view.segments()) == 2


def test_the_summary_counts_every_event_even_past_the_kept_history() -> None:
    view = WatchView("t")
    view.add_events([SPIKE] * 283)
    assert len(view.events) == 200
    assert format_summary(view).endswith("; 283 events")


# -- pacing -------------------------------------------------------------------------------------


def test_plain_output_is_paced_one_line_per_second_at_1x_and_faster_at_speed() -> None:
    for speed, expected in ((1.0, 1.0), (5.0, 0.2)):
        fake = FakeTime()
        out = io.StringIO()
        feed = ReplayFeed(iter([r(i, 60 + i) for i in range(5)]), [SPIKE], speed=speed)
        run_plain(feed, WatchView("demo"), out, fake.clock, fake.sleep)
        lines = out.getvalue().splitlines()
        assert lines[0] == "# hrviz watch: demo"
        assert len(lines) == 1 + 5 + 1
        assert "! spike" in lines[3] and "! spike" not in "".join(lines[1:3] + lines[4:6])
        assert fake.now - 100.0 == pytest.approx(5 * expected, abs=0.01)  # 4 steps, then one to see the end
        assert sum(s > 0.01 for s in fake.sleeps) == 5


def test_no_pace_never_sleeps() -> None:
    fake = FakeTime()
    out = io.StringIO()
    run_plain(
        ReplayFeed(iter([r(i, 60) for i in range(5000)]), [], paced=False), WatchView("x"), out, fake.clock, fake.sleep
    )
    assert fake.sleeps == []
    assert len(out.getvalue().splitlines()) == 5002


def test_pause_holds_the_replay_and_resume_continues_where_it_stopped() -> None:
    feed = ReplayFeed(iter([r(i, 60) for i in range(10)]), [])
    assert len(feed.poll(0.0)) == 1
    assert len(feed.poll(1.0)) == 1
    feed.toggle_pause(1.5)
    assert feed.poll(5.0) == [] and feed.next_at(5.0) is None
    feed.toggle_pause(5.0)
    got = feed.poll(5.0) + feed.poll(5.9)
    assert [t.reading.seq for t in got if t.reading] == [2]


def test_keys_pause_change_speed_along_the_ladder_and_quit() -> None:
    feed = ReplayFeed(iter([r(i, 60) for i in range(10)]), [])
    view = WatchView("t")
    feed.poll(0.0)
    assert not handle_key("+", feed, view, 0.1) and view.speed == 2.0
    handle_key("+", feed, view, 0.2)
    handle_key("-", feed, view, 0.3)
    assert view.speed == 2.0
    handle_key(" ", feed, view, 0.4)
    assert view.paused and feed.paused
    assert handle_key("q", feed, view, 0.5)


# -- chart --------------------------------------------------------------------------------------


def test_chart_is_exactly_the_requested_size_with_markers_per_kind() -> None:
    view = WatchView("t", tz_offset_min=TZ)
    for i in range(60):
        kinds: tuple[str, ...] = ("spike",) if i == 30 else ()
        view.add(r(i, 105 if i == 30 else 62, filled=20 <= i < 25, kinds=kinds))
    text = plt.uncolorize(build_chart(view, 100, 25, T0))
    rows = text.rstrip("\n").split("\n")
    assert len(rows) == 25 and all(len(row) == 100 for row in rows)
    assert "▲" in text and "·" in text
    assert "07:30:00" in text and "07:31:00" in text


def test_screen_shows_current_bpm_stats_and_events(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    view = WatchView("demo.csv", tz_offset_min=TZ)
    for i in range(5):
        view.add(r(i, 60 + i))
    view.add_events([SPIKE])
    console = Console(width=100, height=30, record=True, file=io.StringIO(), color_system=None)
    console.print(WatchScreen(view))
    text = console.export_text()
    assert "07:30:04  64 bpm" in text
    assert "min 60  mean 62  max 64" in text
    assert "spike 07:30:02" in text
    rows = text.splitlines()
    for row in big_number("64"):
        assert any(line.startswith(row) for line in rows)


def test_helpers_pick_round_ranges() -> None:
    assert y_range([r(0, 61), r(1, 63)]) == (40.0, 80.0)
    assert y_range([r(0, 50), r(1, 180)]) == (40.0, 190.0)
    assert tick_step(120) == 30
    assert tick_step(600) == 120


def test_an_impossible_value_is_marked_on_the_edge_without_squashing_the_chart() -> None:
    view = WatchView("t", tz_offset_min=TZ)
    for i in range(30):
        view.add(r(i, 255, kinds=("out_of_range",)) if i == 15 else r(i, 62))
    text = plt.uncolorize(build_chart(view, 80, 20, T0))
    rows = text.rstrip("\n").split("\n")
    assert "✖" in rows[1], "the impossible value should sit on the top edge"
    labels = [row.split("┤")[0].strip() for row in rows if "┤" in row]
    assert max(int(x) for x in labels if x) < 100, f"the y axis was stretched: {labels}"


def test_decimation_keeps_each_buckets_extremes_in_time_order() -> None:
    from hrviz.adapters.watch.chart import decimate

    run = [r(i, bpm) for i, bpm in enumerate([60, 61, 150, 62, 60, 59, 20, 61])]
    kept = decimate(run, 4.0)  # two buckets of four readings
    assert [x.bpm for x in kept] == [60, 150, 20, 61]
    assert decimate(run, 0.5) == run
