"""A shared ``hrviz serve``: the access token at the handshake, TLS, and a token that never leaks.

In-process servers (a loop in a thread) for the handshake rules; ``hrviz serve`` as a subprocess
where what matters is what the user sees (its output, its exit code).
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from hrviz.adapters.serve import auth
from hrviz.adapters.serve.auth import tls_context
from hrviz.adapters.serve.server import ServerConfig
from hrviz.core import protocol
from hrviz.wiring import load_settings, open_backends
from tests.running_server import RunningServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "correct-horse-battery-staple-0123"
SHORT_CSV = "timestamp,bpm\n" + "".join(f"2026-01-01T10:00:{s:02d},{70 + s % 5}\n" for s in range(12))


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Any]:
    started: list[RunningServer] = []

    def make(**overrides: Any) -> RunningServer:
        config = ServerConfig(host="127.0.0.1", port=0, **overrides)
        started.append(RunningServer(lambda: open_backends(load_settings(db=tmp_path / "hrviz.sqlite3")), config))
        return started[-1]

    yield make
    for s in started:
        s.stop()


def protocols(token: str) -> list[Subprotocol]:
    """What the page offers: the API's subprotocol and the token in one of its own."""
    return [Subprotocol("hrviz"), Subprotocol(f"hrviz.token.{token}")]


def test_watch_offers_the_token_the_way_serve_takes_it() -> None:
    # both ends take them from the API's codec (core.protocol), which the page mirrors
    assert (auth.SUBPROTOCOL, auth.TOKEN_PREFIX) == (protocol.SUBPROTOCOL, protocol.TOKEN_PREFIX)
    assert (protocol.SUBPROTOCOL, protocol.TOKEN_PREFIX) == ("hrviz", "hrviz.token.")


def hello(ws: ClientConnection) -> dict[str, Any]:
    msg = json.loads(ws.recv(10))
    assert msg["type"] == "hello"
    return msg


def refused(url: str, **kw: Any) -> int:
    with pytest.raises(InvalidStatus) as err:
        connect(url, open_timeout=5, **kw)
    return err.value.response.status_code


def http_status(url: str, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), context=context) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.close()
        return err.code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the handshake ---------------------------------------------------------------------------------


def test_no_token_or_a_wrong_one_is_refused_with_401(make_server: Any) -> None:
    server = make_server(token=TOKEN)
    assert refused(server.ws) == 401
    assert refused(server.ws, subprotocols=protocols("wrong-token-0123456789")) == 401
    assert refused(server.ws, subprotocols=protocols(TOKEN[:-1])) == 401  # a prefix is no token
    assert refused(server.ws, subprotocols=protocols(TOKEN + "x")) == 401
    assert refused(server.ws, additional_headers={"Authorization": "Bearer nope-nope-nope-nope"}) == 401
    assert refused(server.ws, subprotocols=[Subprotocol("hrviz")]) == 401
    assert http_status(server.http + "/auth") == 401
    assert http_status(server.http + "/auth", {"Authorization": f"Bearer {TOKEN}x"}) == 401


def test_the_right_token_opens_the_api(make_server: Any) -> None:
    server = make_server(token=TOKEN)
    with connect(server.ws, subprotocols=protocols(TOKEN)) as ws:
        assert ws.subprotocol == "hrviz"  # the token is never echoed back
        hello(ws)
        ws.send(json.dumps({"type": "upload", "name": "short.csv", "data": SHORT_CSV, "encoding": "text"}))
        while (msg := json.loads(ws.recv(10)))["type"] != "uploaded":
            assert msg["type"] != "error", msg
    with connect(server.ws, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:  # scripts
        hello(ws)
        ws.send(json.dumps({"type": "sessions"}))
        while (msg := json.loads(ws.recv(10)))["type"] != "sessions":
            pass
        assert [s["source"] for s in msg["sessions"]] == ["short.csv"]
    assert http_status(server.http + "/auth", {"Authorization": f"Bearer {TOKEN}"}) == 204
    # the page itself holds no data and must load to read its token: public
    assert http_status(server.http + "/") == 200 and http_status(server.http + "/app.js") == 200


def test_on_loopback_no_token_is_needed_unless_one_is_given(make_server: Any) -> None:
    open_server = make_server()
    with connect(open_server.ws) as ws:
        hello(ws)
    with connect(open_server.ws, subprotocols=[Subprotocol("hrviz")]) as ws:  # the page without a token
        assert ws.subprotocol == "hrviz"
        hello(ws)
    assert http_status(open_server.http + "/auth") == 204
    # without a token the Origin check is the defence against other pages in the browser
    assert refused(open_server.ws, origin=Origin("http://evil.example:8765")) == 403

    guarded = make_server(token=TOKEN)
    assert refused(guarded.ws) == 401
    # with one, a foreign page is refused for want of the token, whatever its Origin
    assert refused(guarded.ws, origin=Origin(f"http://127.0.0.1:{guarded.server.port}")) == 401
    with connect(guarded.ws, subprotocols=protocols(TOKEN), origin=Origin("http://192.168.1.20:8765")) as ws:
        hello(ws)


def test_the_token_is_compared_in_constant_time(make_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check goes through hmac.compare_digest (timing it on a shared machine would be noise)."""
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", recording)
    server = make_server(token=TOKEN)
    assert refused(server.ws, subprotocols=protocols("guess-guess-guess-guess")) == 401
    with connect(server.ws, subprotocols=protocols(TOKEN)) as ws:
        hello(ws)
    assert compared == [(TOKEN.encode(), b"guess-guess-guess-guess"), (TOKEN.encode(), TOKEN.encode())]


# -- TLS -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost, made by the openssl CLI."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_and_wss_with_a_self_signed_certificate(make_server: Any, cert: tuple[Path, Path]) -> None:
    server = make_server(token=TOKEN, tls=tls_context(*cert))
    trust = ssl.create_default_context(cafile=str(cert[0]))
    assert http_status(server.http + "/", context=trust) == 200
    with connect(server.ws, ssl=trust, subprotocols=protocols(TOKEN)) as ws:
        hello(ws)
    assert refused(server.ws, ssl=trust) == 401
    with pytest.raises(ssl.SSLCertVerificationError):  # a client that does not trust it is told so
        connect(server.ws, subprotocols=protocols(TOKEN), open_timeout=5)
    with pytest.raises(Exception):  # noqa: B017 — plain ws:// on the TLS port: no handshake at all
        connect(f"ws://127.0.0.1:{server.server.port}/ws", subprotocols=protocols(TOKEN), open_timeout=5)


def test_tls_on_loopback_without_token_admits_its_own_https_page(make_server: Any, cert: tuple[Path, Path]) -> None:
    server = make_server(tls=tls_context(*cert))
    trust = ssl.create_default_context(cafile=str(cert[0]))
    port = server.server.port
    with connect(server.ws, ssl=trust, origin=Origin(f"https://localhost:{port}")) as ws:
        hello(ws)
    assert refused(server.ws, ssl=trust, origin=Origin(f"https://evil.example:{port}")) == 403


def test_missing_or_broken_certificate_files_are_one_line_errors(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    cases = [
        (["--certfile", str(tmp_path / "none.pem")], "--certfile " + str(tmp_path / "none.pem") + ": no such file"),
        (["--certfile", str(junk)], f"--certfile {junk}"),
        (["--certfile", str(cert[0]), "--keyfile", str(tmp_path / "nokey.pem")], "--keyfile"),
        (["--certfile", str(cert[0]), "--keyfile", str(cert[0])], "not a usable PEM certificate and key"),
        (["--keyfile", str(cert[1])], "--keyfile needs --certfile"),
    ]
    for args, expected in cases:
        done = run_hrviz("serve", "--port", "0", "--db", str(tmp_path / "x.sqlite3"), *args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hrviz: error: ") and expected in lines[0], (args, lines)
    assert not (tmp_path / "x.sqlite3").exists()


# -- hrviz serve as the user runs it ---------------------------------------------------------------


def run_hrviz(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hrviz", *args],
        capture_output=True, text=True, timeout=timeout, env=env or clean_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HRVIZ_")} | extra


class Serve:
    """``hrviz serve`` in a subprocess, its stdout and stderr in one file."""

    def __init__(self, tmp: Path, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = tmp / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "hrviz", "serve", "--port", str(self.port), "--db", str(tmp / "s.sqlite3"), *args]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env)
        end = time.monotonic() + 30
        while "serving" not in self.output():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < end, self.output()
            time.sleep(0.05)
        time.sleep(0.2)  # the rest of the banner

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        return self.output()


def exercise(port: int, token: str) -> None:
    """Everything that might log a token: the page opened with it, refusals, a session, errors."""
    http, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    assert http_status(f"{http}/?token={token}") == 200
    assert http_status(f"{http}/nope?token={token}") == 404
    assert http_status(f"{http}/auth", {"Authorization": f"Bearer {token[::-1]}"}) == 401
    assert refused(ws_url) == 401
    assert refused(f"{ws_url}?token={token}") == 401  # the query string is not a way in (it gets logged)
    assert refused(ws_url, subprotocols=protocols(token[::-1])) == 401
    with connect(ws_url, subprotocols=protocols(token)) as ws:
        hello(ws)
        for bad in ("{", json.dumps({"type": "upload", "name": "bad.csv", "data": "x,y\n", "encoding": "text"})):
            ws.send(bad)
            while json.loads(ws.recv(10))["type"] != "error":
                pass
        data = base64.b64encode(SHORT_CSV.encode()).decode()
        ws.send(json.dumps({"type": "upload", "name": "short.csv", "data": data}))
        while json.loads(ws.recv(10))["type"] != "uploaded":
            pass


def test_a_given_token_never_appears_in_the_output(tmp_path: Path) -> None:
    server = Serve(tmp_path, ["--host", "0.0.0.0"], clean_env(HRVIZ_TOKEN=TOKEN))
    try:
        exercise(server.port, TOKEN)
    finally:
        out = server.stop()
    assert server.proc.returncode == 0, out
    assert "serving http://0.0.0.0:" in out and "ingested short.csv" in out  # the log did run
    assert "refused /ws from 127.0.0.1: wrong token" in out and "refused /ws from 127.0.0.1: no token" in out
    assert TOKEN not in out and TOKEN[::-1] not in out


def test_a_generated_token_is_printed_once_as_an_address_and_nowhere_else(tmp_path: Path) -> None:
    server = Serve(tmp_path, ["--host", "0.0.0.0"], clean_env())
    try:
        banner = server.output()
        urls = re.findall(rf"http://\S+:{server.port}/\?token=([A-Za-z0-9_-]+)", banner)
        assert len(urls) == 2 and urls[0] == urls[1], banner  # this host's name, and 127.0.0.1
        token = urls[0]
        assert len(token) >= 43  # 256 bits
        exercise(server.port, token)
    finally:
        out = server.stop()
    assert out.count(token) == 2, out
    assert token[::-1] not in out


def test_a_non_loopback_host_never_serves_without_a_token(tmp_path: Path) -> None:
    """Two starts on 0.0.0.0 without --token: each demands a token, each its own."""
    tokens = []
    for _ in range(2):
        server = Serve(tmp_path, ["--host", "0.0.0.0"], clean_env())
        try:
            assert refused(f"ws://127.0.0.1:{server.port}/ws") == 401
            tokens += re.findall(r"\?token=(\S+)", server.output())[:1]
        finally:
            server.stop()
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_a_weak_token_is_refused_without_being_echoed(tmp_path: Path) -> None:
    for weak in ("short", "has space in it and is long", "ünïcödé-töken-löng-enough"):
        done = run_hrviz("serve", "--host", "0.0.0.0", "--port", "0", env=clean_env(HRVIZ_TOKEN=weak))
        assert done.returncode == 2, done.stderr
        assert "--token / HRVIZ_TOKEN must be" in done.stderr and weak not in done.stderr + done.stdout


def test_watch_follows_a_shared_server_with_the_printed_address(tmp_path: Path) -> None:
    server = Serve(tmp_path, ["--host", "127.0.0.1", "--token", TOKEN], clean_env())
    try:
        with connect(f"ws://127.0.0.1:{server.port}/ws", subprotocols=protocols(TOKEN)) as ws:
            hello(ws)
            ws.send(json.dumps({"type": "upload", "name": "short.csv", "data": SHORT_CSV, "encoding": "text"}))
            while (msg := json.loads(ws.recv(10)))["type"] != "uploaded":
                pass
        sid = msg["sessions"][0]["id"]
        address = f"http://127.0.0.1:{server.port}/?token={TOKEN}"
        args = ["watch", "--session", sid, "--speed", "60", "--plain"]
        done = run_hrviz(*args, "--server", address)
        assert done.returncode == 0, done.stderr
        assert len(re.findall(r"^2026-01-01T10:00:\d\d  7\d ", done.stdout, re.M)) == 12, done.stdout
        assert TOKEN not in done.stdout + done.stderr
        bare = f"127.0.0.1:{server.port}"
        done = run_hrviz(*args, "--server", bare, env=clean_env(HRVIZ_TOKEN=TOKEN))
        assert done.returncode == 0, done.stderr
        done = run_hrviz(*args, "--server", bare)
        assert done.returncode == 1 and "needs an access token (--token or HRVIZ_TOKEN)" in done.stderr
        done = run_hrviz(*args, "--server", f"{address}x")
        assert done.returncode == 1 and "did not accept the token" in done.stderr
        assert TOKEN not in done.stdout + done.stderr
    finally:
        out = server.stop()
    assert TOKEN not in out
