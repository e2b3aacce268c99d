"""Lines as they arrive: stdin (``hrviz ingest -``) and a followed file (``--follow FILE``, like ``tail -F``).

Both hand out complete lines as bytes, the moment they are readable, and hold a line that has
no break yet until it is completed. At the end of stdin a last line without a break is handed out
as it is. A followed file never ends: it waits for the file to appear, reads what is appended,
starts again from the top when the file is truncated, and moves to the new file when the name is
given to another one (log rotation, an editor's save), after reading what the old one still held.
"""

from __future__ import annotations

import os
import select
import time
from pathlib import Path
from typing import BinaryIO, Protocol

from hrviz.core.reader.lines import MAX_LINE

READ = 1 << 16  # bytes read at a time: a full read means more is probably waiting
POLL = 0.02  # seconds between two looks at a followed file that has nothing new


class LineSource(Protocol):
    name: str
    ended: bool  # no line will ever come again (stdin closed)

    def poll(self, timeout: float) -> tuple[list[bytes], bool]:
        """The complete lines readable within ``timeout`` seconds, and whether more are waiting."""
        ...

    def close(self) -> None: ...


class _Splitter:
    """Complete lines out of the bytes as they come, and the unfinished rest held until its break.

    The rest is held up to :data:`MAX_LINE` bytes: beyond, its first bytes are handed out as one line
    (which the reader reports as too long to be a reading) and the rest of that line is dropped as it
    arrives. A runaway line (100 MB without a break, binary junk) costs neither memory nor time:
    before, each read re-joined everything held (quadratic) and held it all.
    """

    def __init__(self) -> None:
        self.rest = b""
        self._dropping = False

    def feed(self, data: bytes) -> list[bytes]:
        if self._dropping:
            cut = data.find(b"\n")
            if cut < 0:
                return []
            data, self._dropping = data[cut + 1 :], False
        cut = data.rfind(b"\n") + 1
        lines: list[bytes] = []
        if cut:
            lines, self.rest = (self.rest + data[:cut]).splitlines(keepends=True), data[cut:]
        else:
            self.rest += data
        if len(self.rest) > MAX_LINE:
            lines.append(self.rest[: MAX_LINE + 1])
            self.rest, self._dropping = b"", True
        return lines

    def end(self) -> list[bytes]:
        """The last line without a break, as it is (nothing when it was being dropped)."""
        rest, self.rest, self._dropping = self.rest, b"", False
        return [rest] if rest.strip() else []


class StdinLines:
    """The lines of a pipe or terminal, read without blocking past ``timeout``."""

    def __init__(self, stream: BinaryIO, name: str = "-") -> None:
        self.name = name
        self.ended = False
        self._fd = stream.fileno()
        self._lines = _Splitter()

    def poll(self, timeout: float) -> tuple[list[bytes], bool]:
        if self.ended:
            return [], False
        ready, _, _ = select.select([self._fd], [], [], max(timeout, 0.0))
        if not ready:
            return [], False
        data = os.read(self._fd, READ)
        if not data:  # end of input: a last line without a break counts as it is
            self.ended = True
            return self._lines.end(), False
        return self._lines.feed(data), len(data) == READ

    def close(self) -> None:
        pass


class FollowedFile:
    """A file followed by name: appended lines, truncation and replacement survived."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self.path = path
        self.ended = False
        self._file: BinaryIO | None = None
        self._lines = _Splitter()
        self._pos = 0
        self._open()

    def _open(self) -> None:
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 — held open while followed
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self._file = None  # not (or no longer) a file: wait for one of that name, as tail -F does
        self._pos, self._lines = 0, _Splitter()

    def poll(self, timeout: float) -> tuple[list[bytes], bool]:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            lines, more = self._read()
            if lines or more or time.monotonic() >= deadline:
                return lines, more
            time.sleep(min(POLL, max(deadline - time.monotonic(), 0.0)))

    def _read(self) -> tuple[list[bytes], bool]:
        if self._file is None:
            self._open()
            if self._file is None:
                return [], False
        data = self._file.read(READ)
        if data:
            self._pos += len(data)
            return self._lines.feed(data), len(data) == READ
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return [], False  # removed: wait for a new file of that name
        held = os.fstat(self._file.fileno())
        if (now.st_ino, now.st_dev) != (held.st_ino, held.st_dev):  # replaced: the old one is read to its end
            rest = self._lines.end()
            self._file.close()
            self._open()
            return rest, True
        if now.st_size < self._pos:  # truncated: start again from the top
            self._file.seek(0)
            self._pos, self._lines = 0, _Splitter()
            return [], True
        return [], False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
