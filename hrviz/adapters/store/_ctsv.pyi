"""C twin of :func:`hrviz.adapters.store.rows.tsv_python` (see _ctsv.c); None: not the plain case."""

def tsv(
    first_seq: int, ts: list[float], bpm: list[float], marks: dict[int, tuple[bool, tuple[str, ...]]], /
) -> bytes | None: ...
