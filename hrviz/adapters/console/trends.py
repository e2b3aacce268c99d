"""``hrviz sessions trends`` in a terminal: a table per day and a plotext chart of resting and max."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hrviz.core.explain import bpm, duration
from hrviz.core.insights import Profile
from hrviz.core.insights.stored import Day

if TYPE_CHECKING:
    from rich.console import Console


NARROW_BELOW = 110  # columns: under this the headers are abbreviated and explained in a caption


def print_trends(days: Sequence[Day], p: Profile, chart: bool = True, console: Console | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:
            console.width = max(console.width, 120)
    if not days:
        console.print("No sessions stored (hrviz ingest FILE).")
        return
    estimate = ", an estimate" if p.estimated else ""
    narrow = console.width < NARROW_BELOW  # 80 columns cut days and numbers ("2011-06-…", "118…"): shorter headers
    table = Table(
        title=f"Per day; zones by % of max HR {p.max_hr:g} bpm ({p.source}{estimate})",
        caption="z1–z5: minutes in each zone; anom/h: anomalies per recorded hour" if narrow else None,
        box=None, pad_edge=not narrow,
    )  # fmt: skip
    table.add_column("day", no_wrap=True, min_width=10)
    table.add_column("n" if narrow else "sessions", justify="right", overflow="fold")
    table.add_column("recorded", no_wrap=True)
    zones = [f"z{z}" if narrow else f"z{z} min" for z in range(1, 6)]
    for name in ("rest" if narrow else "resting", "max", *zones, "anom/h" if narrow else "anomalies/h"):
        table.add_column(name, justify="right", overflow="fold")
    for d in days:
        table.add_row(
            d.day, str(d.sessions), duration(d.recorded_s),
            "–" if d.resting_bpm is None else bpm(d.resting_bpm), "–" if d.max_bpm is None else bpm(d.max_bpm),
            *(f"{s / 60:.0f}" for s in d.zone_seconds), f"{d.anomalies_per_hour:g}",
        )  # fmt: skip
    console.print(table)
    if chart and len(days) > 1:
        console.print("resting (blue) and max (red) bpm per day")
        text = chart_text(days, min(console.width, 100), 16)
        if not console.is_terminal:  # a pipe or a log: no colour codes
            import plotext as plt

            text = plt.uncolorize(text)
        print(text)


def chart_text(days: Sequence[Day], width: int, height: int) -> str:
    """Resting and max per day as plotext text (days evenly spaced, dated on the x axis)."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)
    fig.theme("simple")
    fig.plot_size(width, height)
    values: list[float] = []
    for colour, series in (("blue", [d.resting_bpm for d in days]), ("red", [d.max_bpm for d in days])):
        points = [(float(x), v) for x, v in enumerate(series) if v is not None]
        if points:
            signal = fig.signal([x for x, _ in points], [v for _, v in points], marker=plt.marker("braille", colour))
            if len(points) > 1:
                signal.lines()
            fig.draw(signal)
            values += [v for _, v in points]
    if values:
        fig.ruler("y").lim(min(values) - 5, max(values) + 5)
    step = max(1, len(days) // 5)
    xs = list(range(0, len(days), step))
    fig.ruler("x").lim(0, len(days) - 1)
    fig.ruler("x").ticks([float(x) for x in xs], [days[x].day for x in xs])
    return str(fig.build().string())
