"""C twin of :func:`hrviz.core.insights.batch.fold_plain` (``_cfold.c``)."""

from hrviz.core.insights.batch import Tracks
from hrviz.core.insights.summary import Minute, SummaryBuilder

def fold_plain(
    b: SummaryBuilder,
    ts: list[float],
    bpm: list[float],
    lo: int,
    hi: int,
    prev_ts: float,
    prev_bpm: float,
    cap: float,
    tracks: Tracks,
    minute_type: type[Minute],
    /,
) -> bool | None: ...
