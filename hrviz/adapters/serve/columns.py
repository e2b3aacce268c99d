"""A window's readings as columns: 17 bytes a reading instead of ~200 as an encoded message.

Why: a hub window keeps up to ~1,100 readings (read ahead of its furthest viewer, kept behind its
slowest). Kept as encoded ``reading`` messages (the text, its list slot and its time), 200
windows' first read-ahead refill at once was a lasting +22 MB step in the 1x soak (issue #8).
Columns of floats and flag bytes cost a tenth of that; the message is encoded when a viewer sends
it, once for all the viewers at that seq (they tick together).
"""

from __future__ import annotations

from array import array

from hrviz.core import protocol
from hrviz.core.model import Reading

FILLED, AFTER_GAP = 1, 2  # bits of Columns.flags
RECENT = 64  # encoded messages kept for the other viewers at the same seq (then forgotten at once)


class Columns:
    """Readings [base, base + len) of one session."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.ts = array("d")  # seq - base -> epoch seconds (also for the event cursor)
        self.bpm = array("d")
        self.flags = array("B")  # FILLED | AFTER_GAP
        self.kinds: dict[int, tuple[str, ...]] = {}  # seq -> kinds, for the few readings that have any
        self._recent: dict[int, str] = {}  # seq -> its encoded message

    def __len__(self) -> int:
        return len(self.ts)

    def append(self, r: Reading, after_gap: bool) -> None:
        self.ts.append(r.ts)
        self.bpm.append(r.bpm)
        self.flags.append((FILLED if r.filled else 0) | (AFTER_GAP if after_gap else 0))
        if r.kinds:
            self.kinds[r.seq] = tuple(r.kinds)

    def drop(self, count: int) -> None:
        """Forget the first ``count`` readings."""
        del self.ts[:count], self.bpm[:count], self.flags[:count]
        self.base += count
        if self.kinds:
            self.kinds = {seq: k for seq, k in self.kinds.items() if seq >= self.base}

    def ts_at(self, seq: int) -> float:
        return self.ts[self._index(seq)]

    def message(self, seq: int, tz_offset_min: int | None) -> str:
        """Reading ``seq`` as a ``reading`` message, byte for byte what ``protocol.reading`` makes of it."""
        text = self._recent.get(seq)
        if text is None:
            i = self._index(seq)
            flags = self.flags[i]
            r = Reading(seq, self.ts[i], self.bpm[i], bool(flags & FILLED), self.kinds.get(seq, ()))
            text = protocol.reading(r, tz_offset_min, bool(flags & AFTER_GAP))
            if len(self._recent) >= RECENT:
                self._recent.clear()
            self._recent[seq] = text
        return text

    def _index(self, seq: int) -> int:
        i = seq - self.base
        if i < 0:  # a negative index would read from the end: never a wrong reading
            raise IndexError(f"reading {seq} is no longer held (the window starts at {self.base})")
        return i
