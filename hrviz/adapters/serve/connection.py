"""One WebSocket client: its uploads, its replay, its controls (docs/api.md, message by message).

The receive loop only parses and dispatches; everything slow happens elsewhere: file writes and
ingest in worker threads, readings in the :class:`Player` task, sending in the send queue's task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Protocol, TypeVar

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from hrviz.adapters.serve.explore import Explorer, send_history
from hrviz.adapters.serve.hub import HubRegistry
from hrviz.adapters.serve.insights import send_export, send_insights, send_trends
from hrviz.adapters.serve.pending_upload import PendingUpload
from hrviz.adapters.serve.viewer import PacingStats, Player, SendQueue
from hrviz.core import protocol
from hrviz.core.errors import BackendUnavailable, InputError
from hrviz.core.ingest import Ingested, PublishReport
from hrviz.core.model import Session
from hrviz.core.ports import LiveMark, SessionStore
from hrviz.core.protocol import (
    Browse,
    Chunk,
    Control,
    Delete,
    Export,
    InsightsRequest,
    ProtocolError,
    Replay,
    SetSpeed,
    TrendsRequest,
    Upload,
)

log = logging.getLogger("hrviz.serve")
T = TypeVar("T")


class Limits(Protocol):
    @property
    def max_upload(self) -> int: ...

    @property
    def max_uploads(self) -> int: ...


class Shared(Protocol):
    """What a connection uses of its server (:class:`hrviz.adapters.serve.server.App` provides it)."""

    @property
    def config(self) -> Limits: ...

    @property
    def counters(self) -> Counter[str]: ...

    @property
    def hubs(self) -> HubRegistry: ...

    @property
    def pacing(self) -> PacingStats: ...

    uploads: int  # uploads receiving or ingesting, server-wide

    @property
    def upload_dir(self) -> str: ...

    @property
    def explorer(self) -> Explorer: ...

    async def with_store(self, fn: Callable[[SessionStore], T]) -> T: ...

    def live_ids(self) -> dict[str, LiveMark]: ...

    async def ingest_file(self, path: str, name: str, progress: Callable[[int], None]) -> Ingested: ...

    async def publish_soon(self) -> PublishReport: ...


UPLOAD_IDLE = 30.0  # seconds without a chunk before an unfinished upload is cancelled


class Connection:
    """State of one client: at most one upload in flight and one session playing."""

    def __init__(self, app: Shared, ws: ServerConnection) -> None:
        self.app = app
        self.ws = ws
        self.out = SendQueue(ws.send, self._too_slow)
        self.player: Player | None = None
        self.upload: PendingUpload | None = None
        self.ingesting = False
        self._ingest_task: asyncio.Task[None] | None = None
        self.speed = 1.0
        self.paused = False
        self._explored: str | None = None  # the session whose overview and events this client has
        self._exploring: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        cfg = self.app.config
        self.send(protocol.hello(cfg.max_upload))
        try:
            async for raw in self.ws:
                try:
                    await self.dispatch(protocol.parse(raw, cfg.max_upload))
                except ProtocolError as err:
                    self.out.put(protocol.error(err.code, err.message))
                except Exception as err:  # noqa: BLE001 — one message must never end the connection
                    log.exception("handling a message failed")
                    self.out.put(protocol.error("internal", f"could not handle that message: {err}"))
        except ConnectionClosed:
            pass
        finally:
            await self.close()

    async def close(self) -> None:
        if self._exploring is not None:
            self._exploring.cancel()
        await self._stop_player()
        self._drop_upload()
        self.out.close()

    def _drop_upload(self) -> None:
        if self.upload is not None:
            self.upload.discard()
            self.upload = None
            self.app.uploads -= 1

    def send(self, message: dict[str, object]) -> None:
        self.out.put(protocol.dumps(message))

    def _too_slow(self) -> None:
        log.warning("closing a viewer that cannot keep up")
        self.app.counters["slow_closed"] += 1
        asyncio.get_running_loop().create_task(self.ws.close(protocol.CLOSE_TOO_SLOW, "too slow: reconnect and resume"))

    # -- dispatch ---------------------------------------------------------------------------------

    async def dispatch(self, msg: protocol.Message) -> None:
        if isinstance(msg, Upload):
            await self._begin_upload(msg)
        elif isinstance(msg, Chunk):
            await self._chunk(msg.data)
        elif isinstance(msg, Replay):
            await self._play(msg.session_id, msg.from_seq, msg.speed, msg.paused, msg.history_from)
        elif isinstance(msg, SetSpeed):
            self.speed = msg.speed
            if self.player is not None:
                self.player.set_speed(msg.speed)
            self._state()
        elif isinstance(msg, Control):
            await self._control(msg.type)
        elif isinstance(msg, Browse):
            await self._browse(msg)
        elif isinstance(msg, Delete):
            await self._delete(msg.session_id)
        elif isinstance(msg, InsightsRequest):
            await send_insights(self.app.with_store, self.send, msg.session_id, msg.html)
        elif isinstance(msg, Export):
            await send_export(self.app.with_store, self.out, protocol.dumps, msg.session_id)
        elif isinstance(msg, TrendsRequest):
            await send_trends(self.app.with_store, self.send)

    async def _browse(self, msg: Browse) -> None:
        """One page of past sessions, from the store (it scales to thousands: never the whole list)."""
        page = await self.app.with_store(lambda store: store.browse(msg.offset, msg.limit, msg.query, msg.order))
        live = await self.app.with_store(lambda _: self.app.live_ids())
        sessions = [
            protocol.session_summary(x.session, x.uploaded_at, x.anomalies) | {"live": x.session.id in live}
            for x in page.items
        ]
        self.send({"type": "sessions", "sessions": sessions, "total": page.total, "offset": msg.offset})

    async def _delete(self, session_id: str) -> None:
        """The user's health data, gone from the store in one transaction (docs/api.md, "delete")."""
        if self.player is not None and self.player.hub.session.id == session_id:
            await self._stop_player()
        if not await self.app.with_store(lambda store: store.delete(session_id)):
            raise ProtocolError("unknown_session", f"no session {session_id!r} in the store")
        self.app.explorer.forget(session_id)
        await self.app.hubs.forget(session_id)
        self.send({"type": "deleted", "session_id": session_id})

    async def _control(self, kind: str) -> None:
        player = self.player
        if player is None:
            raise ProtocolError("no_session", f'nothing is playing: "{kind}" needs an upload or a "replay" first')
        if kind == "pause":
            self.paused = True
            player.pause()
        elif kind == "resume":
            self.paused = False
            player.resume()
        elif kind == "restart":
            await self._play(player.hub.session.id, 0, None, self.paused)
            return
        self._state()

    def _state(self) -> None:
        if self.player is not None:
            self.send(self.player.state())
        else:
            self.send({"type": "state", "paused": self.paused, "speed": self.speed, "seq": None})

    # -- uploads ----------------------------------------------------------------------------------

    async def _begin_upload(self, msg: Upload) -> None:
        if self.ingesting:
            raise ProtocolError("busy", "an upload is still being processed; wait for its result")
        self._drop_upload()
        if self.app.uploads >= self.app.config.max_uploads:
            raise ProtocolError("busy", f"{self.app.uploads} uploads are in progress on this server; try again shortly")
        self.upload = PendingUpload(msg.name, msg.size, self.app.upload_dir, UPLOAD_IDLE, self._upload_idle)
        self.app.uploads += 1
        self.send({"type": "progress", "phase": "upload", "done": 0, "total": msg.size})
        if msg.data is not None or msg.size == 0:
            await self._chunk(msg.data or b"")

    async def _chunk(self, data: bytes) -> None:
        up = self.upload
        if up is None:
            raise ProtocolError("no_upload", '"chunk" before "upload": start an upload first')
        if up.received + len(data) > up.size:
            self._drop_upload()
            raise ProtocolError("bad_message", f"more data than the announced {up.size} bytes; upload cancelled")
        up.touch()
        if data:
            await asyncio.to_thread(up.file.write, data)
        if self.upload is not up:  # cancelled while writing (a new upload, or the connection closed)
            return
        up.received += len(data)
        self.send({"type": "progress", "phase": "upload", "done": up.received, "total": up.size})
        if up.received == up.size:
            self.upload = None  # still counted in app.uploads until the ingest ends
            up.discard_timer()
            await asyncio.to_thread(up.file.close)
            self.ingesting = True
            self._ingest_task = asyncio.get_running_loop().create_task(self._ingest(up))

    def _upload_idle(self) -> None:
        if self.upload is not None:
            name = self.upload.name
            self._drop_upload()
            self.out.put(
                protocol.error("timeout", f"no data for {UPLOAD_IDLE:g} s; the upload of {name} was cancelled")
            )

    async def _ingest(self, up: PendingUpload) -> None:
        """Ingest in a worker thread, then play the file's first session (the others are listed)."""
        loop = asyncio.get_running_loop()
        last = [0.0]

        def progress(done: int) -> None:  # called from the worker thread
            now = time.monotonic()
            if now - last[0] >= 0.1:
                last[0] = now
                msg = {"type": "progress", "phase": "ingest", "done": done, "total": up.size}
                loop.call_soon_threadsafe(self.send, msg)

        try:
            started = time.monotonic()
            result = await self.app.ingest_file(up.path, up.name, progress)
            sessions: list[Session] = result.sessions
            log.info("ingested %s in %.2f s", up.name, time.monotonic() - started)
        except InputError as err:
            self.out.put(protocol.error("bad_file", str(err), line=err.line, file=up.name))
            return
        except BackendUnavailable as err:
            self.out.put(protocol.error("backend", str(err)))
            return
        except Exception as err:  # noqa: BLE001 — one failed upload must not take the server down
            log.exception("ingest of %s failed", up.name)
            self.out.put(protocol.error("internal", f"could not process {up.name}: {err}"))
            return
        finally:
            self.ingesting = False
            self.app.uploads -= 1
            up.discard()
        publishing = loop.create_task(self.app.publish_soon())
        publishing.add_done_callback(self._published)
        skipped = [{"file": name, "reason": why} for name, why in result.skipped[: protocol.UPLOADED_SKIPPED]]
        self.send(
            {
                "type": "uploaded",
                "name": up.name,
                "sessions": [protocol.session_brief(s) for s in sessions[: protocol.UPLOADED_SESSIONS]],
                "sessions_total": len(sessions),
                "skipped": skipped,
                "skipped_total": len(result.skipped),
            }
        )
        if sessions:
            try:  # a file of several subjects: the one with the most readings plays first
                await self._play(max(sessions, key=lambda s: s.readings).id, 0, None, False)
            except ProtocolError as err:  # not a reply to a message: report it like one
                self.out.put(protocol.error(err.code, err.message))

    def _published(self, task: asyncio.Task[PublishReport]) -> None:
        """Tell the uploader when its readings could not all reach the queue (they are stored)."""
        if task.cancelled():
            return
        err = task.exception()
        failed = str(err) if err is not None else task.result().failed
        if failed:
            message = f"stored, but publishing to the queue failed: {failed}; it resumes when the queue is back"
            self.out.put(protocol.error("backend", message))

    # -- replay -----------------------------------------------------------------------------------

    async def _play(
        self, session_id: str, from_seq: int, speed: float | None, paused: bool, history_from: int | None = None
    ) -> None:
        hub = await self.app.hubs.acquire(session_id)
        if hub is None:  # what plays now goes on
            raise ProtocolError("unknown_session", f"no session {session_id!r} in the store")
        old = self.player
        on_its_way = (old.first_seq, old.next_seq) if old is not None and old.hub.session.id == session_id else (0, 0)
        await self._stop_player()
        if speed is not None:
            self.speed = speed
        self.paused = paused
        if at_edge := hub.live and from_seq == 0 and history_from is None:  # live: at its edge, history at once
            from_seq, history_from = hub.total, 0
        from_seq = min(from_seq, hub.total)
        if history_from is not None and on_its_way[0] <= history_from < on_its_way[1]:
            # readings the last replay of this session queued before this request reach the client first: the
            # history starts after them (it asked from what it had received; a jump forward must not get them twice)
            history_from = min(on_its_way[1], from_seq)
        self.send(
            {
                "type": "replay",
                "session": protocol.session_brief(hub.session) | {"live": hub.live},
                "from_seq": from_seq,
                "speed": self.speed,
                "paused": paused,
                "history_from": history_from,
            }
        )
        if history_from is not None:  # what was before the position, at once (a reload, a jump)
            try:
                await send_history(self.app.with_store, self.out, hub.session, history_from, from_seq)
            except BaseException:
                self.app.hubs.release(hub)
                raise
        self.player = Player(hub, self.out, from_seq, self.speed, paused, self.app.pacing, live_edge=at_edge)
        self.player.start()
        if self._explored != session_id:
            self._explored = session_id
            if self._exploring is not None:
                self._exploring.cancel()
            self._exploring = asyncio.get_running_loop().create_task(self._explore(hub.session, hub.live))

    async def _explore(self, session: Session, live: bool) -> None:
        """The whole session small and all its events, alongside the replay (it does not wait)."""
        try:
            await self.app.explorer.send_overview(self.app.with_store, self.out, session, live)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 — the replay goes on without its overview
            log.exception("overview of %s failed", session.id)
            self._explored = None

    async def _stop_player(self) -> None:
        if self.player is not None:
            player, self.player = self.player, None
            await player.stop()
            self.app.hubs.release(player.hub)
