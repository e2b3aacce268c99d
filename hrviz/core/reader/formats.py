"""Which kind of file a stream holds, told by its first bytes, and the reader for each kind.

Content decides, never the name: a FIT file has ``.FIT`` at byte 8, gzip starts ``1f 8b``, zip
``PK\\x03\\x04``; XML files are told by their root element (``TrainingCenterDatabase``, ``gpx``,
``HealthData``, whatever the namespace prefix) and Takeout's Fitbit JSON by its ``dateTime``/``bpm``
entries. Anything else is left to the CSV reader. Zip archives hold several files and are opened
by the caller (:mod:`hrviz.adapters.ingest.archives`); here a zip is refused with that hint.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable
from typing import BinaryIO, cast

from hrviz.core.errors import InputError
from hrviz.core.reader.parse import BAD_ROWS_TOLERATED, BAD_SHARE, BAD_SHARE_MAX
from hrviz.core.series import Series

PEEK = 64 * 1024
FIT, TCX, GPX, APPLE, TAKEOUT, CSV = "fit", "tcx", "gpx", "apple", "takeout", "csv"
GZIP_MAGIC, ZIP_MAGIC = b"\x1f\x8b", b"PK\x03\x04"
_ROOT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_ROOTS = {b"TrainingCenterDatabase": TCX, b"gpx": GPX, b"HealthData": APPLE}


class Peeked:
    """A binary stream whose first bytes were already read: they are served again first.

    Reports the bytes consumed from the *underlying* stream to ``on_progress`` (so a gzip file's
    progress is measured against its size on disk)."""

    def __init__(self, raw: BinaryIO, on_progress: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._on_progress = on_progress
        self.consumed = 0
        self._next = 0
        self.head = self._read_raw(PEEK)
        self._pos = 0

    def _read_raw(self, size: int) -> bytes:
        data = self._raw.read(size)
        self.consumed += len(data)
        if self._on_progress is not None and (self.consumed >= self._next or not data):
            self._on_progress(self.consumed)
            self._next = self.consumed + PEEK
        return data

    def read(self, size: int = -1) -> bytes:
        if self._pos < len(self.head):
            end = len(self.head) if size is None or size < 0 else min(len(self.head), self._pos + size)
            data = self.head[self._pos : end]
            self._pos = end
            if size is None or size < 0:
                return data + self._read_raw(-1)
            return data
        return self._read_raw(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


class _Gunzip:
    """gzip decompressed as it is read; damage anywhere (a cut, a bad CRC, garbage after the head) is
    an :class:`InputError` naming the file, whichever reader was pulling bytes when it showed."""

    def __init__(self, raw: Peeked, source: str) -> None:
        self._gz = gzip.GzipFile(fileobj=cast(BinaryIO, raw), mode="rb")
        self._source = source

    def read(self, size: int = -1) -> bytes:
        try:
            return self._gz.read(size)
        except (OSError, EOFError, zlib.error) as err:
            raise InputError(self._source, f"broken gzip file: {err}") from None


def kind_of(head: bytes) -> str:
    """The kind of file these first bytes (up to :data:`PEEK`) start; ``csv`` for anything else."""
    if head[8:12] == b".FIT":
        return FIT
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        match = _ROOT.search(text)
        if match and match.group(1) in _ROOTS:
            return _ROOTS[match.group(1)]
        if text.startswith(b"<?xml"):
            return "xml"  # some other XML document: refused by name
        # anything else that starts with "<" (an HTML-ish header cell) is the CSV reader's to judge
    if text.startswith(b"[") and b'"dateTime"' in text and b'"bpm"' in text:
        return TAKEOUT
    return CSV


def unwrap(stream: BinaryIO, source: str, on_progress: Callable[[int], None] | None) -> tuple[str, BinaryIO]:
    """(kind, stream positioned at the start): gzip layers are decompressed on the fly."""
    peeked = Peeked(stream, on_progress)
    kind = kind_of(peeked.head)
    if kind == "gzip":
        inner = Peeked(cast(BinaryIO, _Gunzip(peeked, source)))
        kind = kind_of(inner.head)
        if kind in ("gzip", "zip"):
            raise InputError(source, f"a {kind} inside a gzip file: unpack it first")
        return kind, cast(BinaryIO, inner)
    if kind == "zip":
        raise InputError(source, "a zip archive: give the archive's path to hrviz ingest/watch, or upload it whole")
    if kind == "xml":
        raise InputError(source, "an XML file that is not TCX, GPX or an Apple Health export")
    return kind, cast(BinaryIO, peeked)


def read_kind(
    kind: str,
    stream: BinaryIO,
    source: str,
    *,
    subject: str | None,
    window: tuple[float | None, float | None],
) -> list[Series]:
    """Read a non-CSV file into one :class:`Series` per subject (see docs/formats.md)."""
    if kind == FIT:
        from hrviz.core.reader.fit import read_fit

        found = read_fit(stream, source)
    elif kind in (TCX, GPX):
        from hrviz.core.reader.tracks import read_track

        found = read_track(stream, source, kind)
    elif kind == APPLE:
        from hrviz.core.reader.apple import read_apple

        found = read_apple(stream, source, window)
    else:
        from hrviz.core.reader.takeout import read_takeout

        found = read_takeout(stream, source)
    for s in found:
        total = s.rows + s.skipped
        if s.skipped > max(BAD_ROWS_TOLERATED, BAD_SHARE * total) or s.skipped > BAD_SHARE_MAX * total:
            raise InputError(source, f"{s.skipped} of {total} readings have a time outside 1980–2099")
    found = [clip(s, window) for s in found]
    if subject is not None:
        picked = [s for s in found if s.subject == subject]
        if not picked:
            names = ", ".join(repr(s.subject) for s in found if s.subject is not None)
            has = f"the file has {names}" if names else "the file has one unnamed subject"
            raise InputError(source, f"unknown subject {subject!r}: {has}")
        found = picked
    found = [s for s in found if len(s)]
    if not found:
        where = " in the --since/--until window" if window != (None, None) else ""
        raise InputError(source, f"no heart-rate readings{where}")
    return found


def clip(series: Series, window: tuple[float | None, float | None]) -> Series:
    """Only the readings within [since, until) (either end open when None)."""
    since, until = window
    if since is None and until is None:
        return series
    from bisect import bisect_left

    lo = 0 if since is None else bisect_left(series.ts, since)
    hi = len(series.ts) if until is None else bisect_left(series.ts, until)
    kept = hi - lo
    series.rows -= len(series.ts) - kept
    series.ts, series.bpm = series.ts[lo:hi], series.bpm[lo:hi]
    return series
