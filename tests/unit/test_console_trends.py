"""``hrviz sessions trends`` in an 80-column terminal: each day and its recorded time whole."""

from __future__ import annotations

import io

from rich.console import Console

from hrviz.adapters.console.trends import print_trends
from hrviz.core.insights import Profile
from hrviz.core.insights.stored import Day

DAYS = [  # as `sessions trends` found them for the shared real files
    Day("1970-01-01", 2, 58.1, 106.7563, 2750.0, 0, (600.0, 0.0, 0.0, 0.0, 0.0)),
    Day("2011-06-26", 1, 150.8, 191.0, 11781.0, 57, (0.0, 60.0, 540.0, 7320.0, 2700.0)),
    Day("2015-12-01", 1, 47.6, 183.0, 39254400.0, 937, (709020.0, 279120.0, 137820.0, 38640.0, 3060.0)),
]


def shown(width: int) -> str:
    out = io.StringIO()
    print_trends(DAYS, Profile(190, "default"), chart=False, console=Console(file=out, width=width))
    return out.getvalue()


def test_days_and_recorded_times_are_never_cut_or_broken_at_80_columns() -> None:
    text = shown(80)
    assert all(len(line) <= 80 for line in text.splitlines())
    for day in ("1970-01-01", "2011-06-26", "2015-12-01"):
        assert day in text
    assert "3 h 16 min" in text and "454 d 8 h" in text and "46 min" in text
    assert "106.76" in text and "106.7563" not in text  # a heart rate to two decimals, as elsewhere
    assert "…" not in text and "11817" in text and "150.8" in text  # no number cut
    assert "z1–z5: minutes in each zone" in text  # the short headers said


def test_a_wide_terminal_keeps_the_long_headers() -> None:
    text = shown(120)
    assert "sessions" in text and "z1 min" in text and "anomalies/h" in text and "minutes in each zone" not in text
