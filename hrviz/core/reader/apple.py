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
from hrviz.core.reader.parse import MAX_SUBJECTS, too_many_subjects
from hrviz.core.reader.points import add
from hrviz.core.reader.tracks import malformed
from hrviz.core.series import Series

HEART_RATE = "HKQuantityTypeIdentifierHeartRate"


def _hour(text: str) -> tuple[float, int]:
    """(unix seconds of the hour, UTC offset in minutes) of Apple's ``2019-01-01 10:00:00 +0100``."""
    zone = text[19:].strip()
    minutes = 0
    if zone:
        minutes = (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 60 + int(zone[3:5]))
    dt = datetime.strptime(text[:13], "%Y-%m-%d %H").replace(tzinfo=timezone(timedelta(minutes=minutes)))
    return dt.timestamp(), minutes


def read_apple(stream: BinaryIO, source: str, window: tuple[float | None, float | None]) -> list[Series]:
    """One series per ``sourceName``, in order of first appearance, clipped to ``window`` as read."""
    since = -math.inf if window[0] is None else window[0]
    until = math.inf if window[1] is None else window[1]
    hours: dict[str, tuple[float, int]] = {}  # "2019-01-01 10" + zone → parsed once per hour
    subjects: dict[str, Collector] = {}
    offsets: dict[str, int] = {}
    records = 0
    open_: list[ET.Element] = []  # HealthData, then the elements being read inside it
    push, pop = open_.append, open_.pop
    nan, inf = math.nan, math.inf
    try:
        for event, elem in ET.iterparse(stream, events=("start", "end")):
            if event == "start":
                push(elem)
                continue
            pop()
            if len(open_) != 1:  # nested in a record (or the root): dropped once read, so that one
                if open_:  # element of millions of children cannot hold them all
                    del open_[-1][:]
                continue
            if elem.tag == "Record" and elem.get("type") == HEART_RATE:
                # The hot loop of a multi-GB export: inlined, one dict lookup per timestamp.
                records += 1
                attrs = elem.attrib
                start = attrs.get("startDate") or ""
                try:
                    hour = hours.get(start[:13] + start[19:])
                    if hour is None:
                        hour = hours[start[:13] + start[19:]] = _hour(start)
                    t = hour[0] + int(start[14:16]) * 60 + int(start[17:19])
                    bpm = float(attrs["value"])
                except (ValueError, KeyError, IndexError):
                    shown = f"startDate={start!r} value={attrs.get('value')!r}"
                    raise InputError(source, f"unreadable heart-rate record: {shown}") from None
                if since <= t < until:
                    name = attrs.get("sourceName") or "Apple Health"
                    c = subjects.get(name)
                    if c is None:
                        if len(subjects) >= MAX_SUBJECTS:
                            raise InputError(source, too_many_subjects())
                        c = subjects[name] = Collector(name)
                        offsets[name] = hour[1]
                    add(c, t, bpm if 0 < bpm < inf else nan)  # 1e999 is inf: missing, never stored
            del open_[0][:]  # each child of HealthData is dropped once read
    except ET.ParseError as err:
        raise malformed(err, source, f"malformed Apple Health XML: {err}") from None
    if not subjects:
        if records:
            raise InputError(source, f"none of its {records:,} heart-rate records is in the --since/--until window")
        raise InputError(source, f"no heart rate in this Apple Health export (no {HEART_RATE} record)")
    return [c.finish(offsets[name]) for name, c in subjects.items()]
