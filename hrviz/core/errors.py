"""Errors the core raises for the outside world to report."""

from __future__ import annotations


def printable(name: str) -> str:
    """A file name fit for a one-line message: the bytes of an undecodable name as ``\\xff``,
    lone surrogates and control characters (a newline in a name) escaped, the rest as typed."""
    if name.isprintable() and not _has_surrogates(name):
        return name
    out = []
    for c in name:
        if "\udc80" <= c <= "\udcff":  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c.isprintable() and not "\ud800" <= c <= "\udfff":
            out.append(c)
        else:
            out.append(c.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class InputError(Exception):
    """A file hrviz cannot use: carries the file, the line (when one is to blame) and what was wrong.

    The CLI prints ``str(err)`` and exits 2; the server sends it back as the upload's error.
    """

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.message = message
        self.line = line
        name = printable(source)
        where = f"{name}, line {line}" if line is not None else name
        super().__init__(f"{where}: {message}")


class BackendUnavailable(Exception):
    """A store or queue that cannot be reached or used; the CLI exits 1 with this message."""


class SessionGone(BackendUnavailable):
    """A session deleted while it was being read (an export): what was written is incomplete."""


class SettingsError(Exception):
    """A flag, environment variable or config file value hrviz cannot use; the CLI exits 1."""


class AlreadyStored(Exception):
    """Another ingest committed the same session (same fingerprint) first: report that one, store nothing.

    Raised by ``SessionStore.begin`` or ``SessionWriter.commit`` when two ingests of one file race;
    the writer has already let go of everything it held.
    """

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"already stored as {session_id}")
