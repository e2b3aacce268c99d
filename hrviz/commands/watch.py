"""``hrviz watch``: replay a file, a stored session or a server's session as a live terminal chart.

Picks the source (file → embedded ingest, ``--session`` → store / queue, ``--server`` → websocket)
and the output (chart on a terminal, one line per reading otherwise); everything else lives in
the ``terminal_*`` adapters.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from hrviz.core.detector import DetectorConfig
from hrviz.core.errors import BackendUnavailable, InputError
from hrviz.core.ingest import IngestOptions, publish_pending
from hrviz.core.model import Reading, Session
from hrviz.core.ports import Backends
from hrviz.core.replay import SPEEDS
from hrviz.wiring import ENV_TOKEN, load_settings, open_backends

if TYPE_CHECKING:  # the views and feeds are imported when watch runs: every other command starts without them
    from hrviz.adapters.watch.feed import Feed
    from hrviz.core.reader.lines import BadRow


def watch(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="File to replay: CSV, FIT, TCX, GPX, Apple Health, Fitbit JSON, .gz, .zip; "
            "'-' shows CSV lines from stdin live, without storing them (docs/live.md).",
            show_default=False,
        ),
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Replay this stored session instead.", show_default="none: FILE")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Follow --session on a running `hrviz serve` (ws://HOST:PORT, or the address it printed).",
            show_default="none: read the store",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=ENV_TOKEN,
            help="Access token of a shared --server (or put ?token=… in its address).",
            show_default="none: the one in --server's address, if any",
        ),
    ] = None,
    speed: Annotated[float, typer.Option(help="Start at this speed (readings per second).")] = 1.0,
    window: Annotated[float, typer.Option(help="Seconds of readings shown in the scrolling chart.")] = 120.0,
    no_pace: Annotated[
        bool,
        typer.Option("--no-pace", help="Plain output: print every line at once, without waiting.", show_default="off"),
    ] = False,
    plain: Annotated[
        bool, typer.Option("--plain", help="One line per reading even on a terminal.", show_default="off")
    ] = False,
    subject: Annotated[
        str | None, typer.Option(help="The subject to replay from a multi-subject file.", show_default="the only one")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between readings in files without times.")] = 1.0,
    since: SinceOpt = None,
    until: UntilOpt = None,
    delta: DeltaOpt = None,
    max_fill: MaxFillOpt = None,
    low: LowOpt = None,
    high: HighOpt = None,
    db: DbOpt = None,
    mysql: MysqlOpt = None,
    kafka: KafkaOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Replay heart-rate readings as a live chart (keys: space pause, +/- speed, q quit)."""
    if (file is None) == (session is None):
        fail("give a file, or --session ID (with --server, --db, --mysql or --kafka)", ExitStatus.INPUT)
    if server and file is not None:
        fail("--server follows a stored session: give --session ID, not a file", ExitStatus.INPUT)
    if speed <= 0 or window <= 0 or interval <= 0:
        fail("--speed, --window and --interval must be positive", ExitStatus.INPUT)
    if server and speed not in SPEEDS:
        fail(f"with --server, --speed must be one of {', '.join(f'{s:g}' for s in SPEEDS)}", ExitStatus.INPUT)
    chart = not plain and sys.stdout.isatty()
    if file == Path("-"):
        with friendly_errors():
            settings = load_settings(config=config, delta=delta, max_fill=max_fill, low=low, high=high)
            _watch_stdin(settings.detector, interval, window, chart)
        return
    with friendly_errors():
        if file is not None and not file.is_file() and not file.is_dir():  # the user's mistake before any store
            raise InputError(str(file), "no such file" if not file.exists() else "not a regular file")
        if server:
            assert session is not None
            _follow(server, session, speed, window, chart, token)
            return
        settings = load_settings(
            db=db, mysql=mysql, kafka=kafka, config=config, delta=delta, max_fill=max_fill, low=low, high=high
        )
        backends = open_backends(settings)
        try:
            if file is not None:
                detector = settings.detector
                bounds = parse_when(since, "--since"), parse_when(until, "--until")
                options = IngestOptions(
                    interval=interval, subject=subject, detector=detector, since=bounds[0], until=bounds[1]
                )
                found = _ingest_file(file, backends, options, quiet=not chart)
            else:
                assert session is not None
                found = _stored(backends, session)
                if backends.live_ids is not None and found.id in backends.live_ids():
                    _run(_follow_store(backends, found), "", found, window, chart, None)
                    return
            from hrviz.adapters.watch.feed import ReplayFeed

            feed = ReplayFeed(_readings(backends, found), found.anomalies, speed=speed, paced=chart or not no_pace)
            _run(feed, "", found, window, chart, found.readings)
        finally:
            backends.close()


def _ingest_file(path: Path, backends: Backends, options: IngestOptions, quiet: bool) -> Session:
    """Store the file like ``hrviz ingest`` does (same session id), then replay it from the store."""
    from hrviz.adapters.console.report import progress_for
    from hrviz.adapters.ingest.archives import ingest_path  # the same path as `hrviz ingest`

    with progress_for(path, quiet=quiet) as on_progress:
        done = ingest_path(path, backends.store, options, on_progress)
    sessions = done.sessions
    for name, why in done.skipped:
        print(f"hrviz: warning: skipped {name}: {why}", file=sys.stderr)
    for warning in sessions[0].warnings if len(sessions) == 1 else ():
        print(f"hrviz: warning: {path}: {warning}", file=sys.stderr)
    for s in sessions if len(sessions) == 1 else ():
        if s.skipped:  # docs/formats.md, "Bad rows"
            lines = ", ".join(map(str, s.skipped_lines)) + (", …" if s.skipped > len(s.skipped_lines) else "")
            why = f"skipped {s.skipped:,} row(s) with an unusable time (line {lines})"
            print(f"hrviz: warning: {path}: {why}", file=sys.stderr)
    report = publish_pending(backends.store, backends.queue)  # as `hrviz ingest` would: serve sees it too
    if report.failed:
        print(f"hrviz: warning: stored, not yet published ({report.failed}); replaying from the store", file=sys.stderr)
    if len(sessions) > 1 and len({s.source for s in sessions}) > 1:
        names = ", ".join(s.source for s in sessions[:5])
        fail(f"{path} holds several files ({names}, …); watch one of them (or --session ID)", ExitStatus.INPUT)
    if len(sessions) > 1:
        subjects = ", ".join(repr(s.subject) for s in sessions)
        fail(f"{path} holds several subjects ({subjects}); pick one with --subject", ExitStatus.INPUT)
    return sessions[0]


def _follow_store(backends: Backends, session: Session) -> Feed:
    """A live session (docs/live.md): what is stored at once, then each reading as ingest stores it."""
    from hrviz.adapters.watch.growing import StoreFollowFeed

    store, live_ids = backends.store, backends.live_ids or dict

    def fetch(first: int, limit: int) -> list[Reading]:
        return list(itertools.islice(store.readings(session.id, first), limit))

    def look() -> tuple[Session | None, bool]:
        live = session.id in live_ids()
        return store.get(session.id), live

    return StoreFollowFeed(fetch, look)


def _watch_stdin(detector: DetectorConfig, interval: float, window: float, chart: bool) -> None:
    """``hrviz watch -``: stdin through the detector's live path, on screen only; nothing is stored."""
    from hrviz.adapters.ingest.tail import StdinLines
    from hrviz.adapters.watch.growing import LinesFeed

    lines = StdinLines(sys.stdin.buffer)  # stdin is the data: the chart's keys come from the terminal
    keys = None
    if chart:
        try:
            keys = os.open("/dev/tty", os.O_RDONLY)
        except OSError:
            keys = None  # no terminal to read keys from: the chart just runs to the end of input

    def pull() -> tuple[list[bytes], bool]:
        got, _ = lines.poll(0)
        return got, lines.ended

    def bad(row: BadRow) -> None:
        print(f"hrviz: warning: stdin, line {row.line}: {row.why} (skipped)", file=sys.stderr, flush=True)

    feed = LinesFeed(pull, "stdin", interval, detector, bad)
    try:
        _run(feed, "", Session(id="-", source="stdin", subject=None, fingerprint=""), window, chart, None, keys)
    finally:
        if keys is not None:
            os.close(keys)


def _stored(backends: Backends, session_id: str) -> Session:
    found = backends.store.get(session_id)
    if found is None:
        recent = ", ".join(s.id for s in backends.store.list_sessions(5)) or "none stored yet"
        fail(f"unknown session {session_id!r} in {backends.description} (recent: {recent})", ExitStatus.INPUT)
    return found


def _readings(backends: Backends, session: Session) -> Iterator[Reading]:
    """From the queue, as a live subscriber would; the store fills in whatever the queue cannot give.

    The outbox guarantees the store holds every reading the queue has, so an unpublished tail or
    a broker that is down costs nothing but a warning. The first read happens here, before the
    display starts, so that warning can go to stderr without tearing the chart.
    """
    try:
        from_queue = iter(backends.queue.replay(session.id, backends.store.position(session.id), 0))
        head = next(from_queue, None)
    except BackendUnavailable as err:
        print(f"hrviz: warning: {err}; replaying from the store", file=sys.stderr)
        return backends.store.readings(session.id)
    return _then_store(head, from_queue, backends, session)


def _then_store(
    head: Reading | None, rest: Iterator[Reading], backends: Backends, session: Session
) -> Iterator[Reading]:
    last = -1
    try:
        for reading in itertools.chain([head] if head is not None else [], rest):
            last = reading.seq
            yield reading
    except BackendUnavailable:
        pass  # the broker went away mid-replay: the store has the same readings
    if last < session.readings - 1:
        yield from backends.store.readings(session.id, last + 1)


def _follow(url: str, session_id: str, speed: float, window: float, chart: bool, token: str | None) -> None:
    """The server paces the replay (so --no-pace does not apply); keys become control messages."""
    from hrviz.adapters.watch.follow import ServerFeed, UnknownSession, split_token

    url, token = split_token(url, token)  # from here on, url never holds the token
    try:
        feed = ServerFeed(url, session_id, speed, token)
    except UnknownSession as err:
        fail(f"unknown session {session_id!r} on {url}: {err}", ExitStatus.INPUT)
    try:
        summary = feed.session
        total = summary.get("readings")
        subject = summary.get("subject")
        info = Session(
            id=session_id,
            source=str(summary.get("source") or "?"),
            subject=subject if isinstance(subject, str) else None,
            fingerprint="",
            tz_offset_min=feed.tz_offset_min,
        )
        _run(feed, url, info, window, chart, total if isinstance(total, int) else None)
    finally:
        feed.close()


def _run(
    feed: Feed, via: str, session: Session, window: float, chart: bool, total: int | None, keys: int | None = None
) -> None:
    """Show the feed until it ends (plain) or the user quits (chart); exit 1 if the feed failed."""
    from hrviz.adapters.watch.plain import run_plain
    from hrviz.adapters.watch.view import WatchView

    title = f"{Path(session.source).name}  session {session.id}"
    title += (f"  subject {session.subject}" if session.subject else "") + (f"  via {via}" if via else "")
    view = WatchView(title=title, tz_offset_min=session.tz_offset_min, window=window, total=total)
    try:
        if chart:
            from hrviz.adapters.watch.live import live_console, run_live

            run_live(feed, view, live_console(), sys.stdin.fileno() if keys is None else keys)
        else:
            run_plain(feed, view, sys.stdout)
    except KeyboardInterrupt:
        if not chart:  # a script's Ctrl-C: the conventional status; on screen, Ctrl-C is just "quit"
            raise typer.Exit(ExitStatus.INTERRUPTED) from None
    except BrokenPipeError:  # `hrviz watch f.csv | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        feed.close()
    if feed.message:
        fail(feed.message, ExitStatus.ERROR)


__all__ = ["watch"]
