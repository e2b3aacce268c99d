"""Errors the core raises for the outside world to report."""

from __future__ import annotations


class InputError(Exception):
    """A file hrviz cannot use: carries the file, the line (when one is to blame) and what was wrong.

    The CLI prints ``str(err)`` and exits 2; the server sends it back as the upload's error.
    """

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.message = message
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class BackendUnavailable(Exception):
    """A store or queue server that cannot be reached; the CLI exits 1 with this message."""
