"""The WebSocket API's one codec, sans-I/O: what a client sends, what the server sends, and the
constants both ends share (the path, the subprotocol, the close code, the upload chunk size).

Kept pure (no sockets, no asyncio) so that every rule of docs/api.md — which fields a message
needs, which speeds exist, how big an upload may be — is checked in one place and unit-tested
without a server. The server adapter only moves bytes and calls these functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from hrviz.core.model import Anomaly, Kind, Reading, Session, anomaly_dict, format_ts
from hrviz.core.replay import WIRE_SPEEDS

API_VERSION = 1
CHUNK_BYTES = 256 * 1024  # what the page sends per chunk; the server accepts any size under max_size
SESSION_ID = re.compile(r"[0-9A-Za-z_.:-]{1,64}")  # ids are hex; anything else cannot name a session
LISTED_EVENTS = 50  # anomalies listed in a session sent with "uploaded" / "replay" (the count is exact)
# Sessions and skipped files listed in "uploaded" (with their totals): an archive of thousands of
# files keeps the answer far below the 1 MiB send queue instead of closing the uploader's socket.
UPLOADED_SESSIONS, UPLOADED_SKIPPED = 20, 50
MAX_SEQ = 2**62  # beyond any session; bigger integers are refused before they reach a database


class ProtocolError(ValueError):
    """A message the server cannot act on; ``code`` is stable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Upload:
    """Start of an upload; ``data`` is the whole file when it fits in this one message."""

    name: str
    size: int
    data: bytes | None


@dataclass(frozen=True, slots=True)
class Chunk:
    data: bytes


@dataclass(frozen=True, slots=True)
class Control:
    """``pause``, ``resume``, ``restart``, ``sessions``: no arguments."""

    type: str


@dataclass(frozen=True, slots=True)
class SetSpeed:
    speed: float


@dataclass(frozen=True, slots=True)
class Replay:
    """``replay`` (from the start, or ``from_seq``) and ``resume_from`` (continue after ``seq``)."""

    session_id: str
    from_seq: int
    speed: float | None = None
    paused: bool = False
    history_from: int | None = None  # also send readings [history_from, from_seq) in "history" pages


@dataclass(frozen=True, slots=True)
class Browse:
    """``sessions``: one page of past sessions, filtered by name and sorted (docs/api.md)."""

    offset: int = 0
    limit: int = 20
    query: str = ""
    order: str = "uploaded"


@dataclass(frozen=True, slots=True)
class Delete:
    session_id: str


@dataclass(frozen=True, slots=True)
class InsightsRequest:
    """``insights``: a session's figures (docs/insights.md), and its HTML report when ``html``."""

    session_id: str
    html: bool = False


@dataclass(frozen=True, slots=True)
class Export:
    """``export``: a session's readings as CSV, sent in ``export`` parts."""

    session_id: str


@dataclass(frozen=True, slots=True)
class TrendsRequest:
    """``trends``: per day across every stored session (docs/insights.md, "Trends")."""


Message = Upload | Chunk | Control | SetSpeed | Replay | Browse | Delete | InsightsRequest | Export | TrendsRequest
CONTROLS = frozenset({"pause", "resume", "restart"})
ORDERS = ("uploaded", "start", "name", "readings", "anomalies")  # as core.ports.ORDERS
MAX_LIMIT = 100


def parse(text: str | bytes, max_upload: int) -> Message:
    """One client message, validated; raises :class:`ProtocolError` with a precise reason."""
    if isinstance(text, bytes):
        raise ProtocolError("bad_message", "send JSON text frames, not binary frames")
    try:
        msg = json.loads(text)
    except ValueError as err:
        raise ProtocolError("bad_message", f"not valid JSON: {err}") from None
    except RecursionError:  # e.g. 100,000 nested arrays
        raise ProtocolError("bad_message", "not valid JSON: nested too deeply") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("bad_message", 'every message is a JSON object with a "type"')
    kind = msg["type"]
    if kind in CONTROLS:
        return Control(kind)
    if kind == "sessions":
        return _browse(msg)
    if kind == "delete":
        sid = msg.get("session_id")
        if not isinstance(sid, str) or not SESSION_ID.fullmatch(sid):
            raise ProtocolError("bad_message", '"delete" needs a "session_id" (letters, digits, "_.:-", at most 64)')
        return Delete(sid)
    if kind == "trends":
        return TrendsRequest()
    if kind in ("insights", "export"):
        sid = msg.get("session_id")
        if not isinstance(sid, str) or not SESSION_ID.fullmatch(sid):
            raise ProtocolError("bad_message", f'"{kind}" needs a "session_id" (letters, digits, "_.:-", at most 64)')
        if kind == "export":
            return Export(sid)
        html = msg.get("html", False)
        if not isinstance(html, bool):
            raise ProtocolError("bad_message", f'"html" must be true or false, not {_show(html)}')
        return InsightsRequest(sid, html)
    if kind == "speed":
        return SetSpeed(_speed(msg.get("speed")))
    if kind == "upload":
        return _upload(msg, max_upload)
    if kind == "chunk":
        return Chunk(_data(msg))
    if kind in ("replay", "resume_from"):
        sid = msg.get("session_id")
        if not isinstance(sid, str) or not SESSION_ID.fullmatch(sid):
            raise ProtocolError("bad_message", f'"{kind}" needs a "session_id" (letters, digits, "_.:-", at most 64)')
        field = "from_seq" if kind == "replay" else "seq"
        seq = msg.get(field, 0 if kind == "replay" else None)
        if not _integer(seq) or not (0 if kind == "replay" else -1) <= seq <= MAX_SEQ:
            lowest = "a non-negative integer" if kind == "replay" else "an integer >= -1"
            raise ProtocolError("bad_message", f'"{kind}" needs "{field}" as {lowest}')
        speed = None if msg.get("speed") is None else _speed(msg.get("speed"))
        paused = False if msg.get("paused") is None else msg["paused"]
        if not isinstance(paused, bool):  # "false" (a string) is truthy: refuse it rather than guess
            raise ProtocolError("bad_message", f'"paused" must be true or false, not {_show(paused)}')
        start = seq if kind == "replay" else seq + 1
        history = msg.get("history_from")
        if history is not None and (not _integer(history) or not 0 <= history <= MAX_SEQ):
            raise ProtocolError("bad_message", '"history_from" must be a non-negative integer')
        return Replay(sid, start, speed, paused, None if history is None else min(history, start))
    raise ProtocolError("unknown_type", f"unknown message type {_show(kind)}")


def _browse(msg: dict[str, Any]) -> Browse:
    offset, limit = msg.get("offset", 0), msg.get("limit", 20)
    query, order = msg.get("q", ""), msg.get("sort", "uploaded")
    if not _integer(offset) or not 0 <= offset <= MAX_SEQ:
        raise ProtocolError("bad_message", '"offset" must be a non-negative integer')
    if not _integer(limit) or not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError("bad_message", f'"limit" must be an integer from 1 to {MAX_LIMIT}')
    if not isinstance(query, str) or len(query) > 200 or not _unicode(query):
        raise ProtocolError("bad_message", '"q" must be a string of at most 200 characters')
    if order not in ORDERS:
        raise ProtocolError("bad_message", f'"sort" must be one of {", ".join(ORDERS)}, not {_show(order)}')
    return Browse(offset, limit, query, order)


def _integer(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any, limit: int = 40) -> str:
    """A client's value for an error message: short, and ASCII (repr escapes lone surrogates)."""
    text = ascii(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _speed(value: Any) -> float:
    # SPEEDS are small: compare ints as ints (float() of a 400-digit int raises OverflowError)
    ok = isinstance(value, float) or (_integer(value) and abs(value) <= MAX_SEQ)
    if not ok or float(value) not in WIRE_SPEEDS:
        allowed = ", ".join(f"{s:g}" for s in WIRE_SPEEDS)
        raise ProtocolError("bad_speed", f"speed must be one of {allowed}, not {_show(value)}")
    return float(value)


def _upload(msg: dict[str, Any], max_upload: int) -> Upload:
    name = msg.get("name")
    size = msg.get("size")
    if not isinstance(name, str) or not name.strip():
        raise ProtocolError("bad_message", '"upload" needs the file "name"')
    if not _unicode(name):
        raise ProtocolError("bad_message", '"name" is not valid Unicode (a lone surrogate escape)')
    name = name.replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload.csv"  # a label, never a path
    data = _data(msg) if "data" in msg else None
    if size is None and data is not None:
        size = len(data)
    if not _integer(size) or size < 0:
        raise ProtocolError("bad_message", '"upload" needs "size" in bytes')
    check_size(size, max_upload)
    if data is not None and len(data) != size:
        raise ProtocolError("bad_message", f'"size" says {size} bytes but "data" holds {len(data)}')
    return Upload(name, size, data)


def check_size(size: int, max_upload: int) -> None:
    if size > max_upload:
        raise ProtocolError(
            "too_large",
            f"the file is {mib(size)}, over this server's upload limit of {mib(max_upload)} "
            "(start the server with a larger --max-upload-mb)",
        )


def mib(n: int) -> str:
    if n >= 2**70:  # n / 2**20 would overflow a float for a 400-digit "size"
        return "more than 1e15 MB"
    return f"{n / 2**20:.1f} MB"


def _unicode(text: str) -> bool:
    """False for strings that cannot be sent back as UTF-8 (JSON's "\\ud800" decodes to a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _data(msg: dict[str, Any]) -> bytes:
    data = msg.get("data")
    encoding = msg.get("encoding", "base64")
    if not isinstance(data, str):
        raise ProtocolError("bad_message", '"data" must be a string (base64, or text with "encoding": "text")')
    if encoding == "text":
        if not _unicode(data):
            raise ProtocolError("bad_message", '"data" is not valid Unicode (a lone surrogate escape)')
        return data.encode("utf-8")
    if encoding != "base64":
        raise ProtocolError("bad_message", f'"encoding" must be "base64" or "text", not {_show(encoding)}')
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("bad_message", '"data" is not valid base64') from None


# -- what the server sends -------------------------------------------------------------------------


def dumps(msg: dict[str, object]) -> str:
    return json.dumps(msg, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def error(code: str, message: str, **extra: object) -> str:
    return dumps({"type": "error", "code": code, "message": message, **extra})


def reading(r: Reading, tz_offset_min: int | None, after_gap: bool) -> str:
    """``t`` (epoch seconds) is for charts; ``ts`` is the time as the file wrote it, for people."""
    return dumps(
        {
            "type": "reading",
            "seq": r.seq,
            "ts": format_ts(r.ts, tz_offset_min),
            "t": r.ts,
            "bpm": r.bpm,
            "filled": r.filled,
            "kinds": list(r.kinds),
            "after_gap": after_gap,
        }
    )


def anomaly(a: Anomaly, tz_offset_min: int | None, seq: int) -> str:
    return dumps({"type": "anomaly", "seq": seq, "t_start": a.start, "t_end": a.end, **anomaly_dict(a, tz_offset_min)})


def session_brief(s: Session, events: int = LISTED_EVENTS) -> dict[str, object]:
    """A session for ``uploaded`` and ``replay``: at most ``events`` anomalies, and their count.

    A recording can have tens of thousands of events (3 MB of JSON); sending them all with every
    ``replay`` request let one client make the server queue gigabytes. The events reach a viewer
    anyway, as ``anomaly`` messages when the replay gets to them.
    """
    d = replace(s, anomalies=s.anomalies[:events]).as_dict()
    d["source"] = display_source(s.source)
    d["anomaly_count"] = len(s.anomalies)
    if len(s.anomalies) > events:
        d["anomalies_truncated"] = True
    return d


def session_summary(s: Session, uploaded_at: float | None = None, anomalies: int | None = None) -> dict[str, object]:
    """A session for listings: the summary without the (possibly long) list of events."""
    d = replace(s, anomalies=[]).as_dict()
    del d["anomalies"]
    d["source"] = display_source(s.source)
    d["uploaded_at"] = uploaded_at
    d["anomaly_count"] = len(s.anomalies) if anomalies is None else anomalies
    return d


def display_source(source: str) -> str:
    """The file's name as a viewer may see it: never the directory ``hrviz ingest`` read it from.

    A member of an archive keeps the archive's name (``rides.zip/a.fit``), since that is what
    the person gave; everything before it (the local path) is dropped.
    """
    parts = source.replace("\\", "/").split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i].lower().endswith(".zip"):
            return "/".join(parts[i:])
    return parts[-1] or source


# -- constants of the wire, for the server, ``hrviz watch --server`` and (through "hello") the page --

WS_PATH = "/ws"  # the one websocket endpoint; everything else is the page (HTTP)
SUBPROTOCOL = "hrviz"  # offered with a "hrviz.token.<token>" subprotocol by clients of a shared server
TOKEN_PREFIX = "hrviz.token."
CLOSE_TOO_SLOW = 1013  # "try again later": a viewer that fell behind; it reconnects and resumes


def hello(max_upload: int) -> dict[str, object]:
    """The first message on every connection: what this server accepts, so clients hard-code none of it."""
    return {
        "type": "hello",
        "api": API_VERSION,
        "max_upload_bytes": max_upload,
        "chunk_bytes": CHUNK_BYTES,
        "speeds": list(WIRE_SPEEDS),
    }


# -- what a client reads (hrviz watch --server; web/app.js reads the same fields) -------------------


def decode(raw: str | bytes) -> dict[str, Any]:
    """One server message as a dict with a string ``type``; unknown types are the caller's to skip."""
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise ProtocolError("bad_message", f"not valid JSON: {err}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("bad_message", 'every message is a JSON object with a "type"')
    return msg


def reading_from(msg: dict[str, Any]) -> Reading:
    """The :class:`Reading` of a ``reading`` message (inverse of :func:`reading`); extra fields are ignored."""
    seq, t, bpm = msg.get("seq"), msg.get("t"), msg.get("bpm")
    filled, kinds = msg.get("filled", False), msg.get("kinds", [])
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ProtocolError("bad_message", f'"reading" needs "seq" as a non-negative integer, not {seq!r}')
    if not isinstance(filled, bool) or not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ProtocolError("bad_message", '"reading" needs "filled" true/false and "kinds" a list of names')
    return Reading(seq, _number(t, "t"), _number(bpm, "bpm"), filled, tuple(kinds))


def anomaly_from(msg: dict[str, Any]) -> Anomaly:
    """The :class:`Anomaly` of an ``anomaly`` message (inverse of :func:`anomaly`); extra fields are ignored."""
    try:
        kind = Kind(str(msg.get("kind")))
    except ValueError:
        raise ProtocolError("bad_message", f"unknown anomaly kind {msg.get('kind')!r}") from None
    optional = [None if msg.get(k) is None else _number(msg[k], k) for k in ("bpm", "baseline", "delta")]
    return Anomaly(kind, _number(msg.get("t_start"), "t_start"), _number(msg.get("t_end"), "t_end"), *optional)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("bad_message", f'"{name}" must be a finite number, not {value!r}')
    return float(value)
