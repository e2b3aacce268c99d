"""`hrviz serve` in-process for integration tests: the real server on a free port, its event loop in a thread.

One class for every test that talks to a server over real sockets, so that starting and stopping it (and the
URLs it answers on) are written once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from hrviz.adapters.serve.server import HrvizServer, ServerConfig
from hrviz.core.ports import Backends
from hrviz.wiring import ingest_upload


class RunningServer:
    """A server on its own event loop in a background thread; `stop()` is safe to call twice."""

    def __init__(self, open_: Callable[[], Backends], config: ServerConfig | None = None) -> None:
        config = config or ServerConfig(host="127.0.0.1", port=0)
        self.scheme = "https" if config.tls else "http"
        self.loop = asyncio.new_event_loop()
        self.server = HrvizServer(config, open_, ingest_upload)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.call(self.server.start())

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def http(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.port}"

    @property
    def url(self) -> str:
        """The WebSocket endpoint."""
        return f"{'wss' if self.scheme == 'https' else 'ws'}://127.0.0.1:{self.server.port}/ws"

    ws = url

    def stop(self) -> None:
        if not self._thread.is_alive():
            return  # stopped by the test already
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
