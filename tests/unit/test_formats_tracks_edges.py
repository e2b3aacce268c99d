"""TCX and GPX track points one by one: which are readings, the times and their zone, the exact
message for a file without a usable point, and elements dropped once read (constant memory)."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.reader.tracks import local, parse_iso

T0 = 1_704_103_200  # 2024-01-01T10:00:00Z


def tcx(*points: str, ns: str = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2") -> bytes:
    body = "".join(points)
    return (
        f'<?xml version="1.0"?>\n<TrainingCenterDatabase xmlns="{ns}">\n<Activities><Activity><Lap><Track>\n'
        f"{body}\n</Track></Lap></Activity></Activities>\n</TrainingCenterDatabase>"
    ).encode()


def tp(time: str | None, hr: str | None) -> str:
    when = f"<Time>{time}</Time>" if time is not None else ""
    rate = f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>" if hr is not None else ""
    return f"<Trackpoint>{when}{rate}</Trackpoint>"


def gpx(*points: str) -> bytes:
    return (
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"><trk><trkseg>'
        + "".join(points)
        + "</trkseg></trk></gpx>"
    ).encode()


def trkpt(time: str, hr: str) -> str:
    return (
        f'<trkpt lat="1" lon="2"><time>{time}</time><extensions><gpxtpx:TrackPointExtension>'
        f"<gpxtpx:hr>{hr}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>"
    )


def read(data: bytes, name: str = "run.tcx"):
    (series,) = read_series(io.BytesIO(data), name)
    return series


def refusal(data: bytes, name: str = "run.tcx") -> str:
    with pytest.raises(InputError) as err:
        read_series(io.BytesIO(data), name)
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T10:00:00Z", (T0, 0)),
        ("2024-01-01T10:00:00", (T0, 0)),  # no zone: UTC, never the machine's zone
        (" 2024-01-01T12:00:00+02:00\n", (T0, 120)),
        ("2024-01-01T04:30:00-05:30", (T0, -330)),
        ("2024-01-01T10:00:00.250Z", (T0 + 0.25, 0)),
    ],
)
def test_parse_iso_gives_unix_seconds_and_the_offset_in_minutes(text: str, expected: tuple[float, int]) -> None:
    assert parse_iso(text) == expected


@pytest.mark.usefixtures("new_york_machine")
def test_a_time_without_a_zone_is_utc_whatever_the_machines_zone() -> None:
    assert parse_iso("2024-01-01T10:00:00") == (T0, 0)
    assert read(tcx(tp("2024-01-01T10:00:00", "60"))).tz_offset_min == 0


@pytest.mark.parametrize(
    ("tag", "name"),
    [("Trackpoint", "Trackpoint"), ("{urn:a}Trackpoint", "Trackpoint"), ("{urn:a}b}Trackpoint", "Trackpoint")],
)
def test_local_drops_the_namespace_up_to_its_closing_brace(tag: str, name: str) -> None:
    # a "}" inside a namespace URI cannot be told from the end of it: the tag is what follows the last one
    assert local(tag) == name


def test_a_point_is_a_reading_when_its_heart_rate_is_a_positive_finite_number() -> None:
    points = [
        tp("2024-01-01T10:00:00Z", "abc"),  # not a number
        tp("2024-01-01T10:00:01Z", "0"),
        tp("2024-01-01T10:00:02Z", "1"),
        tp("2024-01-01T10:00:03Z", "-5"),
        tp("2024-01-01T10:00:04Z", "inf"),
        tp("2024-01-01T10:00:05Z", "nan"),
        tp("2024-01-01T10:00:06Z", "61"),
        "<Trackpoint><Time>2024-01-01T10:00:07Z</Time><HeartRateBpm/></Trackpoint>",  # HeartRateBpm without Value
        tp("2024-01-01T10:00:08Z", None),
        tp("2024-01-01T10:00:09Z", "62.5"),
    ]
    series = read(tcx(*points))
    assert list(series.ts) == [T0 + 2, T0 + 6, T0 + 9]
    assert list(series.bpm) == [1.0, 61.0, 62.5]


def test_a_point_with_an_unreadable_time_is_skipped_and_the_rest_read() -> None:
    series = read(tcx(tp("yesterday", "60"), tp("2024-01-01T10:00:01Z", "61")))
    assert list(series.ts) == [T0 + 1] and list(series.bpm) == [61.0]


def test_the_session_takes_the_first_points_utc_offset() -> None:
    first = tp("2024-01-01T12:00:00+02:00", "60")
    second = tp("2024-01-01T13:00:01+03:00", "61")
    series = read(tcx(first, second))
    assert list(series.ts) == [T0, T0 + 1]
    assert series.tz_offset_min == 120


def test_a_gpx_heart_rate_in_the_track_point_extension_with_its_zone() -> None:
    series = read(gpx(trkpt("2024-01-01T09:00:00-01:00", "70"), trkpt("2024-01-01T10:00:02Z", "0")), "ride.gpx")
    assert list(series.ts) == [T0] and list(series.bpm) == [70.0]
    assert series.tz_offset_min == -60


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (tcx(), "run.tcx", "no heart rate in this TCX file (it has no track points)"),
        (
            tcx(tp("2024-01-01T10:00:00Z", None), tp(None, None)),
            "run.tcx",
            "no heart rate in this TCX file (none of its 2 track points has a heart rate)",
        ),
        (
            tcx(tp(None, "60"), tp(None, "61"), tp("2024-01-01T10:00:00Z", None)),
            "run.tcx",
            "none of its 2 track points with a heart rate has a <Time>",
        ),
        (
            tcx(tp("1970-01-01T00:00:00Z", "60"), tp("2100-01-01T00:00:00Z", "61")),
            "run.tcx",
            "all 2 of its points with a heart rate have times outside 1980–2099",
        ),
        (
            tcx(tp(" yesterday ", "60"), tp("today", "61"), tp(None, "62")),
            "run.tcx",
            "no readable TCX point time (e.g. 'yesterday')",
        ),
        (gpx(trkpt("noon", "60")), "ride.gpx", "no readable GPX point time (e.g. 'noon')"),
        (
            b'<?xml version="1.0"?>\n<TrainingCenterDatabase>\n<Activities>\n  <Lap></Activity>\n',
            "run.tcx",
            "malformed TCX XML: mismatched tag: line 4, column 9",
        ),
    ],
    ids=[
        "no-points",
        "no-heart-rate",
        "no-time",
        "times-out-of-range",
        "unreadable-time",
        "gpx-unreadable-time",
        "broken",
    ],
)
def test_a_track_without_a_usable_point_is_refused_saying_why(data: bytes, name: str, message: str) -> None:
    line = ", line 4" if message.startswith("malformed") else ""
    assert refusal(data, name) == f"{name}{line}: {message}"


def peak_while_reading(data: bytes, name: str) -> tuple[int, float]:
    tracemalloc.start()
    try:
        series = read(data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, series.bpm[0]


POINTS = 1_000  # 0.5-0.9 MB at peak if they were all kept; under 0.25 MB when each is dropped once read


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("points.tcx", tcx(*[tp("2024-01-01T10:00:00Z", "70")] * POINTS)),
        ("points.gpx", gpx(*[trkpt("2024-01-01T10:00:00Z", "70")] * POINTS)),
        (
            "waypoints.gpx",
            gpx(trkpt("2024-01-01T10:00:00Z", "70")).replace(
                b"</gpx>", b'<wpt lat="1" lon="2"><name>x</name><desc>y</desc></wpt>' * POINTS + b"</gpx>"
            ),
        ),
    ],
)
def test_points_and_other_elements_are_dropped_once_read(name: str, data: bytes) -> None:
    peak, bpm = peak_while_reading(data, name)
    assert bpm == 70.0
    assert peak < 400_000, f"{peak:,} bytes at peak for {len(data):,} bytes of XML"
