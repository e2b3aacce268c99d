"""The on-disk spool of a live session while its store is down (docs/live.md, "Faults").

Readings the store could not take stay in the live session's pending batch and are appended
here, one JSON line each (seq, ts, bpm, filled, kinds), so that a crash meanwhile still leaves
them on disk; the file is emptied as soon as the store took them. It is bounded: when it holds
``limit`` readings, ingest stops reading its input (nothing more is accepted) and waits for the
store, and the readings already accepted are either stored or in this file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hrviz.core.model import ReadingBatch

DEFAULT_LIMIT = 100_000  # readings: about a day at one a second, a few MB


class Spool:
    def __init__(self, session_id: str, limit: int = DEFAULT_LIMIT, directory: str | None = None) -> None:
        self.limit = limit
        self.path = Path(directory or tempfile.gettempdir()) / f"hrviz-spool-{session_id}.jsonl"
        self.count = 0

    @property
    def full(self) -> bool:
        return self.count >= self.limit

    def sync(self, pending: ReadingBatch) -> None:
        """Append the pending readings the file does not hold yet, and make them durable."""
        new = list(pending)[self.count :]
        if not new:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            for r in new:
                f.write(json.dumps([r.seq, r.ts, r.bpm if r.bpm == r.bpm else None, r.filled, list(r.kinds)]) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.count += len(new)

    def clear(self) -> None:
        """The store took everything: the spool is empty again."""
        if self.count:
            self.path.unlink(missing_ok=True)
            self.count = 0
