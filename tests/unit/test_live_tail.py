"""The live line sources (stdin, a followed file) against runaway lines: bounded memory and time."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from hrviz.adapters.ingest.tail import FollowedFile, StdinLines
from hrviz.core.reader.lines import MAX_LINE, LineReader


def drain(source: StdinLines | FollowedFile, until: float) -> list[bytes]:
    out: list[bytes] = []
    while time.monotonic() < until and not source.ended:
        lines, _ = source.poll(0.05)
        out.extend(lines)
        if out and out[-1].startswith(b"2024-01-01T00:00:05Z"):
            break
    return out


def test_a_100_mb_line_without_a_break_on_stdin_is_one_bad_row_and_the_next_line_reads() -> None:
    """Before: every 64 KB read re-joined everything held (quadratic: > 60 s for 100 MB, 200 MB RSS)
    and the whole line was held and handed to the reader."""
    read_fd, write_fd = os.pipe()
    size = 100 * 2**20

    def write() -> None:
        with os.fdopen(write_fd, "wb") as w:
            w.write(b"time,bpm\n2024-01-01T00:00:00Z,70\n")
            block = b"a" * 2**20
            for _ in range(size // len(block)):
                w.write(block)
            w.write(b"\n2024-01-01T00:00:05Z,72\n")

    writer = threading.Thread(target=write)
    writer.start()
    started = time.monotonic()
    with os.fdopen(read_fd, "rb") as r:
        lines = drain(StdinLines(r), started + 30)
    writer.join()
    assert time.monotonic() - started < 15
    assert max(len(line) for line in lines) == MAX_LINE + 1
    assert lines[-1] == b"2024-01-01T00:00:05Z,72\n" and len(lines) == 4
    reader = LineReader("-")
    parsed = [p for line in lines for p in reader.line(line.decode("utf-8", "replace"))]
    assert [getattr(p, "why", "")[:9] for p in parsed].count("a line of") == 1


def test_a_followed_file_growing_a_runaway_line_holds_at_most_a_line(tmp_path: Path) -> None:
    path = tmp_path / "strap.csv"
    path.write_bytes(
        b"time,bpm\n2024-01-01T00:00:00Z,70\n" + b"\x00\xff" * (3 * MAX_LINE) + b"\n2024-01-01T00:00:05Z,72\n"
    )
    followed = FollowedFile(path)
    try:
        lines = drain(followed, time.monotonic() + 20)
    finally:
        followed.close()
    assert max(len(line) for line in lines) == MAX_LINE + 1
    assert lines[-1] == b"2024-01-01T00:00:05Z,72\n"


def test_a_followed_file_replaced_by_a_folder_waits_for_a_file_of_that_name(tmp_path: Path) -> None:
    """Before: ``IsADirectoryError`` escaped, exit 1, and the session stayed live for ever."""
    path = tmp_path / "strap.csv"
    path.write_bytes(b"time,bpm\n2024-01-01T00:00:00Z,70\n")
    followed = FollowedFile(path)
    try:
        assert followed.poll(0.1)[0] == [b"time,bpm\n", b"2024-01-01T00:00:00Z,70\n"]
        path.unlink()
        path.mkdir()
        for _ in range(3):
            assert followed.poll(0.05)[0] == []
        path.rmdir()
        path.write_bytes(b"time,bpm\n2024-01-01T00:00:05Z,72\n")
        assert drain(followed, time.monotonic() + 5)[-1] == b"2024-01-01T00:00:05Z,72\n"
    finally:
        followed.close()


def test_an_input_that_fails_mid_session_still_finalizes_it(tmp_path: Path) -> None:
    from hrviz.adapters.ingest.live import Publisher, run_live
    from hrviz.adapters.ingest.spool import Spool
    from hrviz.core.ingest import PublishReport
    from hrviz.core.live import LiveIngest
    from tests.unit.fakes import MemoryLive, MemoryStore

    class Failing:
        name, ended = "strap.csv", False

        def __init__(self) -> None:
            self.polls = 0

        def poll(self, timeout: float) -> tuple[list[bytes], bool]:
            self.polls += 1
            if self.polls > 1:
                raise PermissionError(13, "Permission denied")
            return [b"time,bpm\n", b"2024-01-01T00:00:00Z,70\n", b"2024-01-01T00:00:01Z,71\n"], False

        def close(self) -> None:
            pass

    store = MemoryStore()
    live_store = MemoryLive(store)
    live = LiveIngest(store, live_store, "file:x", "strap.csv")
    publisher = Publisher(PublishReport, lambda failed: None)
    session, why = run_live(Failing(), live, publisher, spool=Spool(live.session.id, 10, str(tmp_path)))
    publisher.stop(1)
    assert why == "the input failed: Permission denied"
    assert session.readings == 2 and live_store.live_ids() == set()
