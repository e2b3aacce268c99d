"""Browser fixtures for the e2e tests: Debian's chromium through Playwright, and ``hrviz serve``
as a real subprocess (so a test can kill and restart it on the same port).

Import the fixtures (``browser_fixture``, ``page_fixture``, ``serve_fixture``, registered as
``browser``, ``page``, ``serve``) into a test module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("HRVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``hrviz serve`` in a subprocess; :meth:`restart` keeps the port, the db and the flags."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.args = args
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 30) -> None:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("hrviz serve is already running: a second start would orphan the first process")
        cmd = [sys.executable, "-m", "hrviz", "serve", "--port", str(self.port), *self.args]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=self.env)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hrviz serve exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if re.search(rf"serving http://\S+:{self.port}/", self.log.read_text(errors="replace")):
                return
            time.sleep(0.05)
        raise RuntimeError(f"hrviz serve did not start in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        with self.log.open("a") as log:
            log.write("--- restart ---\n")
        self.start()


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any HRVIZ_* setting that could point the server elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | extra


@pytest.fixture(scope="module", name="browser")  # module: its event loop must be gone before asyncio tests run
def browser_fixture() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(name="page")
def page_fixture(browser: Any) -> Iterator[Any]:
    """A fresh page; console errors and page errors are collected in ``page.hrviz_errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.hrviz_errors = errors
    page.hrviz_wire = record_wire(page)
    yield page
    context.close()


def record_wire(page: Any) -> list[dict[str, Any]]:
    """Every JSON message the server sent this page, in order, over all its sockets (a reconnect opens a new one):
    observed by the browser, not by the page's code, so a test can check what arrived, not what the page says."""
    wire: list[dict[str, Any]] = []

    def frame(payload: str | bytes) -> None:
        if isinstance(payload, str):
            wire.append(json.loads(payload))

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    return wire


def wire_seqs(wire: list[dict[str, Any]]) -> list[int]:
    """The reading seqs the wire carried, in arrival order: each ``reading`` and every reading of a ``history`` page."""
    seqs: list[int] = []
    for m in list(wire):
        if m["type"] == "reading":
            seqs.append(m["seq"])
        elif m["type"] == "history":
            seqs.extend(range(m["first_seq"], m["first_seq"] + len(m["bpm"])))
    return seqs


@pytest.fixture(name="serve")
def serve_fixture(tmp_path: Path) -> Iterator[ServeProcess]:
    """``hrviz serve`` on the embedded default, with a db of its own."""
    server = ServeProcess(["--db", str(tmp_path / "hrviz.sqlite3")], clean_env(), tmp_path / "serve.log")
    yield server
    server.stop()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def number(page: Any, selector: str) -> int:
    return int(page.text_content(selector) or "0")


def wait_until(page: Any, check: Any, timeout: float = 20, what: str = "condition") -> None:
    """Poll from Python: the page's CSP forbids the eval behind ``page.wait_for_function``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


__all__ = [
    "ARTIFACTS",
    "ServeProcess",
    "browser_fixture",
    "clean_env",
    "free_port",
    "number",
    "page_fixture",
    "serve_fixture",
    "record_wire",
    "wire_seqs",
    "shot",
    "wait_until",
]
