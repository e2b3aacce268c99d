"""Uploading FIT, a zip of activities and a broken FIT through the WebSocket API (docs/api.md)."""

from __future__ import annotations

import gzip
import io
import zipfile
from typing import Any

import pytest

from tests.integration.test_ws_api import client, make_server, until, upload  # noqa: F401
from tests.real_data import FIT
from tests.running_server import RunningServer

pytestmark = pytest.mark.skipif(not FIT.is_dir(), reason=f"{FIT} is absent: needs the shared data folder")


@pytest.fixture
def server(make_server: Any) -> RunningServer:  # noqa: F811
    """Every test server reads uploads like `hrviz ingest` reads a path (wiring.ingest_upload)."""
    return make_server()


def test_a_fit_upload_in_binary_chunks_is_stored_and_replayed(server: RunningServer) -> None:
    data = (FIT / "garmin-fenix-5-run.fit").read_bytes()
    with client(server) as ws:
        upload(ws, data, name="morning-run.fit", chunk=1000)
        up, _ = until(ws, "uploaded")
        (session,) = up["sessions"]
        assert session["source"] == "morning-run.fit" and session["rows"] == 21 and up["skipped"] == []
        replay, _ = until(ws, "replay")
        assert replay["session"]["start"] == "2017-06-11T07:34:09-07:00"
        first, _ = until(ws, "reading")
        assert first["seq"] == 0 and first["bpm"] == 61


def test_a_zip_upload_gives_a_session_per_file_named_after_it(server: RunningServer) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("a.fit.gz", gzip.compress((FIT / "garmin-fenix-5-bike.fit").read_bytes()))
        z.writestr("b.fit", (FIT / "garmin-edge-820-bike.fit").read_bytes())
        z.writestr("c.fit", (FIT / "MonitoringFile.fit").read_bytes())
    with client(server) as ws:
        upload(ws, buffer.getvalue(), name="rides.zip")
        up, _ = until(ws, "uploaded")
        assert [s["source"] for s in up["sessions"]] == ["rides.zip/a.fit.gz", "rides.zip/b.fit"]
        ((name, reason),) = [(s["file"], s["reason"]) for s in up["skipped"]]
        assert name == "rides.zip/c.fit" and "monitoring_b" in reason


def test_a_broken_fit_upload_gets_a_bad_file_error_naming_it(server: RunningServer) -> None:
    with client(server) as ws:
        upload(ws, (FIT / "activity-settings-corruptheader.fit").read_bytes(), name="settings.fit")
        err, _ = until(ws, "error")
        assert err["code"] == "bad_file" and err["file"] == "settings.fit"
        assert err["message"] == "settings.fit: corrupt FIT header at byte 771 (a chained file)"


def test_a_zip_of_thousands_of_unreadable_files_answers_with_counts_not_a_closed_socket(server: RunningServer) -> None:
    """Before: every skipped file was listed and the answer (6 MB for 100k members) overflowed the
    1 MiB send queue: the uploader's connection was closed 1013 and never saw its result."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("ok.csv", "time,bpm\n2024-01-01T00:00:00Z,70\n2024-01-01T00:00:01Z,71\n")
        for i in range(20_000):
            z.writestr(f"{'folder/' * 8}m{i}.csv", "")
    with client(server) as ws:
        upload(ws, buffer.getvalue(), name="many.zip", chunk=256 * 1024)
        up, _ = until(ws, "uploaded", timeout=120)
        assert [s["source"] for s in up["sessions"]] == ["many.zip/ok.csv"] and up["sessions_total"] == 1
        assert len(up["skipped"]) == 50 and up["skipped_total"] == 20_000
        replay, _ = until(ws, "replay")
        assert replay["session"]["source"] == "many.zip/ok.csv"
