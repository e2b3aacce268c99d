"""``hrviz watch`` on live input, as real processes: stdin shown without storing, a live session
followed from the store, and through a running ``hrviz serve``."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from hrviz.adapters.store.sqlite import SqliteStore
from hrviz.wiring import load_settings, open_backends
from tests.running_server import RunningServer

T0 = 1714557600
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}


def line(i: int, bpm: int | None = None) -> str:
    return f"{T0 + i},{70 + i % 3 if bpm is None else bpm}\n"


def hrviz(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hrviz", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, bufsize=1,
    )  # fmt: skip


class Lines:
    """A process's stdout, line by line, with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for text in proc.stdout:
            self._q.put(text)
        self._q.put(None)

    def next(self, timeout: float = 10.0) -> str | None:
        return self._q.get(timeout=timeout)

    def readings(self, n: int, timeout: float = 10.0) -> list[str]:
        got: list[str] = []
        while len(got) < n:
            text = self.next(timeout)
            assert text is not None, got
            if not text.startswith("#"):
                got.append(text)
        return got


def test_watch_stdin_shows_each_line_as_it_comes_and_stores_nothing(tmp_path: Path) -> None:
    proc = hrviz("watch", "-", "--plain")
    assert proc.stdin is not None
    out = Lines(proc)
    try:
        proc.stdin.write("ts,bpm\n" + "".join(line(i) for i in range(8)))
        proc.stdin.flush()
        assert len(out.readings(8)) == 8  # shown while the input is still open
        proc.stdin.write("garbage\n" + line(8, 150) + line(9) + line(10))
        proc.stdin.close()
        rest = [text for text in iter(out.next, None)]
        assert proc.wait(10) == 0
        assert any("spike" in text for text in rest), rest
        assert "line 10:" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()


def _start_ingest(db: Path) -> subprocess.Popen[str]:
    ingest = hrviz("ingest", "-", "--db", str(db))
    assert ingest.stdin is not None
    ingest.stdin.write("ts,bpm\n" + "".join(line(i) for i in range(5)))
    ingest.stdin.flush()
    store = SqliteStore(db)
    try:
        deadline = time.monotonic() + 10
        while not store.list_sessions() or store.list_sessions()[0].readings < 5:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        store.close()
    return ingest


def _follow(ingest: subprocess.Popen[str], watch: subprocess.Popen[str]) -> None:
    """The watcher shows the 5 stored readings, then each new one while it is written, then ends."""
    assert ingest.stdin is not None
    out = Lines(watch)
    assert [text.split()[1] for text in out.readings(5)] == ["70", "71", "72", "70", "71"]
    for i in range(5, 10):
        ingest.stdin.write(line(i))
        ingest.stdin.flush()
        written = time.monotonic()
        (shown,) = out.readings(1, timeout=5)
        assert shown.split()[1] == str(70 + i % 3)
        assert time.monotonic() - written < 2.0
    ingest.stdin.close()
    assert ingest.wait(30) == 0
    rest = [text for text in iter(out.next, None)]
    assert watch.wait(15) == 0, watch.stderr.read() if watch.stderr else ""
    assert any(text.startswith("# end: 10 readings") for text in rest), rest


def test_watch_session_follows_a_live_session_in_the_store(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ingest = _start_ingest(db)
    store = SqliteStore(db)
    sid = store.list_sessions()[0].id
    store.close()
    watch = hrviz("watch", "--session", sid, "--plain", "--db", str(db))
    try:
        _follow(ingest, watch)
    finally:
        for p in (ingest, watch):
            if p.poll() is None:
                p.kill()


def test_watch_server_follows_a_live_session(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ingest = _start_ingest(db)
    store = SqliteStore(db)
    sid = store.list_sessions()[0].id
    store.close()
    settings = load_settings(db=db)
    server = RunningServer(lambda: open_backends(settings))
    watch = hrviz("watch", "--server", f"ws://127.0.0.1:{server.server.port}", "--session", sid, "--plain")
    try:
        _follow(ingest, watch)
    finally:
        for p in (ingest, watch):
            if p.poll() is None:
                p.kill()
        server.stop()


def test_watch_server_shows_an_anomaly_found_after_its_readings_went(tmp_path: Path) -> None:
    """A flatline running at the end of a live session is found when it is finalized: ``hrviz watch
    --server`` shows it then, once, before its end line (it was held for a next reading that never came)."""
    db = tmp_path / "h.db"
    ingest = _start_ingest(db)
    assert ingest.stdin is not None
    sid = _first_session(db)
    server = RunningServer(lambda: open_backends(load_settings(db=db)))
    watch = hrviz("watch", "--server", f"ws://127.0.0.1:{server.server.port}", "--session", sid, "--plain")
    try:
        out = Lines(watch)
        out.readings(5)
        ingest.stdin.write(
            "".join(line(i, 70 + i % 4) for i in range(5, 300)) + "".join(line(i, 83) for i in range(300, 380))
        )
        ingest.stdin.flush()
        shown = out.readings(375, timeout=15)
        assert not [text for text in shown if "  ! " in text]  # an event line: none yet, the run goes on
        ingest.stdin.close()
        assert ingest.wait(30) == 0
        rest = [text for text in iter(out.next, None)]
        assert watch.wait(15) == 0, watch.stderr.read() if watch.stderr else ""
        flat = [text for text in rest if "  ! " in text]
        assert len(flat) == 1 and rest.index(flat[0]) < len(rest) - 1, rest  # once, before the end line
        assert rest[-1].startswith("# end: 380 readings") and "1 events" in rest[-1], rest
    finally:
        for p in (ingest, watch):
            if p.poll() is None:
                p.kill()
        server.stop()


def _first_session(db: Path) -> str:
    store = SqliteStore(db)
    try:
        return store.list_sessions()[0].id
    finally:
        store.close()
