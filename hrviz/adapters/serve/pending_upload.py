"""An upload in progress on one connection: its temporary file and its idle timer.

Chunks are appended to a temporary file (the content, not the name, tells the format later); an
upload that stops sending is cancelled after ``idle`` seconds so a half-finished one holds no disk
or memory for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO


class PendingUpload:
    def __init__(self, name: str, size: int, temp_dir: str | None, idle: float, on_idle: Callable[[], None]) -> None:
        self.name = name
        self.size = size
        self.received = 0
        fd, self.path = tempfile.mkstemp(prefix="hrviz-upload-", dir=temp_dir)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self._idle = idle
        self._on_idle = on_idle
        self._timer: asyncio.TimerHandle | None = None
        self.touch()

    def touch(self) -> None:
        """A chunk arrived: the idle timer starts again."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._idle, self._on_idle)

    def discard_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def discard(self) -> None:
        self.discard_timer()
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
