"""The Kafka record of one reading (docs/outbox.md), encoded and decoded in one place.

``{"session", "seq", "ts" (ISO-8601 in the file's offset), "t" (epoch seconds), "bpm", "filled",
"kinds": [...]}``, UTF-8 JSON, keyed by session id. Encoding runs once per reading (a million
times for a large file), so it is hand-rolled: :meth:`RecordEncoder.encode_batch` formats a whole
:class:`ReadingBatch` from its columns, building the ISO times minute by minute when the batch is
consecutive whole seconds (the usual 1 Hz recording); :meth:`RecordEncoder.encode` is the same
record for one :class:`Reading`. A test holds both equal to ``json.dumps`` of the documented dict.
The C kernel ``_crecords.c`` writes the same records as the batch encoders a few times faster; the
Python code here is the reference, and does what the kernel leaves to it (it answers None).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hrviz.core import speedups
from hrviz.core.model import Reading, ReadingBatch, format_ts

_C = speedups.kernel("hrviz.adapters.queue._crecords")
DAY_MINUTES = 24 * 60  # the kernel prints times in offsets under a day (timezone() refuses more)


def _minute_head(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")


class RecordEncoder:
    """Encodes one session's readings; ``seq_of`` reads the seq back from a record cheaply."""

    def __init__(self, session_id: str, tz_offset_min: int | None) -> None:
        self.prefix = '{"session":' + json.dumps(session_id) + ',"seq":'
        self._prefix_len = len(self.prefix.encode())
        self.tz_offset_min = self._tz = tz_offset_min
        self._offset = (tz_offset_min or 0) * 60
        if tz_offset_min is None:
            suffix = ""
        elif tz_offset_min == 0:
            suffix = "Z"
        else:
            hours, minutes = divmod(abs(tz_offset_min), 60)
            suffix = f"{'+' if tz_offset_min > 0 else '-'}{hours:02d}:{minutes:02d}"
        self._suffix = suffix
        in_a_day = tz_offset_min is None or abs(tz_offset_min) < DAY_MINUTES
        self._c = _C if in_a_day and self.prefix.isascii() else None  # picked once per session
        # what follows the date-and-minute part of "ts", up to the value of "t"
        self._tails = [f'{sec:02d}{suffix}","t":' for sec in range(60)]
        self._heads: dict[int, str] = {}  # minute → "YYYY-MM-DDTHH:MM:" (consecutive readings share it)
        self._kinds: dict[tuple[str, ...], str] = {(): "[]"}

    def _head(self, minute: int) -> str:
        head = self._heads.get(minute)
        if head is None:
            if len(self._heads) > 4096:
                self._heads.clear()
            head = self._heads[minute] = _minute_head(minute)
        return head

    def _iso_t(self, ts: float) -> str:
        """``ts`` as the "ts" value and the ``","t":`` that follows it."""
        if ts % 1:
            return f'{format_ts(ts, self._tz)}","t":'
        minute, second = divmod(int(ts) + self._offset, 60)
        return self._head(minute) + self._tails[second]

    def _kinds_json(self, kinds: tuple[str, ...]) -> str:
        text = self._kinds.get(kinds)
        if text is None:
            text = self._kinds[kinds] = json.dumps(list(kinds))
        return text

    def encode(self, r: Reading) -> str:
        return (
            f'{self.prefix}{r.seq},"ts":"{self._iso_t(r.ts)}{r.ts!r},"bpm":{r.bpm!r},'
            f'"filled":{"true" if r.filled else "false"},"kinds":{self._kinds_json(r.kinds)}}}'
        )

    def encode_batch(self, batch: ReadingBatch) -> list[str]:
        """Every reading of the batch, in order: the same records as :meth:`encode` (one ``str`` each,
        what ``produce`` takes), from the C kernel when it is built."""
        if self._c is not None:
            records: list[str] | None = self._c.records(*self._kernel_args(batch))
            if records is not None:
                return records
        return self.encode_batch_python(batch)

    def encode_block(self, batch: ReadingBatch) -> bytes:
        """:meth:`encode_batch`'s records as one UTF-8 block, each followed by a newline (what the
        staging file holds), without a Python object per record when the C kernel is built."""
        if self._c is not None:
            block: bytes | None = self._c.block(*self._kernel_args(batch))
            if block is not None:
                return block
        return ("\n".join(self.encode_batch_python(batch)) + "\n").encode()

    def _kernel_args(self, batch: ReadingBatch) -> tuple[object, ...]:
        return (
            self.prefix, batch.first_seq, batch.ts, batch.bpm, batch.marks,
            self._suffix, self._offset, self._iso_t, self._kinds_json,
        )  # fmt: skip

    def encode_batch_python(self, batch: ReadingBatch) -> list[str]:
        """:meth:`encode_batch` in Python (the reference), built column-wise."""
        seqs, ts, bpm = batch.texts()  # shared with the store's TSV: each float is printed once
        isos = self._iso_ts(batch.ts)
        p = self.prefix
        records = [
            f'{p}{s},"ts":"{i}{t},"bpm":{b},"filled":false,"kinds":[]}}'
            for s, i, t, b in zip(seqs, isos, ts, bpm, strict=True)
        ]
        for i, (filled, kinds) in batch.marks.items():
            records[i] = (
                f'{p}{seqs[i]},"ts":"{isos[i]}{ts[i]},"bpm":{bpm[i]},'
                f'"filled":{"true" if filled else "false"},"kinds":{self._kinds_json(kinds)}}}'
            )
        return records

    def _iso_ts(self, ts: list[float]) -> list[str]:
        """:meth:`_iso_t` of every value; whole minutes at a time when they are consecutive seconds."""
        n = len(ts)
        if not n:
            return []
        t0 = ts[0]
        if t0 % 1 or ts[-1] - t0 != n - 1 or ts != [t0 + i for i in range(n)]:
            return [self._iso_t(t) for t in ts]
        minute, second = divmod(int(t0) + self._offset, 60)
        out: list[str] = []
        tails = self._tails
        while len(out) < n:
            head = self._head(minute)
            take = min(60 - second, n - len(out))
            out += [head + tail for tail in tails[second : second + take]]
            minute, second = minute + 1, 0
        return out

    def seq_of(self, value: bytes | str) -> int:
        start = self._prefix_len
        if isinstance(value, bytes):
            return int(value[start : value.index(b",", start)])
        return int(value[start : value.index(",", start)])


def decode(value: bytes) -> tuple[str, Reading]:
    """A record back into (session id, Reading)."""
    d = json.loads(value)
    reading = Reading(int(d["seq"]), float(d["t"]), float(d["bpm"]), bool(d["filled"]), tuple(d["kinds"]))
    return str(d["session"]), reading
