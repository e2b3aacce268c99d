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
