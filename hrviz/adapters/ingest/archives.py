"""Paths that hold several files — a zip archive, a folder — opened member by member for the reader.

A Strava bulk export's ``activities/`` (FIT, ``.fit.gz``, GPX, TCX), a folder or zip of Takeout's
``heart_rate-*.json``: one session per file, named ``archive.zip/member`` (or ``folder/file``).
Members that are not heart-rate files (a profile CSV, photos) or that are refused are skipped and
reported; the archive is refused only when nothing in it could be read. Apple Health's
``export.zip`` is read as its ``export.xml`` alone (its workout routes, GPX without heart rate, and
``export_cda.xml`` are not readings). Single files and gzip are the reader's own business.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from hrviz.core.errors import InputError
from hrviz.core.ingest import Ingested, IngestOptions, ingest
from hrviz.core.ports import SessionStore
from hrviz.core.reader.formats import ZIP_MAGIC

APPLE_EXPORT = "export.xml"
T = TypeVar("T")


@dataclass(slots=True)
class Member:
    source: str  # the session's source name
    share: float  # its part of the path's size on disk, for the progress bar
    length: int  # the bytes the reader will consume (uncompressed)
    open: Callable[[], BinaryIO]


def is_archive(path: Path) -> bool:
    if path.is_dir():
        return True
    with path.open("rb") as fh:
        return fh.read(4) == ZIP_MAGIC


def members(path: Path, source: str) -> Iterator[Member]:
    """The files inside a folder (recursively, hidden ones left out) or a zip archive, by name."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
        total = sum(p.stat().st_size for p in files) or 1
        for p in files:
            length = p.stat().st_size
            yield Member(f"{source}/{p.relative_to(path).as_posix()}", length / total, length, _opener(p))
        return
    try:
        archive = zipfile.ZipFile(path)
    except DAMAGE as err:
        raise InputError(source, f"broken zip archive: {err}") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and not _hidden(Path(i.filename))]
        apple = [i for i in infos if Path(i.filename).name == APPLE_EXPORT]
        if apple:
            infos = apple[:1]
        total = sum(i.compress_size for i in infos) or 1
        for info in infos:
            share = info.compress_size / total
            yield Member(
                f"{source}/{info.filename}",
                share,
                info.file_size,
                _member_opener(archive, info, f"{source}/{info.filename}"),
            )


def _opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


def _member_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> Callable[[], BinaryIO]:
    return lambda: _MemberStream(archive, info, source)  # type: ignore[return-value]  # read() is all readers use


# What zipfile raises for a damaged, encrypted or exotic member, at open or at any read (a bad CRC
# at its end, a corrupt deflate/LZMA/bzip2 stream, an unknown method, a seek past a cut archive).
DAMAGE = (
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)


class _MemberStream:
    """A member, read as it is needed; its damage is an InputError naming it (the member is then
    skipped like any unreadable file), never an unexpected error that ends the whole ingest."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> None:
        self._source = source
        self._file = self._guard(lambda: archive.open(info))

    def _guard(self, step: Callable[[], T]) -> T:
        try:
            return step()
        except DAMAGE as err:
            text = str(err)
            why = "encrypted: password-protected members cannot be read" if "encrypted" in text else text
            raise InputError(self._source, f"unreadable zip member: {why or type(err).__name__}") from None

    def read(self, size: int = -1) -> bytes:
        return self._guard(lambda: self._file.read(size))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> _MemberStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.parts)


def ingest_archive(
    path: Path,
    source: str,
    store: SessionStore,
    options: IngestOptions,
    on_progress: Callable[[int], None] | None = None,
) -> Ingested:
    """Ingest every readable member; raises InputError (nothing stored) when none is readable."""
    size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    done = 0.0
    result = Ingested()
    for member in members(path, source):
        progress = None
        if on_progress is not None:
            progress = _scaled(on_progress, done, member.share * size, member.length)
        try:
            with member.open() as stream:
                result.sessions += ingest(stream, member.source, store, options, progress)
        except InputError as err:
            result.skipped.append(
                (member.source, err.message if err.line is None else f"line {err.line}: {err.message}")
            )
        done += member.share * size
    if not result.sessions:
        if len(result.skipped) == 1:
            raise InputError(*result.skipped[0])
        why = "; ".join(f"{name}: {reason}" for name, reason in result.skipped[:3]) or "it is empty"
        raise InputError(source, f"no heart-rate file in it ({why})")
    return result


def _scaled(on_progress: Callable[[int], None], before: float, share: float, length: int) -> Callable[[int], None]:
    """Member progress (its own, uncompressed bytes) as progress through the archive's bytes on disk."""

    def report(consumed: int) -> None:
        on_progress(int(before + share * min(1.0, consumed / max(1, length))))

    return report


def ingest_path(
    path: Path,
    store: SessionStore,
    options: IngestOptions,
    on_progress: Callable[[int], None] | None = None,
    *,
    parallel: bool = True,
    source: str | None = None,
) -> Ingested:
    """What every caller (ingest, watch, serve's upload) ingests a path with: a file, a zip, a folder."""
    name = source if source is not None else str(path)
    if is_archive(path):
        return ingest_archive(path, name, store, options, on_progress)
    from hrviz.adapters.ingest.reader_process import ingest_file

    return Ingested(ingest_file(path, store, options, on_progress, parallel=parallel, source=name))
