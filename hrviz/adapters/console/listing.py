"""``hrviz sessions`` as a table that still works in an 80-column terminal.

An id is what a person copies into ``sessions delete`` or ``report``, so it is never cut; the
file is shown by its name (the folder it was read from ate the width and the name was cut), and
times to the minute. ``--json`` keeps every field whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from hrviz.core.explain import duration

if TYPE_CHECKING:
    from rich.console import Console

CREATED_FROM_WIDTH = 100  # under this the upload time is left out: the rest must fit in 80


def minute(iso: object) -> str:
    """``2019-10-16T12:09:00.511+02:00`` → ``2019-10-16 12:09`` (the file's own clock); a file
    without dates (read from 1970-01-01) → ``no date 00:00``."""
    if not iso:
        return "–"
    text = str(iso)
    return f"no date {text[11:16]}" if text.startswith("1970-01-01T") else text[:16].replace("T", " ")


def file_name(source: object) -> str:
    """The file's name without its folders; a path inside an archive keeps its member's name."""
    text = str(source)
    return PurePath(text).name or text


def print_listing(items: Sequence[Mapping[str, object]], console: Console | None = None) -> None:
    """``items`` as ``listed_dict`` makes them, newest first."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:  # a pipe or a log: nothing to fit
            console.width = max(console.width, 160)
    if not items:
        console.print("No sessions stored (hrviz ingest FILE).")
        return
    created = console.width >= CREATED_FROM_WIDTH
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=12)
    table.add_column("file", overflow="fold", ratio=1)
    for name in ("start", "span", "readings", "anomalies") + (("created (UTC)",) if created else ()):
        table.add_column(name, no_wrap=True, justify="right" if name in ("readings", "anomalies") else "left")
    for d in items:
        name = file_name(d["source"]) + (f" [{d['subject']}]" if d["subject"] else "")
        span = d["span_seconds"]
        row = [
            str(d["id"]), name, minute(d["start"]), "–" if span is None else duration(float(span)),  # type: ignore[arg-type]
            f"{d['readings']:,}", str(d["anomalies"]),
        ]  # fmt: skip
        if created:
            row.append(minute(d["created"]))
        table.add_row(*row)
    console.print(table, highlight=False)
