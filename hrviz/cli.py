"""The ``hrviz`` command: wires adapters to use cases, nothing more.

Each command lives in :mod:`hrviz.commands`; this module only assembles them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hrviz import __version__
from hrviz.commands import ingest as ingest_cmd
from hrviz.commands import report as report_cmd
from hrviz.commands import serve as serve_cmd
from hrviz.commands import sessions as sessions_cmd
from hrviz.commands import watch as watch_cmd

app = typer.Typer(
    help="Replay heart-rate CSVs as a live chart, with spikes, drops and missing readings flagged.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"hrviz {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit.", show_default="off"
        ),
    ] = False,
) -> None:
    """hrviz: heart-rate CSVs replayed live, with anomalies flagged.

    With no flags everything runs embedded (a SQLite file, an in-process queue); --mysql and
    --kafka (or HRVIZ_MYSQL_URL / HRVIZ_KAFKA_BOOTSTRAP) switch to the real stack.
    """


app.command("ingest")(ingest_cmd.ingest)
app.command("serve")(serve_cmd.serve)
app.command("watch")(watch_cmd.watch)
app.command("report")(report_cmd.report)
app.add_typer(sessions_cmd.app, name="sessions")
