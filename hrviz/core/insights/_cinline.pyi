"""C twin of :func:`hrviz.core.insights.batch.fold_inline` (``_cinline.c``)."""

from hrviz.core.insights.summary import Minute, SummaryBuilder
from hrviz.core.model import Reading

def fold_inline(
    b: SummaryBuilder,
    ts: list[float],
    bpm: list[float],
    lo: int,
    hi: int,
    first: int,
    cap: float,
    reading_type: type[Reading],
    minute_type: type[Minute],
    /,
) -> bool | None: ...
