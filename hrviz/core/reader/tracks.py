"""TCX and GPX tracks: each track point's time and heart rate, whatever the namespace prefixes.

TCX: ``Trackpoint/Time`` and ``Trackpoint/HeartRateBpm/Value``. GPX: ``trkpt/time`` and the heart
rate of Garmin's TrackPointExtension (``gpxtpx:hr``, or ``ns3:hr`` — any prefix) or Cluetrust's
``gpxdata:hr``/``heartrate``. Laps, tracks, segments and activities all become one session; points
without a heart rate are not readings; lap averages and maxima are ignored. Streamed with
``iterparse``: every element (a point, a waypoint, a lap) is dropped from the tree once read, so a
file of millions of them (a 1 MB gzip of 7.5M waypoints) is read in constant memory.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from xml.etree import ElementTree as ET

from hrviz.core.errors import InputError
from hrviz.core.reader.collect import Collector
from hrviz.core.reader.points import add
from hrviz.core.series import Series

POINT = {"tcx": "Trackpoint", "gpx": "trkpt"}
TIME = {"tcx": "Time", "gpx": "time"}
HR_TAGS = {"hr", "heartrate"}  # GPX extension names; TCX uses HeartRateBpm/Value


def local(tag: str) -> str:
    """The tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def parse_iso(text: str) -> tuple[float, int]:
    """(unix seconds, UTC offset in minutes) of an ISO-8601 time; a time without a zone is UTC."""
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    offset = dt.utcoffset() or timedelta(0)
    return dt.timestamp(), int(offset.total_seconds() // 60)


def malformed(err: ET.ParseError, source: str, message: str) -> InputError:
    """The InputError for a parse error, holding no reference to it: the ParseError's traceback holds
    the parser and everything it built (60 MB for an entity "billion laughs" stopped by expat), and a
    chained exception would keep that alive in a reference cycle until the next full collection."""
    line = err.position[0] if err.position else None
    err.__traceback__ = None
    return InputError(source, message, line)


def read_track(stream: BinaryIO, source: str, kind: str) -> list[Series]:
    """One series of every point with both a time and a heart rate."""
    point, time_tag = POINT[kind], TIME[kind]
    c = Collector(None)
    points = 0
    tz: int | None = None
    bad_time: str | None = None
    untimed = 0  # points with a heart rate but no time at all
    open_: list[ET.Element] = []  # the elements being read, outermost first
    in_point = 0  # open points: their children are kept until the point ends
    try:
        for event, elem in ET.iterparse(stream, events=("start", "end")):
            if event == "start":
                open_.append(elem)
                in_point += local(elem.tag) == point
                continue
            open_.pop()
            if local(elem.tag) != point:
                if not in_point and open_:  # read and done with: dropped from the tree (waypoints,
                    open_[-1].remove(elem)  # laps, a bomb of them), so memory does not grow with the file
                continue
            in_point -= 1
            if not in_point and open_:
                open_[-1].remove(elem)
            points += 1
            when = hr = None
            for child in elem.iter():
                name = local(child.tag)
                if name == time_tag:
                    when = child.text
                elif kind == "tcx" and name == "HeartRateBpm":
                    value = next((v.text for v in child if local(v.tag) == "Value"), None)
                    hr = value
                elif kind == "gpx" and name.lower() in HR_TAGS:
                    hr = child.text
            if when is None or hr is None:
                untimed += when is None and hr is not None
                continue
            try:
                bpm = float(hr)
            except ValueError:
                continue
            if not math.isfinite(bpm) or bpm <= 0:
                continue
            try:
                t, offset = parse_iso(when)
            except ValueError:
                bad_time = bad_time or when.strip()
                continue
            if tz is None:
                tz = offset
            add(c, t, bpm)
    except ET.ParseError as err:
        raise malformed(err, source, f"malformed {kind.upper()} XML: {err}") from None
    if not c.rows:
        if c.skipped:
            raise InputError(source, f"all {c.skipped:,} of its points with a heart rate have times outside 1980–2099")
        if bad_time is not None:
            raise InputError(source, f"no readable {kind.upper()} point time (e.g. {bad_time!r})")
        if untimed:
            raise InputError(source, f"none of its {untimed:,} track points with a heart rate has a <{time_tag}>")
        what = f"none of its {points:,} track points has a heart rate" if points else "it has no track points"
        raise InputError(source, f"no heart rate in this {kind.upper()} file ({what})")
    return [c.finish(tz or 0)]  # tz is the first kept point's
