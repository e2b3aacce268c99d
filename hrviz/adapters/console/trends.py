"""``hrviz sessions trends`` in a terminal: a table per day and a plotext chart of resting and max."""

from __future__ import annotations

from collections.abc import Sequence

from hrviz.core.explain import duration
from hrviz.core.insights import Profile
from hrviz.core.insights.stored import Day


def print_trends(days: Sequence[Day], p: Profile, chart: bool = True) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    if not days:
        console.print("No sessions stored (hrviz ingest FILE).")
        return
    estimate = ", an estimate" if p.estimated else ""
    table = Table(
        "day", "sessions", "recorded", "resting", "max",
        "z1 min", "z2 min", "z3 min", "z4 min", "z5 min", "anomalies/h",
        title=f"Per day; zones by % of max HR {p.max_hr:g} bpm ({p.source}{estimate})", box=None,
    )  # fmt: skip
    for d in days:
        table.add_row(
            d.day, str(d.sessions), duration(d.recorded_s),
            "–" if d.resting_bpm is None else f"{d.resting_bpm:g}", "–" if d.max_bpm is None else f"{d.max_bpm:g}",
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
