"""The detector's calm path in C (hrviz/core/_cdetect.c); driven by hrviz/core/columns.py."""

from array import array

from hrviz.core.cadence import Cadence

def calm(
    ts: array,
    bpm: array,
    start: int,
    stop: int,
    cadence: Cadence,
    last: float,
    lo: float,
    hi: float,
    fb: float | None,
    fs: float,
    fe: float,
    fc: int,
    low: float,
    high: float,
    delta: float,
    flat_short: int,
    keep_runs: int,
    /,
) -> tuple[int, float, float, float | None, float, float, int, tuple[int, ...]]: ...
