"""``hrviz watch``'s panel under the chart in an 80-column terminal: the big digits, the keys and
the stats stay whole (rich had squeezed the digits' column away and cut "space pause · +/- s…")."""

from __future__ import annotations

import io

from rich.console import Console

from hrviz.adapters.watch.chart import WatchScreen, big_number
from hrviz.adapters.watch.view import WatchView
from hrviz.core.model import Anomaly, Kind, Reading

T0 = 1_441_533_667.0  # 2015-09-06T10:01:07Z, read as the file's own clock
LONG = Anomaly(Kind.DROP, T0 + 20, T0 + 24, 101.0, 148.0, -47.0)  # "Fell 47 bpm from a 148 bpm baseline …"


def panel(width: int) -> list[str]:
    view = WatchView("polar_flow_running_2015-09-06.csv", tz_offset_min=0)
    for i in range(5):
        view.add(Reading(i, T0 + i, 150.25 + i, False, ()))
    view.add_events([LONG])
    console = Console(width=width, height=24, record=True, file=io.StringIO(), color_system=None)
    console.print(WatchScreen(view).panel(width))
    return console.export_text().splitlines()


def test_at_80_columns_the_digits_keys_and_stats_are_whole() -> None:
    rows = panel(80)
    assert len(rows) == 6 and all(len(row) <= 80 for row in rows)
    for digits, row in zip(big_number("154"), rows, strict=False):
        assert row.startswith(digits)
    text = "\n".join(rows)
    assert "min 150.25  max 154.25" in text and "mean 152.25" in text
    assert "space pause · q quit" in text and "+/- speed" in text
    assert "bpm  10:01:11" in text
    assert "drop 10:01:27 Fell 47 bpm" in text  # the events keep the rest of the row


def test_a_wide_terminal_keeps_one_line_each_and_the_whole_legend() -> None:
    text = "\n".join(panel(200))
    assert "min 150.25  mean 152.25  max 154.25" in text and "space pause · +/- speed · q quit" in text
    assert "✖ impossible  ▲ spike  ▼ drop  ■ flatline" in text
    assert "then came back" in text and "…" not in text


def test_a_recording_of_several_days_says_which_day() -> None:
    day2 = 1_585_401_638.0  # 2020-03-28T13:20:38 (welltory: 107 days of one subject)
    view = WatchView("welltory_covid19_heart_rate_2020-04-17.csv")
    view.add(Reading(0, day2, 77.0, False, ()))
    yesterday = Anomaly(Kind.GAP, day2 - 86_400, day2 - 80_000, None, 300.0, None)
    today = Anomaly(Kind.SPIKE, day2, day2 + 3, 197.0, 77.0, 120.0)
    view.add_events([yesterday, today])
    console = Console(width=200, height=40, record=True, file=io.StringIO(), color_system=None)
    screen = WatchScreen(view)
    console.print(screen.header())
    console.print(screen.panel(200))
    text = console.export_text()
    assert text.startswith("2020-03-28 13:20:38  77 bpm")
    assert "gap 03-27 13:20:38 No readings" in text  # another day: its date
    assert "spike 13:20:38 Rose" in text  # the day on screen: the time alone


def test_a_file_without_dates_shows_no_1970() -> None:
    view = WatchView("physionet_mit_hr.11839.txt")
    view.add(Reading(0, 5.0, 84.3, False, ()))
    console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
    console.print(WatchScreen(view).header())
    assert console.export_text().startswith("00:00:05  84.3 bpm")


def test_heart_rates_have_two_decimals_at_most_and_a_finished_replay_has_no_events_yet_to_come() -> None:
    view = WatchView("physionet_mit_hr.237.txt")  # ECG-derived: four decimals in the file
    for i, value in enumerate((52.9153, 77.4244, 56.5546)):
        view.add(Reading(i, float(i), value, False, ()))
    view.finished = True
    console = Console(width=80, height=24, record=True, file=io.StringIO(), color_system=None)
    screen = WatchScreen(view)
    console.print(screen.header())
    console.print(screen.panel(80))
    text = console.export_text()
    assert text.startswith("00:00:02  56.55 bpm")
    assert "min 52.92  max 77.42" in text and "52.9153" not in text
    assert "none yet" not in text and "none" in text
