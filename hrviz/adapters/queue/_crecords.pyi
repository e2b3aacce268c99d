"""C twin of RecordEncoder's batch encoding (see _crecords.c); None: not the plain case."""

from collections.abc import Callable

def records(
    prefix: str,
    first_seq: int,
    ts: list[float],
    bpm: list[float],
    marks: dict[int, tuple[bool, tuple[str, ...]]],
    suffix: str,
    offset_s: int,
    iso_t: Callable[[float], str],
    kinds_json: Callable[[tuple[str, ...]], str],
    /,
) -> list[str] | None: ...
def block(
    prefix: str,
    first_seq: int,
    ts: list[float],
    bpm: list[float],
    marks: dict[int, tuple[bool, tuple[str, ...]]],
    suffix: str,
    offset_s: int,
    iso_t: Callable[[float], str],
    kinds_json: Callable[[tuple[str, ...]], str],
    /,
) -> bytes | None: ...
