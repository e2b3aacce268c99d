"""``hrviz sessions``: list, show, delete and export what is stored (SQLite or MySQL)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from hrviz.commands.common import ConfigOpt, DbOpt, ExitStatus, MysqlOpt, fail, friendly_errors, parse_when
from hrviz.commands.report import AgeOpt, MaxHrOpt, resolve_profile
from hrviz.core.errors import InputError
from hrviz.core.insights.stored import summaries_of
from hrviz.core.model import format_ts
from hrviz.core.ports import Listed, SessionStore
from hrviz.wiring import load_settings, open_store

app = typer.Typer(
    help="List, show, delete and export stored sessions (no subcommand: list them).",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, nothing else.", show_default="off")]
PAGE = 100


def _store(db: Path | None, mysql: str | None, config: Path | None) -> SessionStore:
    return open_store(load_settings(db=db, mysql=mysql, config=config))[0]


def listed(store: SessionStore, since: float | None, source: str, limit: int) -> Iterator[Listed]:
    """Newest upload first, filtered; pages of the store's listing until ``limit`` are found."""
    offset, found = 0, 0
    while found < limit:
        page = store.browse(offset, PAGE, source, "uploaded")
        for item in page.items:
            start = item.session.start
            if since is None or (start is not None and start >= since):
                yield item
                found += 1
                if found >= limit:
                    return
        offset += PAGE
        if offset >= page.total or not page.items:
            return


def listed_dict(item: Listed) -> dict[str, object]:
    s = item.session
    return {
        "id": s.id,
        "source": s.source,
        "subject": s.subject,
        "start": s.iso(s.start),
        "end": s.iso(s.end),
        "span_seconds": None if s.start is None or s.end is None else s.end - s.start,
        "readings": s.readings,
        "filled": s.filled,
        "anomalies": item.anomalies,
        "created": format_ts(item.uploaded_at, 0),
    }


@app.callback(invoke_without_command=True)
def list_sessions(
    ctx: typer.Context,
    json_out: JsonOpt = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only sessions recorded from this date or time on.", show_default="none: all"),
    ] = None,
    source: Annotated[
        str,
        typer.Option("--source", help="Only sessions whose file name or subject contains this.", show_default="any"),
    ] = "",
    limit: Annotated[int, typer.Option("--limit", help="At most this many sessions.")] = 50,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Stored sessions, newest first: id, file, start, span, readings, anomalies, created."""
    if ctx.invoked_subcommand is not None:
        return
    with friendly_errors():
        after = parse_when(since, "--since")
        store = _store(db, mysql, config)
        try:
            items = [listed_dict(i) for i in listed(store, after, source, max(1, limit))]
        finally:
            store.close()
    if json_out:
        print(json.dumps({"sessions": items}, ensure_ascii=False))
        return
    from hrviz.adapters.console.listing import print_listing

    print_listing(items)


@app.command("show")
def show(
    session_id: Annotated[str, typer.Argument(help="The session's id (hrviz sessions).", show_default=False)],
    json_out: JsonOpt = False,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """One session's summary and events (hrviz report for its insights)."""
    with friendly_errors():
        store = _store(db, mysql, config)
        try:
            session = store.get(session_id)
        finally:
            store.close()
        if session is None:
            raise InputError(session_id, "no such session (hrviz sessions lists them)")
    if json_out:
        print(json.dumps(session.as_dict(), ensure_ascii=False))
        return
    from hrviz.adapters.console.report import print_sessions

    print_sessions([session])


@app.command("delete")
def delete(
    session_ids: Annotated[list[str], typer.Argument(help="Ids of the sessions to delete.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.", show_default="off: ask")] = False,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete sessions: readings, events and the session, in one transaction each.

    Records already published to Kafka stay until the topic's retention removes them; nothing
    lists or replays them any more.
    """
    with friendly_errors():
        store = _store(db, mysql, config)
        try:
            sessions = []
            for sid in session_ids:
                found = store.get(sid)
                if found is None:
                    raise InputError(sid, "no such session (hrviz sessions lists them); nothing was deleted")
                sessions.append(found)
            if not yes:
                names = ", ".join(f"{s.id} ({s.source})" for s in sessions)
                if not sys.stdin.isatty():
                    fail(f"would delete {names}: add --yes to confirm without a terminal", ExitStatus.INPUT)
                whose = "all their" if len(sessions) > 1 else "all its"
                if not typer.confirm(f"Delete {names} and {whose} readings?", default=False):
                    print("nothing deleted", file=sys.stderr)
                    raise typer.Exit(ExitStatus.OK)
            for s in sessions:
                store.delete(s.id)
                print(f"deleted {s.id} ({s.readings:,} readings)", file=sys.stderr)
        finally:
            store.close()


@app.command("export")
def export(
    session_id: Annotated[str, typer.Argument(help="The session's id.", show_default=False)],
    fmt: Annotated[
        str, typer.Option("--format", help="csv or json (parquet: not written, see docs/insights.md).")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.", show_default="stdout")
    ] = None,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Readings (filled flag, anomaly kinds) and events, for pandas, DuckDB or a spreadsheet."""
    from hrviz.core.export import FORMATS, csv_lines, json_chunks

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}", ExitStatus.INPUT)
    if fmt == "parquet":  # listed so that asking for it gets a reason, not "unknown format"
        fail(
            "--format parquet is not written: it would need pyarrow, which hrviz does not depend on; "
            "export csv and read it with pandas or DuckDB",
            ExitStatus.INPUT,
        )
    with friendly_errors():
        store = _store(db, mysql, config)
        try:
            session = store.get(session_id)
            if session is None:
                raise InputError(session_id, "no such session (hrviz sessions lists them)")
            readings = store.readings(session_id)
            chunks = csv_lines(session, readings) if fmt == "csv" else json_chunks(session, readings)
            if output is None:
                try:
                    for chunk in chunks:
                        sys.stdout.write(chunk)
                    sys.stdout.flush()
                except BrokenPipeError:  # `| head`: the reader has what it wanted
                    import os

                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            else:
                with output.open("w", encoding="utf-8", newline="") as f:
                    for chunk in chunks:
                        f.write(chunk)
        finally:
            store.close()


@app.command("trends")
def trends(
    json_out: JsonOpt = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only days from this date on (2024-01-31).", show_default="all")
    ] = None,
    max_hr: MaxHrOpt = None,
    age: AgeOpt = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Draw resting and max per day (plotext).")] = True,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Per day across sessions: resting, max, minutes per zone (% of max HR), anomaly rate.

    SQL over the summaries stored at ingest; sessions stored before them are summarised first.
    """
    from hrviz.core.insights import backfill
    from hrviz.core.insights.zones import bounds

    with friendly_errors():
        settings = load_settings(db=db, mysql=mysql, config=config)
        p = resolve_profile(settings, max_hr, age, "max")
        day = None if since is None else _day(since)
        store, _ = open_store(settings)
        try:
            summaries = summaries_of(store)
            if summaries is None:
                fail("this store keeps no summaries", ExitStatus.ERROR)
            added = backfill(store, summaries, p.max_hr)
            if added:
                print(f"summarised {added} session(s) stored before summaries existed", file=sys.stderr)
            edges = tuple(low for low, _ in bounds(p, None))
            days = summaries.trends(edges, day)
        finally:
            store.close()
    if json_out:
        payload = {"max_hr": {"bpm": p.max_hr, "source": p.source, "estimate": p.estimated}}
        print(json.dumps(payload | {"days": [d.as_dict() for d in days]}, ensure_ascii=False))
        return
    from hrviz.adapters.console.trends import print_trends

    print_trends(days, p, chart=chart)


def _day(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text.strip()[:10]).isoformat()
    except ValueError:
        fail(f"--since {text!r}: not a date (use 2024-01-31)", ExitStatus.INPUT)
