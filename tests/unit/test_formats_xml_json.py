"""TCX (real files), GPX, Apple Health and Google Takeout Fitbit JSON (generated from real readings)."""

from __future__ import annotations

import gzip
import io
import re
from datetime import datetime

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader import read_series
from hrviz.core.reader.formats import kind_of
from tests.generate import apple_export, fit_dump, gpx, takeout_json
from tests.real_data import FIT, TCX

needs_data = pytest.mark.skipif(not (FIT.is_dir() and TCX.is_dir()), reason="needs shared/data/fit and shared/data/tcx")


def read(data: bytes, name: str = "x", **kw):
    return read_series(io.BytesIO(data), name, **kw)


def run():
    return fit_dump(FIT / "garmin-fenix-5-run-records.csv")


# -- TCX ---------------------------------------------------------------------------------------


def tcx_points(text: str) -> list[tuple[float, float]]:
    """The file's points with a heart rate, found with regular expressions (not with the reader)."""
    found: dict[float, float] = {}
    for block in re.findall(r"<Trackpoint>(.*?)</Trackpoint>", text, re.S):
        when = re.search(r"<Time>([^<]+)</Time>", block)
        hr = re.search(r"<HeartRateBpm>\s*<Value>([^<]+)</Value>", block)
        if when and hr:
            t = datetime.fromisoformat(when.group(1).replace("Z", "+00:00")).timestamp()
            found.setdefault(t, float(hr.group(1)))
    return sorted(found.items())


@needs_data
@pytest.mark.parametrize(("name", "count"), [("tcxparser_test.tcx", 383), ("tcxreader_sup_activity_1.tcx", 111)])
def test_real_tcx_files_give_every_point_with_a_heart_rate(name: str, count: int) -> None:
    data = (TCX / name).read_bytes()
    (series,) = read(data, name)
    expected = tcx_points(data.decode())
    assert len(expected) == count == series.rows
    assert list(zip(series.ts, series.bpm, strict=True)) == expected
    assert series.tz_offset_min == 0


@needs_data
def test_a_tcx_without_heart_rate_is_refused() -> None:
    with pytest.raises(
        InputError, match=r"tcxparser_no_hr.tcx: no heart rate in this TCX file \(none of its 384 track points"
    ):
        read((TCX / "tcxparser_no_hr.tcx").read_bytes(), "tcxparser_no_hr.tcx")


@needs_data
def test_a_tcx_with_another_namespace_prefix_and_gzip_reads_the_same() -> None:
    text = (TCX / "tcxparser_test.tcx").read_text()
    prefixed = re.sub(r"<(/?)(?!\?)([A-Za-z])", r"<\1tcd:\2", text).replace(
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"',
        'xmlns:tcd="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"',
    )
    assert "<tcd:TrainingCenterDatabase" in prefixed and kind_of(prefixed.encode()) == "tcx"
    (plain,) = read(text.encode())
    (other,) = read(gzip.compress(prefixed.encode()), "a.tcx.gz")
    assert list(plain.ts) == list(other.ts) and list(plain.bpm) == list(other.bpm)


# -- GPX ---------------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("prefix", ["gpxtpx", "ns3"])
def test_gpx_heart_rates_from_the_track_point_extension_any_prefix_and_tracks(prefix: str) -> None:
    readings = run()
    (series,) = read(gpx(readings, prefix=prefix, without_hr_every=5, tracks=2), "ride.gpx")
    kept = [r for i, r in enumerate(readings) if i % 5]
    assert list(zip(series.ts, series.bpm, strict=True)) == kept


@needs_data
def test_a_gpx_without_any_heart_rate_is_refused() -> None:
    with pytest.raises(InputError, match="no heart rate in this GPX file \\(none of its 21 track points"):
        read(gpx(run(), without_hr_every=1), "route.gpx")


def test_a_csv_whose_header_starts_with_a_tag_is_still_a_csv() -> None:
    assert kind_of(b"<img src=x>,<b>bold</b>\n1,2\n") == "csv"
    assert kind_of(b"<?xml version='1.0'?><kml/>") == "xml"


def test_an_unknown_xml_and_broken_xml_are_refused() -> None:
    with pytest.raises(InputError, match="an XML file that is not TCX, GPX or an Apple Health export"):
        read(b"<?xml version='1.0'?><kml><Document/></kml>", "a.kml")
    with pytest.raises(InputError, match="malformed GPX XML"):
        read(b"<gpx><trk><trkpt><time>2020-01-01T00:00:00Z</time></trk></gpx>", "b.gpx")


# -- Apple Health --------------------------------------------------------------------------------


def apple(devices, offset: int = 120) -> bytes:
    out = io.StringIO()
    apple_export(out, devices, offset)
    return out.getvalue().encode()


@needs_data
def test_apple_health_gives_one_subject_per_device_and_ignores_other_records() -> None:
    readings = run()
    data = apple({"Jane's Apple Watch": readings, "Polar H10 <1>": readings[::2]})
    watch, strap = read(data, "export.xml")
    assert (watch.subject, strap.subject) == ("Jane's Apple Watch", "Polar H10 <1>")
    assert list(zip(watch.ts, watch.bpm, strict=True)) == readings
    assert list(zip(strap.ts, strap.bpm, strict=True)) == readings[::2]
    assert watch.tz_offset_min == 120
    assert 250.0 not in watch.bpm  # the HRV record's beat-to-beat list is not a reading
    (picked,) = read(data, "export.xml", subject="Polar H10 <1>")
    assert picked.subject == "Polar H10 <1>"
    with pytest.raises(
        InputError, match="unknown subject 'Fitbit': the file has \"Jane's Apple Watch\", 'Polar H10 <1>'"
    ):
        read(data, "export.xml", subject="Fitbit")


@needs_data
def test_apple_health_since_until_window_and_negative_offsets() -> None:
    readings = run()
    data = apple({"Apple Watch": readings}, offset=-300)
    (s,) = read(data, "export.xml", window=(readings[3][0], readings[8][0]))
    assert list(s.ts) == [t for t, _ in readings[3:8]] and s.tz_offset_min == -300
    with pytest.raises(InputError, match="none of its 21 heart-rate records is in the --since/--until window"):
        read(data, "export.xml", window=(None, readings[0][0]))


def test_an_apple_export_without_heart_rate_is_refused() -> None:
    with pytest.raises(InputError, match="no heart rate in this Apple Health export"):
        read(apple({}), "export.xml")


# -- Google Takeout Fitbit JSON -------------------------------------------------------------------


@needs_data
def test_takeout_fitbit_json_reads_utc_times_and_bpm() -> None:
    readings = run()
    (s,) = read(takeout_json(readings), "heart_rate-2017-06-11.json")
    assert list(zip(s.ts, s.bpm, strict=True)) == readings and s.tz_offset_min == 0


def test_takeout_json_that_is_not_heart_rate_is_refused_naming_the_entry() -> None:
    bad = b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 60}}, {"dateTime": "x", "value": {"bpm": 1}}]'
    with pytest.raises(InputError, match="entry 2 is not a Fitbit heart-rate reading"):
        read(bad, "h.json")
    with pytest.raises(InputError):
        read(b'[{"dateTime": "03/31/24 07:00:05", "value": {"bpm": 60}', "cut.json")


def test_a_zip_given_to_the_core_reader_says_what_to_do() -> None:
    with pytest.raises(InputError, match="a zip archive"):
        read(b"PK\x03\x04" + b"\x00" * 40, "x.zip")


def test_an_apple_record_with_an_unreadable_date_is_refused_naming_it() -> None:
    data = apple({}).replace(
        b"<Workout ",
        b'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" startDate="yesterday" value="60"/>\n <Workout ',
    )
    with pytest.raises(InputError, match="unreadable heart-rate record: startDate='yesterday' value='60'"):
        read(data, "export.xml")


@needs_data
def test_an_apple_export_is_streamed_not_held_in_memory() -> None:
    """Peak allocation while reading a ~12 MB export stays a small fraction of it: elements are dropped
    once read, only the readings' columns (16 bytes each) are kept."""
    import tracemalloc

    from hrviz.core.reader.apple import read_apple

    readings = fit_dump(FIT / "garmin-edge-500-activity-records.csv")
    data = apple({"Apple Watch": readings, "Polar H10": readings[::2]})
    assert len(data) > 10_000_000
    tracemalloc.start()
    try:
        watch, strap = read_apple(io.BytesIO(data), "export.xml", (None, None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(watch) + len(strap) == len(readings) + len(readings[::2])
    assert peak < 3_000_000, f"{peak:,} bytes at peak for a {len(data):,}-byte export"
