"""``hrviz report`` in a terminal: facts, zones as a bar chart, episodes, recoveries, quality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hrviz.core.explain import duration
from hrviz.core.insights import Insights
from hrviz.core.model import format_ts

if TYPE_CHECKING:
    from rich.console import Console

BAR = 40
ZONE_STYLES = ("sky_blue2", "green3", "yellow3", "dark_orange", "red3")
VERDICT_STYLES = {"good": "green", "fair": "yellow", "poor": "red"}


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def print_insights(items: Sequence[Insights], console: Console | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    for ins in items:
        s, q, p, tz = ins.summary, ins.quality, ins.profile, ins.session.tz_offset_min
        who = f"  subject [cyan]{ins.session.subject}[/]" if ins.session.subject else ""
        console.print(f"[bold]{ins.session.source}[/]{who}  session [bold]{ins.session.id}[/]", highlight=False)
        console.print(f"{format_ts(s.first_ts, tz) or '–'} to {format_ts(s.last_ts, tz) or '–'}", highlight=False)
        facts = Table.grid(padding=(0, 2))
        mean = None if s.mean_bpm is None else round(s.mean_bpm, 1)
        facts.add_row("resting", _num(ins.resting_bpm), "average", _num(mean), "max", _num(s.max_bpm))
        facts.add_row(
            "recorded", duration(s.recorded_s), "covered", f"{q.coverage_pct:g} %", "filled", f"{q.filled_pct:g} %"
        )
        console.print(facts)
        model = "% of heart-rate reserve (Karvonen)" if p.model == "hrr" else "% of max HR"
        estimate = ", an estimate" if p.estimated else ""
        console.print(
            f"\n[bold]Time in zones[/] by {model}, max {p.max_hr:g} bpm ({p.source}{estimate}); "
            "filled readings and gaps never count",
            highlight=False,
        )
        below = ins.below_zones_seconds
        most = max((z.seconds for z in ins.zones), default=0.0) or 1.0
        for z in reversed(ins.zones):
            bar = "█" * round(BAR * z.seconds / most)
            ceiling, style = "+" if z.zone == 5 else f"–{z.high_bpm:g}", ZONE_STYLES[z.zone - 1]
            console.print(
                f"  zone {z.zone} {z.low_bpm:>5g}{ceiling:<6} [{style}]{bar}[/] {duration(z.seconds)}",
                highlight=False,
            )
        if ins.zones:
            console.print(f"  below   <{ins.zones[0].low_bpm:<9g} [dim]{duration(below)} (no zone)[/]", highlight=False)
        if ins.episodes:
            console.print("\n[bold]Sustained episodes[/] (≥ 10 min above 120 or below 40 bpm)")
            for e in ins.episodes:
                console.print(
                    f"  {e.kind:<4} {format_ts(e.start, tz)} to {format_ts(e.end, tz)}  {duration(e.seconds)}, "
                    f"peak {e.peak_bpm:g} bpm",
                    highlight=False,
                )
        else:
            console.print("\nNo sustained episode (10 min above 120 or below 40 bpm).")
        if ins.recoveries:
            console.print("\n[bold]Recovery[/] (HRR60: the drop in the minute after a hard effort)")
            for r in ins.recoveries:
                console.print(
                    f"  {format_ts(r.effort_end, tz)}  {r.end_bpm:g} → {r.after_bpm:g} bpm: {r.drop_bpm:g} bpm",
                    highlight=False,
                )
        rates = ", ".join(f"{k} {v:g}/h" for k, v in q.per_hour.items()) or "no anomalies"
        style = VERDICT_STYLES[q.verdict]
        console.print(f"\n[bold]Data quality[/] [{style}]{q.sentence}[/]; {rates}\n", highlight=False)
