"""Small GPX, TCX, Apple Health and Google Takeout Fitbit files built from real readings.

The readings come from the decoded-record dumps of real FIT files (shared/data/fit/*-records.csv,
read here with the csv module, not by hrviz), so what a test expects never depends on the reader
it checks. ``apple_export`` also writes the multi-GB exports of the benchmark, streamed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

Reading = tuple[float, float]  # (unix seconds, bpm)
ZONES = {"PDT": -7, "PST": -8, "UTC": 0}


def fit_dump(path: Path) -> list[Reading]:
    """(ts, bpm) of a records dump's rows with a non-zero heart rate: first of each second, in time order."""
    seen: dict[float, float] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["heart_rate"] or float(row["heart_rate"]) == 0:
                continue
            parts = row["timestamp"].split()  # "Sun Jun 11 07:34:09 PDT 2017"
            local = datetime.strptime(f"{parts[1]} {parts[2]} {parts[3]} {parts[5]}", "%b %d %H:%M:%S %Y")
            t = local.replace(tzinfo=timezone(timedelta(hours=ZONES[parts[4]]))).timestamp()
            seen.setdefault(t, float(row["heart_rate"]))
    return [(t, seen[t]) for t in sorted(seen)]


def iso(t: float, offset_min: int = 0, z: bool = True) -> str:
    dt = datetime.fromtimestamp(t, timezone(timedelta(minutes=offset_min)))
    text = dt.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if z else text


def gpx(readings: Sequence[Reading], prefix: str = "gpxtpx", without_hr_every: int = 0, tracks: int = 1) -> bytes:
    """A GPX 1.1 file as Garmin Connect writes it; every ``without_hr_every``-th point has no heart rate."""
    ns = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<gpx creator="Garmin Connect" version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:{prefix}="{ns}">\n',
        "<metadata><time>" + iso(readings[0][0]) + "</time></metadata>\n",
    ]
    per_track = -(-len(readings) // tracks)
    for k in range(tracks):
        out.append("<trk><name>Ride</name><trkseg>\n")
        for i, (t, bpm) in enumerate(readings[k * per_track : (k + 1) * per_track], start=k * per_track):
            hr = "" if without_hr_every and i % without_hr_every == 0 else f"<{prefix}:hr>{bpm:g}</{prefix}:hr>"
            ext = f"<extensions><{prefix}:TrackPointExtension><{prefix}:atemp>21.0</{prefix}:atemp>{hr}</{prefix}:TrackPointExtension></extensions>"
            out.append(f'<trkpt lat="49.5" lon="-8.7"><ele>278.2</ele><time>{iso(t)}</time>{ext}</trkpt>\n')
        out.append("</trkseg></trk>\n")
    out.append("</gpx>\n")
    return "".join(out).encode()


def takeout_json(readings: Sequence[Reading]) -> bytes:
    """Google Takeout's Fitbit ``heart_rate-YYYY-MM-DD.json``: UTC ``MM/DD/YY HH:MM:SS`` times."""
    entries = [
        {
            "dateTime": datetime.fromtimestamp(t, UTC).strftime("%m/%d/%y %H:%M:%S"),
            "value": {"bpm": int(b), "confidence": 2},
        }
        for t, b in readings
    ]
    return json.dumps(entries, separators=(",", ":")).encode()


APPLE_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-04-01 09:00:00 +0200"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>
"""
DEVICE = "&lt;&lt;HKDevice: 0x283f5c0f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.3.1&gt;"


def apple_date(t: float, offset_min: int) -> str:
    dt = datetime.fromtimestamp(t, timezone(timedelta(minutes=offset_min)))
    sign = "-" if offset_min < 0 else "+"
    return dt.strftime("%Y-%m-%d %H:%M:%S ") + f"{sign}{abs(offset_min) // 60:02d}{abs(offset_min) % 60:02d}"


def apple_records(out: TextIO, source: str, readings: Iterable[Reading], offset_min: int, steps: bool = True) -> int:
    """Heart-rate records of one device (each followed by a step-count record, as exports interleave types)."""
    n = 0
    name = quoteattr(source)
    for t, bpm in readings:
        d = apple_date(t, offset_min)
        out.write(
            f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName={name} sourceVersion="10.3.1" device="{DEVICE}" '
            f'unit="count/min" creationDate="{d}" startDate="{d}" endDate="{d}" value="{bpm:g}">\n'
            '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
        )
        if steps:
            out.write(
                f' <Record type="HKQuantityTypeIdentifierStepCount" sourceName={name} sourceVersion="10.3.1" '
                f'unit="count" creationDate="{d}" startDate="{d}" endDate="{d}" value="12"/>\n'
            )
        n += 1
    return n


def apple_export(out: TextIO, devices: dict[str, Sequence[Reading]], offset_min: int = 120) -> int:
    """A whole export.xml: the DTD, each device's records, a workout, an activity summary."""
    out.write(APPLE_HEAD)
    n = sum(apple_records(out, source, readings, offset_min) for source, readings in devices.items())
    out.write(
        ' <Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" sourceName="Apple Watch" unit="ms" '
        'startDate="2024-03-31 10:00:00 +0200" endDate="2024-03-31 10:01:00 +0200" value="41.2">\n'
        "  <HeartRateVariabilityMetadataList>\n"
        '   <InstantaneousBeatsPerMinute bpm="250" time="10:00:01.00 AM"/>\n'
        "  </HeartRateVariabilityMetadataList>\n </Record>\n"
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" '
        f'sourceName={quoteattr(escape("Apple Watch"))} startDate="2024-03-31 10:00:00 +0200" endDate="2024-03-31 10:30:00 +0200"/>\n'
        ' <ActivitySummary dateComponents="2024-03-31" activeEnergyBurned="400"/>\n'
        "</HealthData>\n"
    )
    return n
