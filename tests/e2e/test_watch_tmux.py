"""``hrviz watch`` in a real terminal (tmux at 120×40) and as a plain-output subprocess.

The tmux tests read the screen as a person would: the chart frame and time labels, the header's
clock and bpm moving about once a second, events appearing, pause holding still, and ``q`` or
Ctrl-C giving back the shell with the terminal settings exactly as they were.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.terminal, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "samples" / "demo_run.csv"
HRVIZ = [sys.executable, "-m", "hrviz"]
HEADER = re.compile(r"(\d\d:\d\d:\d\d)  (\d+) bpm .*readings (\d+)/(\d+)")
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")}
    env["HRVIZ_CONFIG"] = str(tmp_path / "no-config.toml")
    env["PYTHONPATH"] = str(ROOT)
    return env


class Tmux:
    """One private tmux server (its own socket) running one command in a fixed-size pane."""

    def __init__(self, tmp_path: Path, command: str) -> None:
        self.socket = f"hrviz-watch-{os.getpid()}-{tmp_path.name}"
        self.tmp = tmp_path
        env = " ".join(f"{k}={v!r}" for k, v in clean_env(tmp_path).items() if k.startswith(("HRVIZ", "PYTHON")))
        script = tmp_path / "run.sh"
        script.write_text(
            f"cd {ROOT}\n"
            f"stty -g > {tmp_path}/stty.before\n"
            f"env {env} {command}\n"
            f"echo EXIT=$?\n"
            f"stty -g > {tmp_path}/stty.after\n"
            "exec sleep 600\n"
        )
        self._tmux("new-session", "-d", "-x", "120", "-y", "40", f"bash {script}")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True, timeout=10
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def wait_for(self, check: Callable[[str], object], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"screen ({self.diagnose()}) never matched within {timeout} s:\n{screen}")

    def diagnose(self) -> str:
        """Pane size, the pty's own idea of it, and size variables in the program's environment."""
        size, tty, pid = self._tmux("display", "-p", "#{pane_width}x#{pane_height} #{pane_tty} #{pane_pid}").split()
        with open(tty) as t:
            stty = subprocess.run(["stty", "size"], stdin=t, capture_output=True, text=True).stdout.strip()
        envs = []
        for kid in subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split():
            with contextlib.suppress(OSError):
                env = Path(f"/proc/{kid}/environ").read_bytes().split(b"\0")
                envs += [e.decode() for e in env if e.startswith((b"COLUMNS=", b"LINES="))]
        return f"pane {size}, stty {stty}, env {envs}"

    def header(self) -> tuple[str, int, int]:
        """(clock, bpm, readings shown) from the header line."""
        found = HEADER.search(self.wait_for(HEADER.search))
        assert found is not None
        return found.group(1), int(found.group(2)), int(found.group(3))

    def exited_cleanly(self) -> str:
        screen = self.wait_for(lambda s: "EXIT=" in s)
        assert "EXIT=0" in screen, screen
        after = self.tmp / "stty.after"
        deadline = time.monotonic() + 5
        while not after.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (self.tmp / "stty.before").read_text() == after.read_text(), "terminal modes not restored"
        return screen

    def kill(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._tmux("kill-server")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[[str], Tmux]]:
    started: list[Tmux] = []

    def start(args: str) -> Tmux:
        db = tmp_path / "watch.sqlite3"
        t = Tmux(tmp_path, f"{sys.executable} -m hrviz watch {args} --db {db}")
        started.append(t)
        return t

    yield start
    for t in started:
        t.kill()


def seconds(clock: str) -> int:
    h, m, s = (int(x) for x in clock.split(":"))
    return h * 3600 + m * 60 + s


def median_step(t: Tmux, changes: int, timeout: float = 30) -> float:
    """Seconds per reading between changes of the readings count: the median over ``changes`` of them.

    A median, not a window on each step: one stall of this machine makes one step long and the next short (the replay
    catches up), and must not fail the test; a wrong pace moves every step."""
    times: list[float] = []
    counts: list[int] = []
    deadline = time.monotonic() + timeout
    while len(times) <= changes and time.monotonic() < deadline:
        shown = t.header()[2]
        if not counts or shown != counts[-1]:
            times.append(time.monotonic())
            counts.append(shown)
        time.sleep(0.02)
    assert len(times) > changes, f"the count changed {len(times) - 1} times in {timeout} s"
    steps = sorted((b - a) / (m - n) for a, b, n, m in zip(times, times[1:], counts, counts[1:], strict=False))
    return steps[len(steps) // 2]


@needs_tmux
def test_chart_updates_once_a_second_pauses_and_quits_restoring_the_terminal(tmux: Callable[[str], Tmux]) -> None:
    t = tmux(str(DEMO))
    screen = t.wait_for(lambda s: "readings 3/" in s)
    assert "┤" in screen and "└" in screen, "no chart frame / y axis"
    assert "07:30:00" in screen and "07:31:00" in screen, "no time labels on the x axis"
    assert "events (most severe first)" in screen and "min 61" in screen
    clock1, _, shown1 = t.header()
    at_1x = median_step(t, 3)
    clock2, bpm2, shown2 = t.header()
    assert 0.75 <= at_1x <= 1.25, at_1x
    assert seconds(clock2) - seconds(clock1) == shown2 - shown1, "the clock is the recording's, one second a reading"
    assert 40 <= bpm2 <= 90

    t.keys("Space")
    t.wait_for(lambda s: "paused" in s)
    held = t.header()
    time.sleep(2.0)
    assert t.header() == held, "the replay moved while paused"
    assert "paused" in t.screen()

    t.keys("Space")
    t.wait_for(lambda s: "▶ 1×" in s)
    t.keys("+")
    t.wait_for(lambda s: "▶ 2×" in s)
    at_2x = median_step(t, 4)
    assert 0.3 <= at_2x <= 0.7, f"2×: a reading every {at_2x:.2f} s"

    t.keys("q")
    screen = t.exited_cleanly()
    assert "┤" not in screen, "the chart was left on the screen"


@needs_tmux
def test_events_appear_most_severe_first_with_their_markers(tmux: Callable[[str], Tmux]) -> None:
    t = tmux(f"{DEMO} --speed 60")
    screen = t.wait_for(lambda s: "spike 07:31:30" in s)
    assert "▲" in screen, "spike readings are not marked on the chart"
    screen = t.wait_for(lambda s: "drop 07:36:40" in s, timeout=20)
    lines = screen.splitlines()
    drop = next(i for i, line in enumerate(lines) if "drop 07:36:40" in line)
    impossible = next(i for i, line in enumerate(lines) if "out_of_range 07:35:50" in line)
    assert impossible < drop, "events are not most severe first"
    screen = t.wait_for(lambda s: "end of session" in s, timeout=20)
    assert "gap 07:36:59" in screen and "flatline" in screen
    t.keys("q")
    t.exited_cleanly()


@needs_tmux
def test_ctrl_c_quits_and_restores_the_terminal(tmux: Callable[[str], Tmux]) -> None:
    t = tmux(f"{DEMO} --speed 5")
    t.wait_for(lambda s: "readings 2/" in s)
    t.keys("C-c")
    t.exited_cleanly()


@needs_tmux
def test_chart_follows_a_terminal_resize(tmux: Callable[[str], Tmux]) -> None:
    t = tmux(str(DEMO))
    t.wait_for(lambda s: "readings 2/" in s)
    t._tmux("resize-window", "-x", "90", "-y", "30")
    screen = t.wait_for(
        lambda s: any(line.rstrip().endswith("┐") and len(line.rstrip()) <= 90 for line in s.splitlines())
    )
    assert max(len(line.rstrip()) for line in screen.splitlines()) <= 90
    assert "┤" in screen
    t.keys("q")
    t.exited_cleanly()


# -- plain output (stdout is a pipe) ------------------------------------------------------------


def run_watch(tmp_path: Path, *args: str, db: str = "watch.sqlite3") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HRVIZ, "watch", *args, "--db", str(tmp_path / db)],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(tmp_path),
        cwd=ROOT,
    )


def test_plain_lines_come_about_once_a_second(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*HRVIZ, "watch", str(DEMO), "--db", str(tmp_path / "w.sqlite3")],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("# hrviz watch: demo_run.csv")
        stamps = []
        for _ in range(4):
            line = proc.stdout.readline()
            stamps.append(time.monotonic())
            assert re.match(r"2026-03-14T07:30:0\d\+01:00  \d+  -$", line.rstrip("\n")), line
        steps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
        assert all(0.7 <= s <= 1.3 for s in steps), steps
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_no_pace_prints_every_reading_with_flags_and_events(tmp_path: Path) -> None:
    done = run_watch(tmp_path, str(DEMO), "--no-pace")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("# hrviz watch: demo_run.csv  session ")
    assert lines[-1] == "# end: 520 readings; min 61 mean 96.46 max 129; 8 events"
    assert len(lines) == 522
    assert lines[1] == "2026-03-14T07:30:00+01:00  61  -"
    assert (
        "2026-03-14T07:31:30+01:00  104  spike  ! spike 07:31:30 "
        "Rose 43 bpm from a 62 bpm baseline to 105 bpm for 2 s, then came back"
    ) in lines
    assert any(
        line.endswith(
            "filled,missing  ! missing 07:33:20 5 readings missing where this file has one every 1 s; filled with 92 bpm"
        )
        for line in lines
    )
    assert (
        "2026-03-14T07:35:50+01:00  255  out_of_range  ! out_of_range 07:35:50 "
        "Impossible value 255 bpm (one reading): no human heart beats that fast"
    ) in lines
    # the same session as `hrviz ingest`, and replayable by id from the store
    session_id = lines[0].rsplit(" ", 1)[1]
    again = run_watch(tmp_path, "--session", session_id, "--no-pace")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1:] == lines[1:]


def test_bad_input_and_unknown_session_exit_2_unreachable_server_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\nworld\n")
    done = run_watch(tmp_path, str(bad), "--no-pace")
    assert done.returncode == 2 and done.stderr.startswith(f"hrviz: error: {bad}"), done.stderr
    assert done.stdout == ""
    missing = run_watch(tmp_path, str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = run_watch(tmp_path, "--session", "doesnotexist")
    assert unknown.returncode == 2 and "unknown session 'doesnotexist'" in unknown.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
        down = run_watch(tmp_path, "--server", f"ws://127.0.0.1:{port}", "--session", "x")
    assert down.returncode == 1 and "cannot reach hrviz serve" in down.stderr, down.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """A running ``hrviz serve`` on a free port with the demo session stored; (url, session id)."""
    db = str(tmp_path / "serve.sqlite3")
    env = clean_env(tmp_path)
    out = subprocess.run([*HRVIZ, "ingest", str(DEMO), "--db", db, "--json"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    session_id = re.search(r'"id": "(\w+)"', out.stdout)
    assert session_id is not None
    server = subprocess.Popen([*HRVIZ, "serve", "--port", "0", "--db", db], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        port = re.search(r":(\d+)/", line)
        assert port is not None, line
        yield f"ws://127.0.0.1:{port.group(1)}", session_id.group(1), server
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_server_mode_follows_a_served_session(tmp_path: Path, served: tuple[str, str, subprocess.Popen[str]]) -> None:
    url, session_id, _ = served
    local = run_watch(tmp_path, "--session", session_id, "--no-pace", db="serve.sqlite3")
    done = run_watch(tmp_path, "--server", url, "--session", session_id, "--speed", "60")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"# hrviz watch: demo_run.csv  session {session_id}  via {url}"
    assert lines[1:] == local.stdout.splitlines()[1:], "the server's replay differs from the stored one"
    unknown = run_watch(tmp_path, "--server", url, "--session", "doesnotexist")
    assert unknown.returncode == 2 and "unknown session 'doesnotexist'" in unknown.stderr


def test_server_going_away_mid_replay_exits_1(tmp_path: Path, served: tuple[str, str, subprocess.Popen[str]]) -> None:
    url, session_id, server = served
    watcher = subprocess.Popen(
        [*HRVIZ, "watch", "--server", url, "--session", session_id, "--db", str(tmp_path / "w.sqlite3")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    assert watcher.stdout is not None
    for _ in range(3):
        assert watcher.stdout.readline()
    server.terminate()
    out, err = watcher.communicate(timeout=15)
    assert watcher.returncode == 1, err
    assert "closed the connection" in err
    assert "# end:" in out.splitlines()[-1]


def test_server_restart_mid_replay_resumes_without_gap_or_double(
    tmp_path: Path, served: tuple[str, str, subprocess.Popen[str]]
) -> None:
    url, session_id, server = served
    port = url.rsplit(":", 1)[1]
    local = run_watch(tmp_path, "--session", session_id, "--no-pace", db="serve.sqlite3")
    watcher = subprocess.Popen(
        [*HRVIZ, "watch", "--server", url, "--session", session_id, "--speed", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    assert watcher.stdout is not None
    head = [watcher.stdout.readline().rstrip("\n") for _ in range(30)]
    server.terminate()
    server.wait(timeout=10)
    again = subprocess.Popen(
        [*HRVIZ, "serve", "--port", port, "--db", str(tmp_path / "serve.sqlite3")],
        stderr=subprocess.DEVNULL,
        env=clean_env(tmp_path),
    )
    try:
        rest = watcher.stdout.read()  # not communicate(): it would skip what readline() buffered
        watcher.wait(timeout=30)
    finally:
        again.terminate()
        again.wait(timeout=10)
    assert watcher.stderr is not None
    assert watcher.returncode == 0, watcher.stderr.read()
    assert head[1:] + rest.splitlines() == local.stdout.splitlines()[1:], "a reading was lost or doubled"


@needs_tmux
def test_server_mode_draws_the_chart_and_pause_reaches_the_server(
    tmux: Callable[[str], Tmux], served: tuple[str, str, subprocess.Popen[str]]
) -> None:
    url, session_id, _ = served
    t = tmux(f"--server {url} --session {session_id} --speed 5")
    t.wait_for(lambda s: "readings 5/" in s)
    assert "┤" in t.screen()
    t.keys("Space")
    t.wait_for(lambda s: "paused" in s)
    time.sleep(0.5)  # what was in flight before the server paused
    held = t.header()
    time.sleep(1.5)
    assert t.header() == held
    t.keys("q")
    t.exited_cleanly()


@pytest.fixture
def real_stack(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Env for a fresh MySQL database and a unique Kafka topic on the servers of scripts/services.sh."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import pymysql

    from hrviz.adapters.store.mysql import parse_url
    from tests import services

    base, bootstrap = services.require("mysql"), services.require("kafka")
    name = f"hrviz_test_{uuid.uuid4().hex[:10]}"
    args = parse_url(base)
    args.pop("database")
    with contextlib.closing(pymysql.connect(**args, autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    env = clean_env(tmp_path)
    env["HRVIZ_MYSQL_URL"] = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    env["HRVIZ_KAFKA_BOOTSTRAP"] = bootstrap
    env["HRVIZ_KAFKA_TOPIC"] = f"hrviz.test.{uuid.uuid4().hex[:12]}"
    try:
        yield env
    finally:
        with (
            contextlib.suppress(pymysql.err.OperationalError),
            contextlib.closing(pymysql.connect(**args, autocommit=True, connect_timeout=5)) as conn,
            conn.cursor() as cur,
        ):
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.mark.mysql
@pytest.mark.kafka
def test_stored_session_replays_from_mysql_and_kafka(tmp_path: Path, real_stack: dict[str, str]) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*HRVIZ, *args], capture_output=True, text=True, env=real_stack, timeout=60)

    ingested = run("ingest", str(DEMO), "--json")
    assert ingested.returncode == 0, ingested.stderr
    session_id = re.search(r'"id": "(\w+)"', ingested.stdout)
    assert session_id is not None
    done = run("watch", "--session", session_id.group(1), "--no-pace")
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    embedded = run_watch(tmp_path, str(DEMO), "--no-pace")
    assert done.stdout.splitlines()[1:] == embedded.stdout.splitlines()[1:]
    unknown = run("watch", "--session", "doesnotexist")
    assert unknown.returncode == 2 and "unknown session 'doesnotexist' in MySQL" in unknown.stderr
