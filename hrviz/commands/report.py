"""``hrviz report [ID...]``: a stored session's insights in the terminal, as JSON or as one HTML file."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from hrviz.commands.common import ConfigOpt, DbOpt, ExitStatus, MysqlOpt, fail, friendly_errors
from hrviz.core.errors import InputError
from hrviz.core.insights import Insights, Profile, from_store, profile
from hrviz.core.insights.stored import summaries_of
from hrviz.core.ports import SessionStore
from hrviz.wiring import Settings, load_settings, open_store

MaxHrOpt = Annotated[
    float | None,
    typer.Option(
        "--max-hr", help="Your maximum heart rate (bpm), for the zones.", show_default="--age, [profile], else 190"
    ),
]
AgeOpt = Annotated[
    float | None,
    typer.Option("--age", help="Your age: max HR estimated as 220 − age.", show_default="the config's [profile]"),
]
ZonesOpt = Annotated[
    str,
    typer.Option("--zones", help="max: % of max HR; hrr: % of heart-rate reserve (Karvonen, measured resting rate)."),
]


def resolve_profile(settings: Settings, max_hr: float | None, age: float | None, zones: str) -> Profile:
    """--max-hr, else --age, else the config file's [profile], else 190 (said to be an assumption)."""
    if max_hr is not None and age is not None:
        fail("give --max-hr or --age, not both", ExitStatus.INPUT)
    if zones not in ("max", "hrr"):
        fail(f"--zones must be max or hrr, not {zones!r}", ExitStatus.INPUT)
    if max_hr is not None or age is not None:
        return profile(max_hr, age, zones)
    if settings.max_hr is not None:
        return profile(settings.max_hr, model=zones, source="config")
    if settings.age is not None:
        return profile(age=settings.age, model=zones, source="config age")
    return profile(model=zones)


def collect(store: SessionStore, ids: list[str], p: Profile) -> list[Insights]:
    """The insights of each ID (the most recent session when none is given)."""
    if not ids:
        latest = store.list_sessions(1)
        if not latest:
            raise InputError("report", "no session is stored yet (hrviz ingest FILE first)")
        ids = [latest[0].id]
    out = []
    for sid in ids:
        found = from_store(store, sid, p, summaries_of(store))
        if found is None:
            raise InputError(sid, "no such session (hrviz sessions lists them)")
        out.append(found)
    return out


def report(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Session ids (hrviz sessions).", show_default="the most recent")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (docs/insights.md).", show_default="off")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write one self-contained HTML file here.", show_default="none"),
    ] = None,
    max_hr: MaxHrOpt = None,
    age: AgeOpt = None,
    zones: ZonesOpt = "max",
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Insights of stored sessions: zones, resting/average/max, episodes, recovery, data quality."""
    with friendly_errors():
        settings = load_settings(db=db, mysql=mysql, config=config)
        p = resolve_profile(settings, max_hr, age, zones)
        store, _ = open_store(settings)
        try:
            items = collect(store, ids or [], p)
        finally:
            store.close()
        if html is not None:
            from hrviz.core.insights.html import render

            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            html.write_text(render(items, stamp), encoding="utf-8")
    if json_out:
        # json.dumps, not json.dump: dump always runs the pure-Python encoder (0.2 s on a 1M-reading session)
        sys.stdout.write(json.dumps({"sessions": [i.as_dict() for i in items]}, ensure_ascii=False) + "\n")
        return
    from hrviz.adapters.console.insights import print_insights

    print_insights(items)
    if html is not None:
        print(f"wrote {html}", file=sys.stderr)


__all__ = ["report"]
