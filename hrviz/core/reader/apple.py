"""Apple Health ``export.xml``: ``HKQuantityTypeIdentifierHeartRate`` records, one subject per device.

The export is often several GB: it is streamed with ``iterparse`` and every element is cleared
(and dropped from the root) as soon as it is read, so memory holds only the readings kept (16 bytes
each). Every other record type, workouts, metadata entries, the beat-to-beat lists of HRV records
and ``ActivitySummary`` are ignored. ``sourceName`` (``Jane's Apple Watch``, ``Polar H10``, …) is the
subject: readings from different devices at the same time are separate series, never mixed.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import BinaryIO
from xml.etree import ElementTree as ET

from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.points import add
from hrviz.core.series import Series

HEART_RATE = "HKQuantityTypeIdentifierHeartRate"


class _Clock:
    """Apple's ``2019-01-01 10:00:00 +0100`` as unix seconds; the hour and offset are parsed once."""

    def __init__(self) -> None:
        self._hours: dict[str, float] = {}

    def __call__(self, text: str) -> tuple[float, int]:
        key = text[:13] + text[19:]
        base = self._hours.get(key)
        if base is None:
            dt = datetime.strptime(text[:13], "%Y-%m-%d %H").replace(tzinfo=timezone(self.offset(text)))
            base = self._hours[key] = dt.timestamp()
        return base + int(text[14:16]) * 60 + int(text[17:19]), int(self.offset(text).total_seconds() // 60)

    @staticmethod
    def offset(text: str) -> timedelta:
        zone = text[19:].strip()
        if not zone:
            return timedelta(0)
        sign = -1 if zone[0] == "-" else 1
        return sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))


def read_apple(stream: BinaryIO, source: str, window: tuple[float | None, float | None]) -> list[Series]:
    """One series per ``sourceName``, in order of first appearance, clipped to ``window`` as read."""
    since = -math.inf if window[0] is None else window[0]
    until = math.inf if window[1] is None else window[1]
    clock = _Clock()
    subjects: dict[str, Collector] = {}
    offsets: dict[str, int] = {}
    records = 0
    root: ET.Element | None = None
    depth = 0
    try:
        for event, elem in ET.iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = elem  # HealthData: each of its children is dropped once read
                continue
            depth -= 1
            if depth != 1:
                continue
            if elem.tag == "Record" and elem.get("type") == HEART_RATE:
                records += 1
                _add(elem, clock, subjects, offsets, since, until, source)
            root.clear()  # type: ignore[union-attr]  # set by the first start event
    except ET.ParseError as err:
        line = err.position[0] if err.position else None
        raise InputError(source, f"malformed Apple Health XML: {err}", line) from None
    if not subjects:
        if records:
            raise InputError(source, f"none of its {records:,} heart-rate records is in the --since/--until window")
        raise InputError(
            source, "no heart rate in this Apple Health export (no HKQuantityTypeIdentifierHeartRate record)"
        )
    return [c.finish(offsets[name]) for name, c in subjects.items()]


def _add(
    elem: ET.Element,
    clock: _Clock,
    subjects: dict[str, Collector],
    offsets: dict[str, int],
    since: float,
    until: float,
    source: str,
) -> None:
    attrs = elem.attrib
    start = attrs.get("startDate")
    try:
        t, offset = clock(start)  # type: ignore[arg-type]
        bpm = float(attrs["value"])
    except (TypeError, ValueError, KeyError, IndexError):
        raise InputError(
            source, f"unreadable heart-rate record: startDate={start!r} value={attrs.get('value')!r}"
        ) from None
    if not since <= t < until:
        return
    name = attrs.get("sourceName") or "Apple Health"
    c = subjects.get(name)
    if c is None:
        c = subjects[name] = Collector(name)
        offsets[name] = offset
    add(c, t, bpm if bpm > 0 else math.nan)
