"""``hrviz ingest FILE...``: read, validate, detect, persist, publish."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from hrviz.commands.common import (
    ConfigOpt,
    DbOpt,
    DeltaOpt,
    ExitStatus,
    HighOpt,
    KafkaOpt,
    LowOpt,
    MaxFillOpt,
    MysqlOpt,
    SinceOpt,
    UntilOpt,
    fail,
    friendly_errors,
    parse_when,
)
from hrviz.core.errors import InputError
from hrviz.core.ingest import EFFORT_MAX_HR, IngestOptions, publish_pending
from hrviz.core.model import Session
from hrviz.wiring import load_settings, open_backends


@contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Ingest allocates millions of short-lived tuples and no cycles worth chasing; with the default
    thresholds the collector rescans them thousands of times (0.1–0.2 s per million rows)."""
    gc.freeze()  # everything imported so far is permanent: never rescan it
    previous = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def ingest(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to ingest: CSV, FIT, TCX, GPX, Apple Health export.zip/.xml, Fitbit JSON, .gz; "
            "a zip or a folder ingests each file in it. '-' reads CSV lines from stdin as they arrive "
            "(a live session, docs/live.md).",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout, nothing else.", show_default="off")
    ] = False,
    fail_on_anomaly: Annotated[
        bool,
        typer.Option(
            "--fail-on-anomaly", help="Exit 3 when any anomaly was found (for CI scripts).", show_default="off"
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Finish publishing sessions an earlier run could not publish.", show_default="off"
        ),
    ] = False,
    subject: Annotated[
        str | None, typer.Option(help="Ingest only this subject of a multi-subject file.", show_default="every subject")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    interval: Annotated[float, typer.Option(help="Seconds between readings in files without times.")] = 1.0,
    delta: DeltaOpt = None,
    max_fill: MaxFillOpt = None,
    low: LowOpt = None,
    high: HighOpt = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Follow the one CSV FILE as it grows, like tail -F: a live session (docs/live.md).",
            show_default="off",
        ),
    ] = False,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout",
            help="Finalize a live session (- or --follow) after this many seconds without a reading.",
            show_default="none: wait for the end of input or Ctrl-C",
        ),
    ] = None,
    spool_max: Annotated[
        int,
        typer.Option(
            "--spool-max",
            help="Readings a live session keeps on disk while its store is down; when full, ingest stops reading.",
        ),
    ] = 100_000,
    parallel: Annotated[
        bool, typer.Option("--parallel/--no-parallel", help="Read big files in a second process.")
    ] = True,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    kafka: KafkaOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Parse, validate, detect anomalies, store and publish heart-rate files."""
    files = files or []
    if not files and not resume:
        fail("give at least one file (or --resume)", ExitStatus.INPUT)
    if interval <= 0:
        fail(f"--interval must be positive, not {interval}", ExitStatus.INPUT)
    live = follow or files == [Path("-")]
    if live and (len(files) != 1 or resume):
        fail("a live session reads one input: `hrviz ingest -` or `hrviz ingest --follow FILE`", ExitStatus.INPUT)
    if idle_timeout is not None and (not live or idle_timeout <= 0):
        fail("--idle-timeout takes a positive number of seconds, with - or --follow", ExitStatus.INPUT)
    if spool_max < 1:
        fail(f"--spool-max must be at least 1, not {spool_max}", ExitStatus.INPUT)
    if live and (since or until):
        fail("--since/--until do not apply to a live session", ExitStatus.INPUT)
    with friendly_errors():
        settings = load_settings(
            db=db, mysql=mysql, kafka=kafka, config=config, delta=delta, max_fill=max_fill, low=low, high=high
        )
        if live:
            from hrviz.commands.ingest_live import ingest_live
            from hrviz.core.live import LiveOptions

            if follow and files[0].is_dir():
                raise InputError(str(files[0]), "a folder: --follow follows one file")
            backends = open_backends(settings)
            try:
                where = None if files[0] == Path("-") and not follow else files[0]
                opts = LiveOptions(interval=interval, subject=subject, detector=settings.detector)
                ingest_live(backends, where, opts, idle_timeout, json_out, spool_max)
            finally:
                backends.close()
            return
        for path in files:
            if not path.is_file() and not path.is_dir():
                raise InputError(str(path), "no such file" if not path.exists() else "not a regular file")
        window = parse_when(since, "--since"), parse_when(until, "--until")
        max_hr = settings.max_hr or (220.0 - settings.age if settings.age else EFFORT_MAX_HR)  # [profile]
        options = IngestOptions(
            interval=interval, subject=subject, detector=settings.detector, since=window[0], until=window[1],
            max_hr=max_hr,
        )  # fmt: skip
        from hrviz.adapters.console.report import progress_for  # rich only when a person is watching
        from hrviz.adapters.ingest.archives import ingest_path  # zip, folders; multiprocessing: only when ingesting

        backends = open_backends(settings)
        try:
            sessions: list[Session] = []
            skipped: list[tuple[str, str]] = []
            refused: list[InputError] = []  # of several files: the others still stored and summarised
            with fewer_gc_passes():
                for path in files:
                    try:
                        with progress_for(path, quiet=json_out) as on_progress:
                            done = ingest_path(path, backends.store, options, on_progress, parallel=parallel)
                    except InputError as err:
                        if len(files) == 1:
                            raise
                        refused.append(err)
                        continue
                    sessions += done.sessions
                    skipped += done.skipped
            report = publish_pending(backends.store, backends.queue)
        finally:
            backends.close()
    if json_out:
        payload: dict[str, object] = {"sessions": [s.as_dict() for s in sessions]}
        if skipped:
            payload["skipped"] = [{"file": name, "reason": why} for name, why in skipped]
        if refused:
            payload["refused"] = [{"file": e.source, "line": e.line, "reason": e.message} for e in refused]
        if report.failed:
            payload["error"] = f"stored, but publishing is incomplete: {report.failed}"
        # json.dumps, not json.dump: dump always runs the pure-Python encoder (0.2 s on a 1M-reading session)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        from hrviz.adapters.console.report import print_sessions

        print_sessions(sessions)
        for name, why in skipped:
            print(f"hrviz: warning: skipped {name}: {why}", file=sys.stderr)
    for refusal in refused:  # after the summaries: the last lines a person reads are the refusals
        print(f"hrviz: error: {refusal}", file=sys.stderr)
    if report.failed:
        from hrviz.adapters.console.report import print_publish_problem

        print_publish_problem(report)
        raise typer.Exit(ExitStatus.ERROR)
    if refused:
        raise typer.Exit(ExitStatus.INPUT)
    if fail_on_anomaly and any(s.anomalies for s in sessions):
        raise typer.Exit(ExitStatus.ANOMALY)
    if not files and resume:
        print(f"published {len(report.published)} pending session(s)", file=sys.stderr)


__all__ = ["ingest"]
