"""``hrviz ingest`` on FIT, TCX, GPX, Apple Health, Takeout JSON and their gzip/zip wrappers: exit codes,
one-line refusals naming the file, warnings in the summary and in --json."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.integration.test_cli_ingest import hrviz, session_count
from tests.real_data import FIT

pytestmark = pytest.mark.skipif(not FIT.is_dir(), reason=f"{FIT} is absent: needs the shared data folder")


def test_a_fit_file_is_ingested_and_stored(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    done = hrviz(FIT / "garmin-fenix-5-run.fit", "--json", db=db)
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    assert session["rows"] == 21 and session["warnings"] == []
    assert session["start"] == "2017-06-11T07:34:09-07:00" and session["end"] == "2017-06-11T07:35:06-07:00"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT MIN(bpm), MAX(bpm) FROM readings").fetchone() == (56.0, 112.0)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("activity-settings-corruptheader.fit", "corrupt FIT header at byte 771"),
        ("MonitoringFile.fit", "no heart rate in this FIT file (a monitoring_b file, not an activity)"),
        ("strava-android-app-201.10-b1218918.fit", "malformed FIT message definitions"),
        ("activity-unexpected-eof.fit", "no heart rate in this FIT file"),
    ],
)
def test_a_broken_fit_file_is_refused_with_one_line_and_nothing_stored(tmp_path: Path, name: str, reason: str) -> None:
    db = tmp_path / "h.db"
    done = hrviz(FIT / name, db=db)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"hrviz: error: {FIT / name}: ") and reason in line
    assert session_count(db) == 0


def test_a_truncated_fit_is_kept_up_to_the_break_and_the_warning_is_reported(tmp_path: Path) -> None:
    cut = tmp_path / "dead-battery.fit"
    cut.write_bytes((FIT / "garmin-fenix-5-run.fit").read_bytes()[:3000])
    done = hrviz(cut, "--json", db=tmp_path / "h.db")
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    (warning,) = session["warnings"]
    assert "ends early (3,000 of the 5,597 bytes" in warning
    assert 0 < session["rows"] < 21
    text = hrviz(cut, db=tmp_path / "h.db")
    assert text.returncode == 0 and "warning: the file ends early" in text.stdout


def strava_like_export(tmp_path: Path) -> Path:
    """A bulk export: activities as FIT, .fit.gz, GPX and a TCX without heart rate, plus a profile CSV."""
    from tests.generate import fit_dump, gpx
    from tests.real_data import TCX

    archive = tmp_path / "export_12345.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("activities/111.fit", (FIT / "garmin-fenix-5-run.fit").read_bytes())
        z.writestr("activities/222.fit.gz", gzip.compress((FIT / "garmin-fenix-5-bike.fit").read_bytes()))
        z.writestr("activities/333.gpx", gpx(fit_dump(FIT / "garmin-fenix-5-walk-records.csv")))
        z.writestr("activities/444.tcx", (TCX / "tcxparser_no_hr.tcx").read_bytes())
        z.writestr("profile.csv", "Athlete ID,Email\n1,a@b.c\n")
        z.writestr("__MACOSX/._111.fit", b"junk")
    return archive


def test_a_zip_of_activities_gives_one_session_per_file_and_lists_what_it_skipped(tmp_path: Path) -> None:
    archive = strava_like_export(tmp_path)
    db = tmp_path / "h.db"
    done = hrviz(archive, "--json", db=db)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    sources = [s["source"] for s in out["sessions"]]
    assert sources == [
        f"{archive}/activities/111.fit",
        f"{archive}/activities/222.fit.gz",
        f"{archive}/activities/333.gpx",
    ]
    assert [s["rows"] for s in out["sessions"]] == [21, 19, 17]
    skipped = {s["file"]: s["reason"] for s in out["skipped"]}
    assert set(skipped) == {f"{archive}/activities/444.tcx", f"{archive}/profile.csv"}
    assert "no heart rate in this TCX file" in skipped[f"{archive}/activities/444.tcx"]
    assert session_count(db) == 3
    again = hrviz(archive, db=db)  # the summary names the skipped files on stderr
    assert again.returncode == 0 and "hrviz: warning: skipped" in again.stderr and "444.tcx" in again.stderr
    assert session_count(db) == 3


def test_a_zip_with_nothing_readable_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    archive = tmp_path / "junk.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("MonitoringFile.fit", (FIT / "MonitoringFile.fit").read_bytes())
        z.writestr("notes.txt", "hello\n")
    done = hrviz(archive, db=tmp_path / "h.db")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"hrviz: error: {archive}: no heart-rate file in it (") and "monitoring_b" in line
    assert session_count(tmp_path / "h.db") == 0


def test_apple_health_export_zip_subjects_and_since_until(tmp_path: Path) -> None:
    from tests.generate import apple_export, fit_dump

    readings = fit_dump(FIT / "garmin-edge-500-activity-records.csv")
    text = io.StringIO()
    apple_export(text, {"Apple Watch": readings, "Polar H10": readings[::2]}, offset_min=-420)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export.xml", text.getvalue())
        z.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        z.writestr("apple_health_export/workout-routes/route_1.gpx", "<gpx><trk/></gpx>")
    db = tmp_path / "h.db"
    done = hrviz(archive, "--json", "--subject", "Apple Watch", "--since", "2011-09-25T07:00:00-07:00",
                 "--until", "2011-09-25T08:00:00-07:00", db=db)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (session,) = json.loads(done.stdout)["sessions"]
    assert session["subject"] == "Apple Watch" and session["source"] == f"{archive}/apple_health_export/export.xml"
    assert session["start"] >= "2011-09-25T07:00:00-07:00" and session["end"] < "2011-09-25T08:00:00-07:00"
    since, until = 1316959200, 1316962800  # 07:00 and 08:00 PDT
    assert session["rows"] == sum(since <= t < until for t, _ in readings) > 2000
    assert "skipped" not in json.loads(done.stdout)
    both = hrviz(archive, "--json", db=db)
    assert [s["subject"] for s in json.loads(both.stdout)["sessions"]] == ["Apple Watch", "Polar H10"]
    bad = hrviz(archive, "--since", "yesterday", db=db)
    assert bad.returncode == 2 and "--since 'yesterday': not a date or time" in bad.stderr


def test_a_folder_of_takeout_json_days(tmp_path: Path) -> None:
    from tests.generate import fit_dump, takeout_json

    readings = fit_dump(FIT / "garmin-edge-500-activity-records.csv")
    folder = tmp_path / "Global Export Data"
    folder.mkdir()
    (folder / "heart_rate-2011-09-25.json").write_bytes(takeout_json(readings[:5000]))
    (folder / "heart_rate-2011-09-26.json").write_bytes(takeout_json(readings[5000:]))
    done = hrviz(folder, "--json", db=tmp_path / "h.db")
    assert done.returncode == 0, done.stderr
    sessions = json.loads(done.stdout)["sessions"]
    assert [s["source"].rsplit("/", 1)[1] for s in sessions] == [
        "heart_rate-2011-09-25.json",
        "heart_rate-2011-09-26.json",
    ]
    assert sum(s["rows"] for s in sessions) == len(readings)


def test_watch_replays_a_fit_file(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    done = subprocess.run(
        [sys.executable, "-m", "hrviz", "watch", str(FIT / "garmin-fenix-5-bike.fit"), "--plain", "--no-pace",
         "--db", str(tmp_path / "h.db")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2017-06-12T09:09:22-07:00" in done.stdout and done.stdout.count("\n") >= 19


def test_watch_refuses_an_archive_of_several_files_naming_them(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    archive = strava_like_export(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    done = subprocess.run(
        [sys.executable, "-m", "hrviz", "watch", str(archive), "--plain", "--no-pace", "--db", str(tmp_path / "h.db")],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{archive} holds several files ({archive}/activities/111.fit" in done.stderr
