"""The page, served over HTTP by the websockets server itself (one port, one process).

Why not a separate web server: the page and its WebSocket then share an origin, which is what
lets the server accept only handshakes coming from its own page (plus ``--allow-origin``). The
handful of files is read once at start and served with a strict Content-Security-Policy.
"""

from __future__ import annotations

import ipaddress
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Origin

import hrviz
from hrviz.core import protocol

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def web_dir() -> Path:
    """``web/`` inside the installed package, else the source checkout's (``HRVIZ_WEB_DIR`` overrides both)."""
    package = Path(hrviz.__file__).resolve().parent
    for candidate in (package / "web", package.parent / "web"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError(f"cannot find the page (web/index.html) near {package}; set HRVIZ_WEB_DIR")


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


def load_files(folder: Path) -> dict[str, StaticFile]:
    """Every regular file directly in ``folder`` by URL path; nothing else is ever served."""
    files: dict[str, StaticFile] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files["/" + path.name] = StaticFile(path.read_bytes(), kind)
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def static_handler(files: dict[str, StaticFile]):  # type: ignore[no-untyped-def]
    """A ``process_request`` hook: files for plain GETs, the handshake for ``/ws``."""

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == protocol.WS_PATH:
            return None  # the WebSocket handshake proceeds (and its Origin is checked)
        found = files.get(path)
        if found is None:
            return respond(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        return respond(HTTPStatus.OK, found.body, found.content_type)

    return process_request


def respond(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers(SECURITY_HEADERS)
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Connection"] = "close"
    return Response(status.value, status.phrase, headers, body)


def allowed_origins(host: str, port: int, extra: Iterable[str], https: bool = False) -> list[Origin | None]:
    """Origins of the server's own page, as a browser would spell them, plus ``--allow-origin``.

    ``None`` admits clients that send no Origin at all (scripts, the CLI): browsers always send
    one, so this does not open the door to other web pages.
    """
    names = {host}
    if _is_loopback(host) or host in ("0.0.0.0", "::", ""):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    origins: list[Origin | None] = [None]
    for name in sorted(names):
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        origins.append(Origin(f"{'https' if https else 'http'}://{name}:{port}"))
    origins += [Origin(o.rstrip("/")) for o in extra]
    return origins


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
