"""Regressions of issue 8 through the real programs: ``hrviz serve --port P --db X`` and ``hrviz ingest``.

A failed ingest used to leave the SQLite store's transaction and lock held for good (every later
upload failed, listings hung, ``hrviz ingest`` on the file said "database is locked", SIGINT no
longer stopped the server); two ingests of one file racing ended in "unexpected IntegrityError".
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"


def hrviz(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrviz", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def big_csv(path: Path, rows: int) -> Path:
    """A plain recording long enough that two ingests of it overlap (~1 s of detecting and storing)."""
    lines = [f"{1_767_225_600 + i},{70 + (i * 7) % 23}\n" for i in range(rows)]
    path.write_text("time,bpm\n" + "".join(lines))
    return path


class Served:
    """``hrviz serve`` in a child process; the port is read from its start-up line."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hrviz", "serve", "--port", "0", "--db", str(db)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        self.log: list[str] = []
        self.port = 0
        started = threading.Event()

        def read() -> None:
            assert self.process.stderr is not None
            for line in self.process.stderr:
                self.log.append(line)
                if m := re.search(r"serving http://127\.0\.0\.1:(\d+)/", line):
                    self.port = int(m.group(1))
                    started.set()

        threading.Thread(target=read, daemon=True).start()
        assert started.wait(30), "".join(self.log)

    @contextmanager
    def client(self) -> Iterator[ClientConnection]:
        with connect(f"ws://127.0.0.1:{self.port}/ws", max_size=2**24) as ws:
            assert json.loads(ws.recv(10))["type"] == "hello"
            yield ws

    def stop(self, sig: int) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "served.sqlite3")
    yield server
    server.stop(signal.SIGKILL)


def upload(ws: ClientConnection, data: bytes, name: str, chunk: int = 256 * 1024) -> None:
    ws.send(json.dumps({"type": "upload", "name": name, "size": len(data)}))
    for i in range(0, len(data), chunk):
        ws.send(json.dumps({"type": "chunk", "data": base64.b64encode(data[i : i + chunk]).decode()}))


def outcome(ws: ClientConnection, timeout: float = 60) -> dict[str, Any]:
    """The upload's "uploaded" or "error" message, whichever comes first."""
    end = time.monotonic() + timeout
    while True:
        msg = json.loads(ws.recv(max(0.01, end - time.monotonic())))
        if msg["type"] in ("uploaded", "error"):
            return msg  # type: ignore[no-any-return]


def listed(ws: ClientConnection) -> list[dict[str, Any]]:
    ws.send(json.dumps({"type": "sessions"}))
    end = time.monotonic() + 10
    while True:
        msg = json.loads(ws.recv(max(0.01, end - time.monotonic())))
        if msg["type"] == "sessions":
            return msg["sessions"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_lone_surrogate_file_name_is_refused_and_serve_keeps_serving(
    served: Served, tmp_path: Path, sig: signal.Signals
) -> None:
    with served.client() as ws:
        upload(ws, DEMO.read_bytes(), "\ud800.csv")
        first = outcome(ws)
    assert first["type"] == "error" and first["code"] in ("bad_message", "bad_file"), first  # bad input
    with served.client() as ws:
        upload(ws, DEMO.read_bytes() + b"\n", "other.csv")
        assert outcome(ws)["type"] == "uploaded"
        assert [s["source"] for s in listed(ws)] == ["other.csv"]
    third = big_csv(tmp_path / "third.csv", 500)
    done = hrviz("ingest", third, "--db", tmp_path / "served.sqlite3", timeout=60)
    assert done.returncode == 0, done.stderr
    assert served.stop(sig) is not None, "the server did not stop on " + sig.name


def test_the_same_file_dropped_from_two_connections_at_once_is_stored_once(served: Served, tmp_path: Path) -> None:
    data = big_csv(tmp_path / "same.csv", 150_000).read_bytes()
    with served.client() as a, served.client() as b:
        upload(a, data, "same.csv")
        upload(b, data, "same.csv")
        results = [outcome(a), outcome(b)]
        assert [r["type"] for r in results] == ["uploaded", "uploaded"], results
        assert len({r["sessions"][0]["id"] for r in results}) == 1
        assert sorted(r["sessions"][0]["existing"] for r in results) == [False, True]
        assert len(listed(a)) == 1
    with served.client() as c:  # and the store is not wedged
        upload(c, DEMO.read_bytes(), "demo.csv")
        assert outcome(c)["type"] == "uploaded"
    assert served.stop(signal.SIGTERM) is not None


RACE_ROWS = 650_000  # over 8 MB: each ingest checks for the session first, then reads for seconds


def race(tmp_path: Path, *store_args: str) -> list[subprocess.CompletedProcess[str]]:
    csv = big_csv(tmp_path / "twice.csv", RACE_ROWS)
    assert csv.stat().st_size > 8_000_000
    command = [sys.executable, "-m", "hrviz", "ingest", str(csv), "--json", *store_args]
    env = dict(os.environ)
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)]
    procs.append(
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    )
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def check_stored_once(results: list[subprocess.CompletedProcess[str]]) -> None:
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    sessions = [json.loads(r.stdout)["sessions"][0] for r in results]
    assert sessions[0]["id"] == sessions[1]["id"]
    assert sorted(s["existing"] for s in sessions) == [False, True]
    assert sessions[0]["readings"] == sessions[1]["readings"] == RACE_ROWS


def test_two_simultaneous_ingests_of_one_file_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "race.sqlite3"
    check_stored_once(race(tmp_path, "--db", str(db)))
    listing = hrviz("ingest", big_csv(tmp_path / "small.csv", 300), "--db", db, "--json")
    assert listing.returncode == 0, listing.stderr


def test_two_simultaneous_ingests_of_one_file_on_mysql(tmp_path: Path, mysql_url: str) -> None:
    check_stored_once(race(tmp_path, "--mysql", mysql_url))


def test_a_big_ingest_into_the_served_file_stalls_neither_listing_nor_uploads(served: Served, tmp_path: Path) -> None:
    big = big_csv(tmp_path / "big.csv", 6_000_000)  # ~6 s to ingest on a quiet machine, far longer under load
    ingesting = subprocess.Popen(
        [sys.executable, "-m", "hrviz", "ingest", str(big), "--db", str(tmp_path / "served.sqlite3"), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # it is reading, detecting and writing now (a fixed 3 s outlived the ingest on a quiet machine)
        with served.client() as ws:  # a new connection: the server's threads open the file now
            started = time.monotonic()
            first = listed(ws)
            listing_took, running_after_listing = time.monotonic() - started, ingesting.poll() is None
            upload(ws, DEMO.read_bytes(), "demo.csv")
            assert outcome(ws, timeout=60)["type"] == "uploaded"
            took, running_after_upload = time.monotonic() - started, ingesting.poll() is None
            assert "demo.csv" in [s["source"] for s in listed(ws)]
        assert running_after_listing, (
            f"the big ingest ended before the listing ({listing_took:.1f} s): nothing was tested"
        )
        assert first == [], f"the listing waited for the big ingest ({listing_took:.1f} s)"
        assert running_after_upload and took < 5, f"the upload waited for the big ingest ({took:.1f} s)"
        out, err = ingesting.communicate(timeout=240)
        assert ingesting.returncode == 0, err
        with served.client() as ws:
            assert len(listed(ws)) == 2
    finally:
        if ingesting.poll() is None:
            ingesting.kill()
            ingesting.wait()


def test_sigterm_during_a_long_upload_ingest_stops_serve_at_once_and_stores_nothing(served: Served) -> None:
    """Before: SIGTERM waited for the ingest thread (22 s for a 0.9 MB gpx.gz of 7.5M waypoints,
    minutes for a big export), then logged a traceback as the finished upload tried to play."""
    import gzip

    body = b'<wpt lat="1" lon="2"><name>x</name></wpt>' * 25_000
    packed = gzip.compress(
        b"<gpx><trk><trkseg><trkpt><time>2024-01-01T00:00:00Z</time><extensions><hr>70</hr></extensions>"
        b"</trkpt></trkseg></trk>" + body * 300 + b"</gpx>",
        compresslevel=9,
    )
    with served.client() as ws:
        upload(ws, packed, "waypoints.gpx.gz")
        end = time.monotonic() + 30
        while json.loads(ws.recv(max(0.01, end - time.monotonic())))["type"] != "progress":
            pass
        time.sleep(1)  # the ingest is under way
        started = time.monotonic()
        assert served.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 8, "serve waited for the upload's ingest"
    assert not any("Traceback" in line for line in served.log), "".join(served.log)
    db = Path(str(served.process.args[-1]))  # type: ignore[index]  # Popen was given a list
    listing = hrviz("sessions", "--db", db, "--json", timeout=30)
    assert json.loads(listing.stdout)["sessions"] == []
