"""One subject's rows as read (core/reader/collect.py): what is counted besides the readings, and
putting stragglers (rows earlier than the latest seen) into place."""

from __future__ import annotations

from array import array

from hrviz.core.reader.collect import Collector, merge_into


def test_rows_left_out_are_counted_by_reason_and_reach_the_series() -> None:
    c = Collector("ann")
    for why in ("metric steps", "placeholder -1", "metric steps", "metric steps"):
        c.ignore(why)
    series = c.finish(None)
    assert series.ignored == {"metric steps": 3, "placeholder -1": 1}
    c.ignore("placeholder 0")
    assert series.ignored == {"metric steps": 3, "placeholder -1": 1}  # a copy: the series does not move


def test_skipped_rows_keep_the_first_five_line_numbers() -> None:
    c = Collector(None)
    for line in (4, 9, 10, 11, 30, 31, 40):
        c.skip(line)
    series = c.finish(None)
    assert (series.skipped, series.skipped_lines) == (7, (4, 9, 10, 11, 30))


def test_stragglers_go_into_place_and_the_first_row_of_a_time_wins() -> None:
    c = Collector("ann")
    c.ts.extend([10.0, 20.0, 30.0])
    c.bpm.extend([60.0, 62.0, 63.0])
    c.late_ts.extend([25.0, 20.0, 5.0, 25.0, 15.0])  # in file order: 20 is in the main run already
    c.late_bpm.extend([99.0, 98.0, 50.0, 97.0, 61.0])
    c.rows, c.last = 8, 30.0
    series = c.finish(60)
    assert list(series.ts) == [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    assert list(series.bpm) == [50.0, 60.0, 61.0, 62.0, 99.0, 63.0]
    assert (series.rows, series.duplicates, series.tz_offset_min) == (8, 2, 60)
    assert (len(c.late_ts), len(c.late_bpm)) == (0, 0)  # the side arrays are released


def test_merging_nothing_drops_nothing() -> None:
    ts, bpm = array("d", [1.0, 2.0]), array("d", [60.0, 61.0])
    assert merge_into(ts, bpm, array("d"), array("d")) == 0
    assert (list(ts), list(bpm)) == ([1.0, 2.0], [60.0, 61.0])


def test_merging_rows_some_already_there() -> None:
    ts, bpm = array("d", [1.0, 3.0, 5.0]), array("d", [60.0, 62.0, 64.0])
    assert merge_into(ts, bpm, array("d", [0.0, 3.0, 4.0, 6.0]), array("d", [59.0, 99.0, 63.0, 65.0])) == 1
    assert list(ts) == [0.0, 1.0, 3.0, 4.0, 5.0, 6.0]
    assert list(bpm) == [59.0, 60.0, 62.0, 63.0, 64.0, 65.0]
