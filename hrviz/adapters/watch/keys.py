"""Single keypresses without Enter, with the terminal always put back as it was.

cbreak mode (not full raw) keeps Ctrl-C working as SIGINT, so an interrupt anywhere — even in
the middle of drawing — unwinds through the ``finally`` that restores the saved termios state.
"""

from __future__ import annotations

import os
import select
import termios
import time
import tty
from types import TracebackType
from typing import Any


class KeyReader:
    """``with KeyReader(fd) as keys: keys.read(timeout)`` → one key, or None after ``timeout``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.interactive = os.isatty(fd)  # stdin from a file or /dev/null: no keys, just wait
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        if self.interactive:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)  # no echo, no line buffering; signals still on
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.restore()

    def restore(self) -> None:
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def read(self, timeout: float | None) -> str | None:
        """Wait up to ``timeout`` seconds (None: forever) for a key; escape sequences come whole."""
        if not self.interactive:
            time.sleep(timeout if timeout is not None else 0.25)
            return None
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self.fd, 32)
        if not data:  # stdin closed: behave as if the user quit
            return "q"
        return data.decode(errors="replace")
