"""``hrviz watch --server``: follow a session replayed by a running ``hrviz serve`` (docs/api.md).

The server paces the replay, so this feed only relays: a reader thread turns messages into a
queue the UI thread drains, and pause / speed keys become control messages, so the terminal
behaves as the browser does. When the server drops the connection (shutting down, or this viewer
fell behind) the reader reconnects with backoff and asks to ``resume_from`` the last reading it
got: no gap, no reading twice. Only the UI thread changes the feed's state; the reader thread
talks to it through the queue.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from hrviz.adapters.watch.feed import Tick
from hrviz.core import protocol
from hrviz.core.errors import BackendUnavailable
from hrviz.core.model import Anomaly, Reading
from hrviz.core.replay import SPEEDS

# how hrviz serve takes a token (docs/api.md); spelled here too, as adapter packages stay independent
OPEN_TIMEOUT = 5.0  # seconds to connect and hear back about the session
POLL = 0.05  # seconds between polls of the message queue (the UI also waits on keys)
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0)  # backoff before each attempt; then the loss is final
CONNECTION_LOST = "the server closed the connection"


class UnknownSession(LookupError):
    """The server has no such session: the user's input, so exit 2."""


class ServerFeed:
    """A :class:`hrviz.adapters.watch.feed.Feed` over a websocket connection (renewed if dropped)."""

    def __init__(self, url: str, session_id: str, speed: float = 1.0, token: str | None = None) -> None:
        self.url = url  # without any token: it shows in messages
        self._token = token
        self.session_id = session_id
        self.speed = speed
        self.paused = False
        self.done = False
        self.message: str | None = None
        self.session: dict[str, Any] = {}
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending: list[Anomaly] = []  # events arrive before the reading that reaches them
        self._seen: set[tuple[str, float, float]] = set()  # events held, so a resume never doubles one
        self._last_seq = -1  # last reading received (reader thread): where a resume continues
        self._shown = -1  # last reading handed out (UI thread)
        self._ended = False  # the server said "end" (reader thread): a close after that is no loss
        self._closing = threading.Event()
        self._ws, accepted = self._connect({"type": "replay", "session_id": session_id, "from_seq": 0, "speed": speed})
        self.session = accepted.get("session") or {}
        self.paused = bool(accepted.get("paused", False))
        self._thread = threading.Thread(target=self._pump, name="hrviz-watch-ws", daemon=True)
        self._thread.start()

    @property
    def tz_offset_min(self) -> int | None:
        """The file's UTC offset, recovered from the session's ISO start time."""
        start = self.session.get("start")
        if not isinstance(start, str):
            return None
        offset = datetime.fromisoformat(start.replace("Z", "+00:00")).utcoffset()
        return None if offset is None else int(offset.total_seconds() // 60)

    # -- connection (reader thread, and the constructor) -------------------------------------------

    def _connect(self, request: dict[str, object]) -> tuple[ClientConnection, dict[str, Any]]:
        """Open, send the replay request, and return once the server accepts it (its ``replay``)."""
        ws = _open(ws_url(self.url), self._token)
        try:
            ws.send(json.dumps(request))
            while True:
                try:
                    msg = protocol.decode(ws.recv(timeout=OPEN_TIMEOUT))
                except TimeoutError:
                    raise BackendUnavailable(f"{self.url} did not answer the replay request") from None
                except ConnectionClosed as err:
                    raise BackendUnavailable(f"{self.url} closed the connection: {err}") from None
                except protocol.ProtocolError as err:
                    raise BackendUnavailable(f"{self.url} is not an hrviz server: {err}") from None
                kind = msg.get("type")
                if kind == "replay":
                    return ws, msg
                if kind == "error":
                    if msg.get("code") == "unknown_session":
                        raise UnknownSession(msg.get("message") or f"no session {self.session_id!r}")
                    raise BackendUnavailable(f"{self.url}: {msg.get('message', msg)}")
                # hello, sessions, ...: nothing to act on before the replay starts
        except BaseException:
            ws.close()
            raise

    def _pump(self) -> None:
        while True:
            self._relay()
            if self._closing.is_set() or self._ended:
                break
            if not self._reconnect():
                self._queue.put({"type": "_status", "message": CONNECTION_LOST})
                break
        self._queue.put(None)

    def _relay(self) -> None:
        try:
            for raw in self._ws:
                msg = protocol.decode(raw)
                if msg.get("type") == "reading":
                    self._last_seq = int(msg["seq"])
                elif msg.get("type") == "history" and isinstance(msg.get("bpm"), list):
                    self._last_seq = int(msg.get("first_seq", 0)) + len(msg["bpm"]) - 1
                elif msg.get("type") == "end":
                    self._ended = True
                self._queue.put(msg)
        except ConnectionClosed:
            pass
        except (OSError, ValueError) as err:
            self._queue.put({"type": "_status", "message": f"connection error: {err}"})

    def _reconnect(self) -> bool:
        self._queue.put({"type": "_status", "message": "connection lost; reconnecting…"})
        request = {
            "type": "resume_from",
            "session_id": self.session_id,
            "seq": self._last_seq,
            "speed": self.speed,
            "paused": self.paused,
        }
        for delay in RECONNECT_DELAYS:
            if self._closing.wait(delay):
                return False
            try:
                self._ws, _ = self._connect(request)
            except (BackendUnavailable, UnknownSession):
                continue
            self._queue.put({"type": "_status", "message": None})
            return True
        return False

    # -- the Feed (UI thread) ----------------------------------------------------------------------

    def poll(self, now: float) -> list[Tick]:
        ticks: list[Tick] = []
        while not self.done:
            try:
                msg = self._queue.get_nowait()
            except queue.Empty:
                break
            self._handle(msg, ticks)
        return ticks

    def _handle(self, msg: dict[str, Any] | None, ticks: list[Tick]) -> None:
        kind = None if msg is None else msg.get("type")
        if msg is None:
            if self._pending:
                ticks.append(Tick(None, self._pending))
                self._pending = []
            self.done = True
        elif kind in ("reading", "anomaly"):
            try:
                self._take(msg, ticks)
            except protocol.ProtocolError as err:
                self.message = f"a message the server sent could not be read: {err}"
        elif kind == "history":  # a live session opens at its edge: what was recorded so far, at once
            try:
                ticks += [Tick(r) for r in history_readings(msg)]
            except (KeyError, TypeError, ValueError, IndexError) as err:
                self.message = f"a history page the server sent could not be read: {err}"
        elif kind == "end":
            self.done = True  # the server keeps the connection open; the replay is over
            if self._pending:  # found when the live session was finalized (a flatline running at its end)
                ticks.append(Tick(None, self._pending))
                self._pending = []
        elif kind == "state":
            self.paused = bool(msg.get("paused", self.paused))
            self.speed = float(msg.get("speed", self.speed))
        elif kind == "error":
            self.message = str(msg.get("message", "server error"))
        elif kind == "_status":
            self.message = msg.get("message")

    def _take(self, msg: dict[str, Any], ticks: list[Tick]) -> None:
        if msg["type"] == "reading":
            reading = protocol.reading_from(msg)
            ticks.append(Tick(reading, self._pending))
            self._pending = []
            self._shown = reading.seq
            return
        event = protocol.anomaly_from(msg)
        key = (str(event.kind), event.start, event.end)
        if key in self._seen:
            return
        self._seen.add(key)
        if isinstance(msg.get("seq"), int) and msg["seq"] <= self._shown:
            ticks.append(Tick(None, [event]))  # a live session's, found after its reading went: shown now
        else:
            self._pending.append(event)

    def next_at(self, now: float) -> float | None:
        return None if self.done else now + POLL

    def toggle_pause(self, now: float) -> None:
        self.paused = not self.paused  # at once on screen; the server's "state" confirms
        self._send({"type": "pause" if self.paused else "resume"})

    def set_speed(self, now: float, speed: float) -> None:
        if speed in SPEEDS:
            self.speed = speed
            self._send({"type": "speed", "speed": speed})

    def _send(self, msg: dict[str, object]) -> None:
        with contextlib.suppress(ConnectionClosed):  # the reader reconnects; its resume_from carries these
            self._ws.send(json.dumps(msg))

    def close(self) -> None:
        self._closing.set()
        self._ws.close()
        self._thread.join(timeout=2)


def ws_url(server: str) -> str:
    """Accept what people type (``HOST:PORT``, ``ws://HOST:PORT``, the page's ``http://`` address).

    The server answers websockets on ``/ws`` only (docs/api.md), so a bare address gets that path.
    """
    if "://" not in server:
        server = "ws://" + server
    scheme, rest = server.split("://", 1)
    scheme = {"http": "ws", "https": "wss"}.get(scheme.lower(), scheme.lower())
    host, _, path = rest.partition("/")
    if not path.strip("/"):
        path = protocol.WS_PATH.lstrip("/")
    return f"{scheme}://{host}/{path}"


def split_token(server: str, token: str | None) -> tuple[str, str | None]:
    """The address without its ``token=`` (query or fragment, as ``hrviz serve`` prints it), and the token.

    An explicit ``token`` (``--token`` / ``HRVIZ_TOKEN``) wins. The address returned is safe to print.
    """
    parts = urlsplit(server if "://" in server else "ws://" + server)
    query = parse_qsl(parts.query, keep_blank_values=True)
    fragment = parse_qsl(parts.fragment, keep_blank_values=True)
    found = [v for k, v in query + fragment if k == "token"]
    if not found:
        return server, token
    keep = [(k, v) for k, v in query if k != "token"]
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(keep), ""))
    return clean, token or found[-1]


def _open(url: str, token: str | None = None) -> ClientConnection:
    protocols = [Subprotocol(protocol.SUBPROTOCOL), Subprotocol(protocol.TOKEN_PREFIX + token)] if token else None
    try:
        return connect(url, open_timeout=OPEN_TIMEOUT, max_size=None, subprotocols=protocols)
    except InvalidURI:
        raise BackendUnavailable(f"{url!r} is not a websocket URL (ws://HOST:PORT)") from None
    except InvalidStatus as err:
        if err.response.status_code != 401:
            raise BackendUnavailable(f"cannot reach hrviz serve at {url}: {err}") from None
        why = "did not accept the token" if token else "needs an access token (--token or HRVIZ_TOKEN)"
        raise BackendUnavailable(f"hrviz serve at {url} {why}") from None
    except (OSError, TimeoutError, InvalidHandshake) as err:
        raise BackendUnavailable(f"cannot reach hrviz serve at {url}: {err}") from None


def history_readings(msg: dict[str, Any]) -> list[Reading]:
    """A ``history`` page (docs/api.md) back into readings: times from the millisecond steps."""
    first, ms = int(msg["first_seq"]), round(float(msg["t0"]) * 1000)
    filled = set(msg.get("filled") or ())
    kinds = {int(i): tuple(map(str, k)) for i, k in msg.get("kinds") or ()}
    out = []
    for i, (step, bpm) in enumerate(zip(msg["dt_ms"], msg["bpm"], strict=True)):
        ms += int(step)
        out.append(Reading(first + i, ms / 1000, float(bpm), i in filled, kinds.get(i, ())))
    return out
