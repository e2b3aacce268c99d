"""Who may use a shared ``hrviz serve``: an access token, checked at the WebSocket handshake, and TLS.

Every stored session is health data, so a server reachable from other machines demands a token
(``--token`` / ``HRVIZ_TOKEN``, or one generated at start, as Jupyter does). The page and its files
stay public: they hold no data, and the page must load to read the token from its address. All data
travels over ``/ws``, and that handshake is refused with ``401`` without the right token.

How a client sends it (docs/api.md): a browser cannot set headers on a WebSocket, so the page
offers the subprotocols ``hrviz`` and ``hrviz.token.<TOKEN>``; the server selects ``hrviz`` and
never echoes the token. A header, unlike a query string, stays out of the access logs of a
reverse proxy and of websockets' own request lines. Scripts may send ``Authorization: Bearer``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
import ssl
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from hrviz.core import protocol

SUBPROTOCOL = Subprotocol(protocol.SUBPROTOCOL)
TOKEN_PREFIX = protocol.TOKEN_PREFIX
GUARDED = (protocol.WS_PATH, "/auth")  # /auth: 204 or 401, so the page can tell "needs a token" from "server down"
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]{16,256}")  # fits a subprotocol name and a URL unescaped
MIN_TOKEN = 16
log = logging.getLogger("hrviz.serve")

ProcessRequest = Callable[[ServerConnection, Request], Response | None | Awaitable[Response | None]]


def new_token() -> str:
    """43 URL-safe characters (256 bits) from the OS's randomness."""
    return secrets.token_urlsafe(32)


def check_token(token: str) -> str:
    """The token as given, or ValueError saying what a usable one looks like (never echoing it)."""
    if not TOKEN_CHARS.fullmatch(token):
        raise ValueError(
            f"--token / HRVIZ_TOKEN must be {MIN_TOKEN} to 256 characters among A-Z a-z 0-9 . _ ~ - "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    return token


def is_loopback(host: str) -> bool:
    """True when only this machine can connect (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def offered_token(headers: Headers) -> str | None:
    """The token a client sent: in a ``hrviz.token.`` subprotocol, or as ``Authorization: Bearer``."""
    try:
        for value in headers.get_all("Sec-WebSocket-Protocol"):
            for proto in parse_subprotocol(value):
                if proto.startswith(TOKEN_PREFIX):
                    return proto[len(TOKEN_PREFIX) :]
    except InvalidHeader:
        return None
    auth = headers.get("Authorization", "")
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def token_matches(expected: str, offered: str | None) -> bool:
    """Constant-time: how much of a guess matched must not show in the time of the answer."""
    return offered is not None and hmac.compare_digest(expected.encode(), offered.encode("utf-8", "replace"))


def guard(handler: ProcessRequest, token: str | None) -> ProcessRequest:
    """Wrap a ``process_request`` hook: ``/ws`` and ``/auth`` need ``token`` (when there is one)."""

    def process_request(connection: ServerConnection, request: Request) -> Response | None | Awaitable[Response | None]:
        path = request.path.split("?", 1)[0]
        if path in GUARDED:
            offered = offered_token(request.headers) if token is not None else None
            if token is not None and not token_matches(token, offered):
                peer = connection.remote_address[0] if connection.remote_address else "?"
                log.info(
                    "refused %s from %s: %s", path, peer, "wrong token" if offered else "no token"
                )  # never the token
                return _respond(HTTPStatus.UNAUTHORIZED, b"hrviz: this server needs its access token\n")
            if path == "/auth":
                return _respond(HTTPStatus.NO_CONTENT, b"")
        return handler(connection, request)

    return process_request


def select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """``hrviz`` when offered (a browser that offers subprotocols needs one back); never the token."""
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


def tls_context(certfile: Path, keyfile: Path | None) -> ssl.SSLContext:
    """A server TLS context, or ValueError in one line naming the file at fault."""
    for label, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is not None and not path.is_file():
            raise ValueError(f"{label} {path}: no such file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile)
    except ssl.SSLError as err:
        which = f"{certfile}" + (f" / --keyfile {keyfile}" if keyfile else "")
        reason = err.reason or err.strerror or str(err)
        raise ValueError(f"--certfile {which}: not a usable PEM certificate and key ({reason})") from None
    except OSError as err:
        raise ValueError(f"--certfile {certfile}: {err.strerror or err}") from None
    return context


def _respond(status: HTTPStatus, body: bytes) -> Response:
    headers = Headers({"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))})
    headers["Cache-Control"] = "no-store"
    headers["Connection"] = "close"
    if status == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="hrviz"'
    return Response(status.value, status.phrase, headers, body)


__all__ = [
    "GUARDED",
    "SUBPROTOCOL",
    "TOKEN_PREFIX",
    "check_token",
    "guard",
    "is_loopback",
    "new_token",
    "offered_token",
    "select_subprotocol",
    "tls_context",
    "token_matches",
]
