"""The ``hrviz watch`` screen: a plotext chart inside a rich renderable, sized at every frame.

The renderable reads the console size each time rich draws it, so a resized terminal gets a chart
that fits on the next frame. plotext's figure is global state: only this module touches it, from
the one UI thread.
"""

from __future__ import annotations

import math

import plotext as plt
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from hrviz.adapters.watch.view import Segment, WatchView, describe_event
from hrviz.core.explain import bpm as as_bpm
from hrviz.core.model import Kind, Reading, counts_in_stats

PANEL_ROWS = 6  # big bpm digits (5) + their label row; the events column shows 5
MIN_CHART = (30, 6)  # below this a chart is unreadable: say so instead
LINE = "green+"
FILLED = ("·", "gray")
# kind → (plotext marker, plotext colour, rich colour); the order is the drawing priority
MARKS: dict[str, tuple[str, str, str]] = {
    str(Kind.OUT_OF_RANGE): ("✖", "orange+", "bright_yellow"),
    str(Kind.SPIKE): ("▲", "red+", "bright_red"),
    str(Kind.DROP): ("▼", "magenta+", "bright_magenta"),
    str(Kind.FLATLINE): ("■", "cyan+", "bright_cyan"),
}
RICH_COLOURS = {k: v[2] for k, v in MARKS.items()} | {str(Kind.MISSING): "grey62", str(Kind.GAP): "blue"}
LEGEND_NAMES = {str(Kind.OUT_OF_RANGE): "impossible"}
KEYS_HELP = "space pause · +/- speed · q quit"
NARROW_PANEL = 100  # columns: under this the stats, keys and legend are stacked in NARROW_INFO columns
NARROW_INFO = 24
WIDE_INFO = 46  # the widest line: the markers' legend
BIG_WIDTH = 13  # "bpm  07:30:04" under three block digits

DIGITS = {
    "0": ("███", "█ █", "█ █", "█ █", "███"),
    "1": (" █ ", "██ ", " █ ", " █ ", "███"),
    "2": ("███", "  █", "███", "█  ", "███"),
    "3": ("███", "  █", " ██", "  █", "███"),
    "4": ("█ █", "█ █", "███", "  █", "  █"),
    "5": ("███", "█  ", "███", "  █", "███"),
    "6": ("███", "█  ", "███", "█ █", "███"),
    "7": ("███", "  █", "  █", " █ ", " █ "),
    "8": ("███", "█ █", "███", "█ █", "███"),
    "9": ("███", "█ █", "███", "  █", "███"),
    "-": ("   ", "   ", "███", "   ", "   "),
    ".": ("   ", "   ", "   ", "   ", " █ "),
}


def big_number(text: str) -> list[str]:
    """Five rows of block digits: the current bpm must read from across the room."""
    glyphs = [DIGITS.get(ch, DIGITS["-"]) for ch in text]
    return [" ".join(g[row] for g in glyphs) for row in range(5)]


def mark_of(reading: Reading) -> tuple[str, str] | None:
    """The marker for an anomalous reading (highest-priority kind), None for a plain one."""
    for kind, (marker, colour, _) in MARKS.items():
        if kind in reading.kinds:
            return marker, colour
    return None


def x_range(view: WatchView, first_ts: float) -> tuple[float, float]:
    """The visible window: fills from the left, then scrolls with the newest reading at the right."""
    current = view.current
    if current is None:
        return first_ts, first_ts + view.window
    left = max(first_ts, current.ts - view.window)
    return left, left + view.window


def y_range(readings: list[Reading]) -> tuple[float, float]:
    """Padded to round tens, at least 40 bpm tall so noise does not look like drama."""
    values = [r.bpm for r in readings if math.isfinite(r.bpm)]
    if not values:
        return 40.0, 120.0
    low = math.floor((min(values) - 5) / 10) * 10
    high = math.ceil((max(values) + 5) / 10) * 10
    if high - low < 40:
        mid = (high + low) / 2
        low, high = math.floor((mid - 20) / 10) * 10, math.ceil((mid + 20) / 10) * 10
    return float(low), float(high)


def tick_step(span: float) -> float:
    """A round tick spacing giving 3-6 labels across ``span`` seconds."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if span / step <= 6:
            return float(step)
    return 3600.0 * math.ceil(span / 6 / 3600)


def runs(segment: Segment) -> tuple[list[list[Reading]], list[Reading]]:
    """Measured runs (drawn as lines) and filled readings (dots, never a line).

    Impossible values break the line too: they are shown by their marker alone, so one 255 does
    not draw a wall across the chart.
    """
    lines: list[list[Reading]] = []
    filled: list[Reading] = []
    current: list[Reading] = []
    for r in segment.readings:
        if not counts_in_stats(r.filled, r.kinds):  # a line joins measured values only
            if r.filled:
                filled.append(r)
            if current:
                lines.append(current)
                current = []
        else:
            current.append(r)
    if current:
        lines.append(current)
    return lines, filled


def decimate(run: list[Reading], bucket: float) -> list[Reading]:
    """At most the lowest and highest reading per ``bucket`` seconds (about one braille dot).

    Drawing more points than the terminal has dots only costs time; keeping each bucket's
    extremes (in time order) keeps every spike and drop on screen.
    """
    if bucket <= 0 or len(run) <= 2:
        return run
    out: list[Reading] = []
    group: list[Reading] = []
    key = None
    for r in run:
        k = int(r.ts // bucket)
        if k != key and group:
            out.extend(_extremes(group))
            group = []
        key = k
        group.append(r)
    out.extend(_extremes(group))
    return out


def _extremes(group: list[Reading]) -> list[Reading]:
    if len(group) <= 2:
        return group
    low = min(group, key=lambda r: r.bpm)
    high = max(group, key=lambda r: r.bpm)
    return sorted({low.seq: low, high.seq: high}.values(), key=lambda r: r.seq)


def y_ticks(low: float, high: float) -> list[float]:
    """Round bpm ticks (whole numbers, 3-6 of them) so the axis reads 60, 80, 100 — not 62.5."""
    step = next((s for s in (5, 10, 20, 25, 50, 100) if (high - low) / s <= 6), 100)
    first = math.ceil(low / step) * step
    return [float(v) for v in range(int(first), int(high) + 1, step)]


def build_chart(view: WatchView, width: int, height: int, origin: float) -> str:
    """The chart as ANSI text, exactly ``width`` × ``height`` cells."""
    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)  # we size it ourselves, from rich's console
    fig.theme("simple")
    fig.plot_size(width, height)
    left, right = x_range(view, view.points[0].ts if view.points else origin)
    readings = [r for r in view.points if r.ts >= left]
    bucket = view.window / max(1, 2 * (width - 8))  # 2 braille dots per column, less the y labels
    for segment in view.segments():
        lines, filled = runs(segment)
        for run in (decimate(line, bucket) for line in lines):
            signal = fig.signal([r.ts - origin for r in run], [r.bpm for r in run], marker=plt.marker("braille", LINE))
            if len(run) > 1:
                signal.lines()
            fig.draw(signal)
        if filled:
            marker = plt.marker(FILLED[0], FILLED[1])
            fig.draw(fig.signal([r.ts - origin for r in filled], [r.bpm for r in filled], marker=marker))
    low, high = y_range([r for r in readings if str(Kind.OUT_OF_RANGE) not in r.kinds])
    marked: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for r in readings:
        mark = mark_of(r)
        if mark is not None:  # impossible values sit on the edge they went past
            xs, ys = marked.setdefault(mark, ([], []))
            xs.append(r.ts - origin)
            ys.append(min(max(r.bpm, low), high))
    for (symbol, colour), (xs, ys) in marked.items():  # one signal per kind: plotext cost is per signal
        fig.draw(fig.signal(xs, ys, marker=plt.marker(symbol, colour)))
    fig.ruler("y").lim(low, high)
    yt = y_ticks(low, high)
    fig.ruler("y").ticks(yt, [f"{v:g}" for v in yt])
    fig.ruler("x").lim(left - origin, right - origin)
    step = tick_step(right - left)
    first = math.ceil(left / step) * step
    ticks = [first + i * step for i in range(int((right - first) // step) + 1)]
    fig.ruler("x").ticks([t - origin for t in ticks], [view.clock(t) for t in ticks])
    return str(fig.build().string())


class WatchScreen:
    """Rich renderable of the whole screen: header, chart, then bpm / stats / events panel."""

    def __init__(self, view: WatchView) -> None:
        self.view = view
        self.origin: float | None = None  # x values are seconds from here: small numbers for plotext

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        height = options.height or console.size.height
        yield self.header()
        chart_rows = height - 1 - PANEL_ROWS
        if width < MIN_CHART[0] or chart_rows < MIN_CHART[1]:
            yield Text(f"terminal too small for the chart ({width}×{height}); enlarge it", style="yellow")
        else:
            if self.origin is None and self.view.points:
                self.origin = self.view.points[0].ts
            chart = build_chart(self.view, width, chart_rows, self.origin or 0.0)
            yield Text.from_ansi(chart.rstrip("\n"), no_wrap=True)
        yield self.panel(width)

    def header(self) -> Text:
        v = self.view
        current = v.current
        bpm = f"{as_bpm(current.bpm)} bpm" if current is not None else "-- bpm"
        if v.finished:
            state = "■ end of session (q to quit)"
        elif v.paused:
            state = "⏸ paused"
        else:
            state = f"▶ {v.speed:g}×"
        progress = f"{v.shown}/{v.total}" if v.total is not None else f"{v.shown}"
        text = Text(no_wrap=True, overflow="ellipsis")  # most important first: narrow terminals cut the end
        day = v.day(current.ts) if current else None  # which day, in a recording of several
        text.append(f"{day} " if day else "")
        text.append(f"{v.clock(current.ts if current else None)}  ")
        text.append(bpm, style="bold")
        text.append(f"   {state}   readings {progress}   ")
        if v.message:
            text.append(f"{v.message}   ", style="yellow")
        text.append(v.title, style="dim")
        return text

    def panel(self, width: int) -> Table:
        v = self.view
        current = v.current
        value = f"{current.bpm:.0f}" if current is not None else "--"
        big = Text("\n".join(big_number(value)), style=self.bpm_style(current))
        big.append(f"\nbpm  {v.clock(current.ts if current else None)}", style="dim")
        stats = v.stats.as_dict()

        def num(x: float | None) -> str:
            return "-" if x is None else as_bpm(x)  # two decimals at most: ECG-derived files have four

        narrow = width < NARROW_PANEL
        info = Text()
        if narrow:  # 80 columns: the same facts in a column of NARROW_INFO, so the digits and events keep room
            info.append(f"min {num(stats['min'])}  max {num(stats['max'])}\nmean {num(stats['mean'])}\n")
            info.append("space pause · q quit\n+/- speed\n", style="dim")
            for short, name in (("spike", Kind.SPIKE), ("drop", Kind.DROP), ("flat", Kind.FLATLINE)):
                marker, _, colour = MARKS[str(name)]
                info.append(f"{marker} {short} ", style=colour)
            info.append(f"\n{MARKS[str(Kind.OUT_OF_RANGE)][0]} impossible ", style=MARKS[str(Kind.OUT_OF_RANGE)][2])
            info.append("··· filled", style="grey62")
        else:
            info.append(f"min {num(stats['min'])}  mean {num(stats['mean'])}  max {num(stats['max'])}\n")
            info.append(f"{KEYS_HELP}\n", style="dim")
            info.append("⠤⠒ measured  ", style="bright_green")
            info.append("··· filled  ", style="grey62")
            info.append("blank = gap\n", style="dim")
            for kind, (marker, _, colour) in MARKS.items():
                info.append(f"{marker} {LEGEND_NAMES.get(kind, kind)}  ", style=colour)
        events = Text()
        events.append("events (most severe first)\n", style="bold")
        for event in v.most_severe(PANEL_ROWS - 1):
            line = describe_event(event, v.tz_offset_min, v.day(current.ts) if current else None)
            events.append(line + "\n", style=RICH_COLOURS.get(str(event.kind), ""))
        if not v.events:
            events.append("none" if v.finished else "none yet", style="dim")
        # every width fixed: left to rich, long event sentences squeezed the digits' column away at 80 columns
        info_width = NARROW_INFO if narrow else WIDE_INFO
        grid = Table.grid(padding=(0, 3))
        grid.add_column(no_wrap=True, width=BIG_WIDTH)
        grid.add_column(no_wrap=True, overflow="ellipsis", width=info_width)
        grid.add_column(no_wrap=True, overflow="ellipsis", width=max(1, width - BIG_WIDTH - info_width - 6))
        grid.add_row(big, info, events)
        return grid

    @staticmethod
    def bpm_style(current: Reading | None) -> str:
        if current is None:
            return "dim"
        mark = mark_of(current)
        if mark is not None:
            return "bold " + RICH_COLOURS[next(k for k in MARKS if k in current.kinds)]
        return "bold grey62" if current.filled else "bold bright_green"
