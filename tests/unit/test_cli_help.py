"""``hrviz --version``, and ``--help`` of every command showing every option's default."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hrviz.cli import app

COMMAND: Any = typer.main.get_command(app)  # a click group (typer carries its own click)
WIDE = {"COLUMNS": "400", "TERM": "dumb", "NO_COLOR": "1"}  # one row per option, no wrapping


def help_rows(*args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """Each option's row of ``hrviz ... --help``, by its first name."""
    done = CliRunner().invoke(app, [*args, "--help"], env=WIDE | (env or {}))
    assert done.exit_code == 0, done.output
    rows = {}
    for line in done.output.splitlines():
        found = re.match(r"│\s+(--[\w-]+)", line)
        if found:
            rows[found.group(1)] = line
    return rows


def test_version_is_the_installed_one() -> None:
    done = CliRunner().invoke(app, ["--version"])
    assert done.exit_code == 0
    assert done.output == f"hrviz {version('hrviz')}\n"


SUBCOMMANDS = [
    f"{name} {sub}" for name, group in COMMAND.commands.items() for sub in sorted(getattr(group, "commands", {}))
]


@pytest.mark.parametrize("name", [None, *sorted(COMMAND.commands), *SUBCOMMANDS])
def test_help_shows_every_options_default(name: str | None) -> None:
    command = COMMAND
    for word in (name or "").split():
        command = command.commands[word]
    options = [p for p in command.params if p.param_type_name == "option" and p.name != "help"]
    rows = help_rows(*(name.split() if name else []))
    assert options
    for option in options:
        row = rows.get(option.opts[0])
        assert row is not None, f"{option.opts[0]} missing from {name} --help"
        assert re.search(r"\[default: [^\]]+\]", row), f"{name} {option.opts[0]} shows no default: {row.strip()}"


def test_help_never_shows_a_token_from_the_environment() -> None:
    secret = "do-not-print-this-token-0123456789"
    for name in ("serve", "watch"):
        rows = help_rows(name, env={"HRVIZ_TOKEN": secret})
        assert "HRVIZ_TOKEN" in rows["--token"] and secret not in "\n".join(rows.values())
