"""The detector's calm path in C (hrviz/core/_cdetect.c); driven by hrviz/core/columns.py."""

from array import array

from hrviz.core.detector import Detector

def calm(
    detector: Detector,
    ts: array,
    bpm: array,
    start: int,
    stop: int,
    batch_ts: list[float],
    batch_bpm: list[float],
    limits: tuple[float, float, float, int, float],
    /,
) -> int: ...
