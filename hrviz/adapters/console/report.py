"""The rich summary and progress bar of ``hrviz ingest`` (stderr for progress, stdout for the report)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hrviz.core.explain import bpm, duration, ignored_rows, most_significant, sentence, severity
from hrviz.core.ingest import PublishReport
from hrviz.core.model import Session

if TYPE_CHECKING:  # rich is imported when something is drawn: `--json` runs never pay for it
    from rich.console import Console

FIRST_EVENTS = 5
PROGRESS_FROM_BYTES = 2_000_000  # small files finish before a bar would be worth drawing


@contextmanager
def progress_for(path: Path, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on a terminal for large files; nothing otherwise."""
    size = path.stat().st_size
    if quiet or not sys.stderr.isatty() or size < PROGRESS_FROM_BYTES:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"reading {path.name}", total=size)
        yield lambda done: progress.update(task, completed=done)


def print_sessions(sessions: list[Session], console: Console | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not console.is_terminal:  # logs and pipes: never cut a timestamp short
        console.width = max(console.width, 140)
    for s in sessions:
        title = f"[bold]{s.source}[/]" + (f"  subject [cyan]{s.subject}[/]" if s.subject else "")
        status = "[yellow]already stored[/]" if s.existing else "[green]stored[/]"
        console.print(f"{title}  session [bold]{s.id}[/]  {status}", highlight=False)
        for warning in s.warnings:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False, markup=True)
        stats = s.stats.as_dict()
        facts = Table.grid(padding=(0, 2))  # the counts and rates; the times on a line of their own,
        facts.add_row(  # where an 80-column terminal cannot cut them to 2019-10-16T12:09:0…
            "rows read", f"{s.rows:,}", "readings", f"{s.readings:,}",
            "filled", f"{s.filled:,}", "duplicates", f"{s.duplicates:,}",
        )  # fmt: skip
        facts.add_row("min", _num(stats["min"]), "mean", _num(stats["mean"]), "max", _num(stats["max"]), "", "")
        console.print(facts)
        console.print(_span(s), highlight=False)
        if s.skipped:
            lines = ", ".join(str(n) for n in s.skipped_lines) + (", …" if s.skipped > len(s.skipped_lines) else "")
            console.print(
                f"[yellow]skipped {s.skipped:,} row(s) with an unusable time[/] (line {lines}; see docs/formats.md)",
                highlight=False,
            )
        for line in ignored_rows(s.ignored):
            console.print(f"[yellow]{line}[/]", highlight=False)
        counts = Counter(str(a.kind) for a in s.anomalies)
        if not counts:
            console.print("no anomalies\n")
            continue
        console.print("anomalies: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())), highlight=False)
        table = Table("severity", "at", "kind", "what happened", box=None, pad_edge=False)
        for a in most_significant(s.anomalies)[:FIRST_EVENTS]:
            table.add_row(f"{severity(a):.2f}", s.iso(a.start), str(a.kind), sentence(a))
        console.print(table)
        if len(s.anomalies) > FIRST_EVENTS:
            console.print(f"… and {len(s.anomalies) - FIRST_EVENTS} more, less severe (--json lists them all)")
        console.print()


def print_publish_problem(report: PublishReport) -> None:
    waiting = ", ".join(f"{b.session_id} ({b.published_upto + 1}/{b.readings})" for b in report.pending)
    print(
        f"hrviz: error: stored, but the queue did not take every reading: {report.failed}\n"
        f"hrviz: sessions waiting to be published: {waiting or 'none'}; "
        "run `hrviz ingest --resume` (or `hrviz serve`) when the queue is back.",
        file=sys.stderr,
    )


def _span(s: Session) -> str:
    """``from … to …``; a file without dates is read from 1970-01-01 (docs/formats.md), which is no
    date of the recording: its times of day and its length instead, as the page says it."""
    first, last = s.iso(s.start), s.iso(s.end)
    if first and last and s.start is not None and s.end is not None and first.startswith("1970-01-01T"):
        return f"no date in the file: {first[11:]} to {last[11:]} ({duration(s.end - s.start)})"
    return f"from  {first or '-'}  to  {last or '-'}"


def _num(value: object) -> str:
    """A heart rate as the events write it: up to two decimals (``73.44``, not ``73.4366``)."""
    if value is None:
        return "-"
    return bpm(value) if isinstance(value, float) else str(value)
