"""``hrviz ingest -`` and ``hrviz ingest --follow FILE``: a live session from input still being written."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import typer

from hrviz.commands.common import ExitStatus
from hrviz.core.errors import printable
from hrviz.core.ingest import PublishReport, publish_pending
from hrviz.core.live import LiveIngest, LiveOptions
from hrviz.core.ports import Backends
from hrviz.wiring import open_live

FINAL_PUBLISH = 20.0  # seconds the last publication may take before ingest reports it incomplete


def live_key(path: Path | None) -> tuple[str, str]:
    """The input's identity and the session's source: a followed file by its absolute path (a restart
    continues its session), stdin once per run."""
    if path is None:
        return f"stdin:{time.time_ns()}:{os.getpid()}", "stdin"
    return f"file:{path.absolute()}", str(path)


def ingest_live(
    backends: Backends,
    path: Path | None,
    options: LiveOptions,
    idle_timeout: float | None,
    json_out: bool,
    spool_max: int = 100_000,
) -> None:
    """Follow stdin (``path`` None) or the file at ``path`` until it ends; store and publish as it goes."""
    from hrviz.adapters.ingest.live import Publisher, run_live, warn_bad
    from hrviz.adapters.ingest.spool import Spool
    from hrviz.adapters.ingest.tail import FollowedFile, LineSource, StdinLines

    key, source_name = live_key(path)
    live = LiveIngest(backends.store, open_live(backends), key, source_name, options)
    if live.resumed:
        print(
            f"hrviz: continuing live session {live.session.id} after {live.session.readings} stored readings",
            file=sys.stderr,
        )
    source: LineSource = StdinLines(sys.stdin.buffer) if path is None else FollowedFile(path)

    def problem(failed: str | None) -> None:
        if failed:
            print(f"hrviz: warning: publishing paused, readings are stored meanwhile: {failed}", file=sys.stderr)
        else:
            print("hrviz: publishing resumed", file=sys.stderr)

    publisher = Publisher(lambda: publish_pending(backends.store, backends.queue), problem)
    spool = Spool(live.session.id, spool_max)
    session, why = run_live(
        source, live, publisher, idle_timeout=idle_timeout, on_bad=warn_bad(source_name), spool=spool
    )
    report = publisher.stop(FINAL_PUBLISH) or PublishReport(failed="publication did not finish in time")
    if not json_out:
        print(f"hrviz: live session {session.id} finalized ({why})", file=sys.stderr)
    if json_out:
        payload: dict[str, object] = {"sessions": [session.as_dict()], "ended": why}
        if report.failed:
            payload["error"] = f"stored, but publishing is incomplete: {report.failed}"
        # json.dumps, not json.dump: dump always runs the pure-Python encoder (0.2 s on a 1M-reading session)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        from hrviz.adapters.console.report import print_sessions

        print_sessions([session])
    if report.failed:
        from hrviz.adapters.console.report import print_publish_problem

        print_publish_problem(report)
        raise typer.Exit(ExitStatus.ERROR)
    if why.startswith("the input failed"):
        print(f"hrviz: error: {printable(source_name)}: {why}; every reading read before is stored", file=sys.stderr)
        raise typer.Exit(ExitStatus.ERROR)
    if why == "spool full":
        print(
            f"hrviz: error: stopped reading the input after line {live.reader.lines} (the store was down and "
            "the spool filled); every reading accepted before is stored",
            file=sys.stderr,
        )
        raise typer.Exit(ExitStatus.ERROR)
