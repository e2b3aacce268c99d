"""Turning the caller's binary stream into text lines without ever holding the whole file.

The first chunk is read ahead to choose the encoding and to refuse binary files early; it is then
chained back in front of the rest of the stream, so the parser sees every byte exactly once.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from hrviz.core.errors import InputError

HEAD_BYTES = 64 * 1024
HEAD_LINES = 1000
PROGRESS_EVERY = 64 * 1024
MAX_LINE = 1 << 20
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


class LineTooLong(Exception):
    """More than :data:`MAX_LINE` bytes without a line break; the parser adds the file and line."""


TOO_LONG = f"a line over {MAX_LINE:,} bytes long: not a CSV row"


class _Chained(io.RawIOBase):
    """The already-read head, then the rest of the stream; reports bytes consumed as it goes.

    Also watches for line breaks, a read at a time (8 KB, as the text layer asks; two C scans): a
    runaway line (gigabytes without one) is refused after :data:`MAX_LINE` bytes instead of being
    held whole by the text layer above, at no cost per row; it shows at the end of a read, so a line
    is refused once over :data:`MAX_LINE` at a read's edge.
    """

    def __init__(self, head: bytes, rest: BinaryIO, on_progress: Callable[[int], None] | None) -> None:
        self._head = head
        self._at = 0
        self._rest = rest
        self._on_progress = on_progress
        self.consumed = 0
        self._next_report = PROGRESS_EVERY
        self._unbroken = 0  # bytes since the last line break

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._at < len(self._head):
            data = self._head[self._at : self._at + len(view)]
            self._at += len(data)
        else:
            data = self._rest.read(len(view))
        n = len(data)
        view[:n] = data
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        self._unbroken = self._unbroken + n if last < 0 else n - last - 1
        if self._unbroken > MAX_LINE:
            raise LineTooLong(TOO_LONG)
        self.consumed += n
        if self._on_progress is not None and self.consumed >= self._next_report:
            self._on_progress(self.consumed)
            self._next_report = self.consumed + PROGRESS_EVERY
        return n


def _encoding(head: bytes, source: str) -> str:
    """``utf-8-sig`` (BOM or not) when the head decodes as UTF-8, UTF-16 by its BOM, else latin-1."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(source, f"binary file, not a CSV text (NUL byte at offset {nul})")
    controls = sum(head.count(bytes([c])) for c in _CONTROL)
    if head and controls > max(8, len(head) // 100):
        raise InputError(
            source, f"binary file, not a CSV text ({controls:,} control bytes in the first {len(head):,} bytes)"
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 3:  # a character cut at the chunk edge is not an error
            return "latin-1"
    return "utf-8-sig"


class TextSource:
    """The file as text lines: ``head`` (the sniffing sample) then ``rest`` (everything after)."""

    def __init__(self, stream: BinaryIO, source: str, on_progress: Callable[[int], None] | None) -> None:
        head = stream.read(HEAD_BYTES)
        self.encoding = _encoding(head, source)
        self._raw = _Chained(head, stream, on_progress)
        self._on_progress = on_progress
        # Undecodable bytes after the sniffed head become U+FFFD: the cell then fails to parse as a
        # number or time and is reported like any other bad cell, instead of aborting mid-file.
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._raw, buffer_size=HEAD_BYTES),
            encoding=self.encoding,
            errors="replace",
            newline="",
        )
        self.head: list[str] = []
        size = 0
        while len(self.head) < HEAD_LINES and size < 4 * HEAD_BYTES:
            try:
                line = self._text.readline(MAX_LINE)
            except LineTooLong:
                raise InputError(source, TOO_LONG, len(self.head) + 1) from None
            if not line:
                break
            if len(line) == MAX_LINE and not line.endswith(("\n", "\r")):
                raise InputError(source, TOO_LONG, len(self.head) + 1)
            self.head.append(line)
            size += len(line)

    def rest(self) -> Iterator[str]:
        """The lines after the head (raises :class:`LineTooLong`, see :class:`_Chained`)."""
        return iter(self._text)

    def finish(self) -> None:
        """Report the final byte count (the progress bar's 100 %)."""
        if self._on_progress is not None:
            self._on_progress(self._raw.consumed)
