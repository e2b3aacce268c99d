"""Options and error handling shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from hrviz.core.detector import DetectorConfig
from hrviz.core.errors import BackendUnavailable, InputError, SettingsError
from hrviz.wiring import ENV_CONFIG, ENV_DB, ENV_KAFKA, ENV_MYSQL, debug_enabled

# every option shows its default in --help (tests/unit/test_cli_help.py); None ones say what None means
DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="SQLite file of the embedded store.",
        envvar=ENV_DB,
        show_default="hrviz.sqlite3 in the data dir",
    ),
]
MysqlOpt = Annotated[
    str | None,
    typer.Option(
        "--mysql",
        help="Use MySQL: mysql://user:pass@host:3306/db",
        envvar=ENV_MYSQL,
        show_default="none: SQLite (--db)",
    ),
]
KafkaOpt = Annotated[
    str | None,
    typer.Option(
        "--kafka",
        help="Use Kafka: bootstrap servers host:port",
        envvar=ENV_KAFKA,
        show_default="none: an in-process queue",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML file with a \\[detector] section.",
        envvar=ENV_CONFIG,
        show_default="config.toml in the config dir, if any",
    ),
]

_DETECTOR = "{:g}, or the --config file's [detector] value"
_DEFAULTS = DetectorConfig()
DeltaOpt = Annotated[
    float | None,
    typer.Option(help="bpm change that makes a spike or drop", show_default=_DETECTOR.format(_DEFAULTS.delta)),
]
MaxFillOpt = Annotated[
    float | None,
    typer.Option(
        help="Absences up to this many seconds are filled; longer are gaps",
        show_default=_DETECTOR.format(_DEFAULTS.max_fill),
    ),
]
LowOpt = Annotated[
    float | None,
    typer.Option(help="Below this bpm a value is impossible", show_default=_DETECTOR.format(_DEFAULTS.low)),
]
HighOpt = Annotated[
    float | None,
    typer.Option(help="Above this bpm a value is impossible", show_default=_DETECTOR.format(_DEFAULTS.high)),
]

SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only readings at or after this time: 2024-01-31 or 2024-01-31T06:00[+01:00] (UTC if no offset).",
        show_default="none: from the first reading",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until", help="Only readings before this time (same forms as --since).", show_default="none: to the last"
    ),
]


class ExitStatus(IntEnum):
    """What every ``hrviz`` command exits with (README, "Exit codes")."""

    OK = 0
    ERROR = 1  # anything but the input: an unreachable server, a bad setting
    INPUT = 2  # a file or argument hrviz cannot use; nothing was stored
    ANOMALY = 3  # --fail-on-anomaly, and something was found
    INTERRUPTED = 130  # Ctrl-C in a script (128 + SIGINT), by convention


def parse_when(text: str | None, flag: str) -> float | None:
    """``--since``/``--until`` as unix seconds; a date or time without an offset is UTC."""
    if text is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{flag} {text!r}: not a date or time (use 2024-01-31 or 2024-01-31T06:00:00+01:00)", ExitStatus.INPUT)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def fail(message: str, code: ExitStatus) -> NoReturn:
    """One clear line on stderr and an exit code: never a traceback."""
    print(f"hrviz: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn any error into its exit status and one line (see :func:`exit_status_of`)."""
    try:
        yield
    except typer.Exit:
        raise
    except BaseException as err:
        if not isinstance(err, Exception | KeyboardInterrupt):
            raise  # SystemExit and the like pass through
        status, message = exit_status_of(err)
        if message.startswith("unexpected") and debug_enabled():
            raise
        fail(message, status)


def exit_status_of(err: BaseException) -> tuple[ExitStatus, str]:
    """The one mapping from an error to hrviz's exit status and the one line a user sees.

    The core's error types (and OSError, for files and ports) are expected failures; anything else
    is a bug and says so.
    """
    if isinstance(err, InputError):
        return ExitStatus.INPUT, str(err)
    if isinstance(err, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED, "interrupted; nothing half-written was kept"
    if isinstance(err, BackendUnavailable | SettingsError | OSError):
        return ExitStatus.ERROR, str(err)
    return ExitStatus.ERROR, f"unexpected {type(err).__name__}: {err} (HRVIZ_DEBUG=1 shows the traceback)"
