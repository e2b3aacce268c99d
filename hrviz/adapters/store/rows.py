"""Row conversions shared by the SQL stores (SQLite and MySQL), so both read and write the same values.

Sessions, readings and anomalies map to flat tuples in the column order both schemas use; the
outbox update keeps the *first* recorded queue position, because replay must find seq 0 even
after a resumed publish reports a later offset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from hrviz.core import speedups
from hrviz.core.errors import BackendUnavailable, printable
from hrviz.core.model import Anomaly, Kind, Reading, ReadingBatch, ReadingRow, Session, Stats
from hrviz.core.ports import Outbox, QueuePosition

SESSION_FIELDS = (
    "id",
    "fingerprint",
    "source",
    "subject",
    "rows",
    "readings",
    "filled",
    "duplicates",
    "start_ts",
    "end_ts",
    "tz_offset_min",
    "stat_count",
    "stat_min",
    "stat_mean",
    "stat_max",
)
SUMMARY_FIELDS = SESSION_FIELDS[4:]  # what commit() rewrites once the whole file is read
SOURCE_MAX, SUBJECT_MAX = 1024, 255  # MySQL's column sizes, in characters; SQLite stores the same text
_CTSV = speedups.kernel("hrviz.adapters.store._ctsv")  # tsv_python's C twin, or None


def storable(text: str, limit: int) -> str:
    """Text every store takes: valid Unicode (an undecodable byte as ``\\xff``, see ``printable``)
    of at most ``limit`` characters. Ingest refuses such names first; this keeps the store safe
    from any other caller, because a value the database cannot encode fails the whole session."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def session_row(s: Session) -> tuple[object, ...]:
    st = s.stats
    return (
        s.id, s.fingerprint, storable(s.source, SOURCE_MAX),
        None if s.subject is None else storable(s.subject, SUBJECT_MAX), s.rows, s.readings, s.filled, s.duplicates,
        s.start, s.end, s.tz_offset_min, st.count,
        st.min if st.count else None, st.mean, st.max if st.count else None,
    )  # fmt: skip


def session_from_row(row: Sequence[object]) -> Session:
    """A stored row as a Session; times or statistics that are not finite numbers read as unknown,
    so that no stored row, however it got there, can make a listing fail."""
    (sid, fp, source, subject, rows, readings, filled, dups, start, end, tz, count, smin, smean, smax) = row
    stats = Stats()
    mean, low, high = _finite(smean), _finite(smin), _finite(smax)
    if count and mean is not None and low is not None and high is not None:
        n = _int(count)
        stats = Stats(n, mean * n, low, high)
    return Session(
        id=str(sid), fingerprint=str(fp), source=str(source),
        subject=None if subject is None else str(subject),
        rows=_int(rows), readings=_int(readings), filled=_int(filled), duplicates=_int(dups),
        start=_finite(start), end=_finite(end), tz_offset_min=None if tz is None else _int(tz), stats=stats,
    )  # fmt: skip


def _int(value: object) -> int:
    return int(value)  # type: ignore[call-overload]


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _finite(value: object) -> float | None:
    """A finite float, or None for NULL, NaN, ±inf and anything that is not a number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def reading_row(session_id: str, r: ReadingRow) -> tuple[object, ...]:
    """A Reading or a plain reading tuple (same layout) as a ``readings`` table row."""
    seq, ts, bpm, filled, kinds = r
    return (session_id, seq, ts, bpm, 1 if filled else 0, ",".join(kinds))


def tsv_lines(batch: ReadingBatch) -> bytes:
    """Readings as ``seq ts bpm filled kinds`` TSV for LOAD DATA, ASCII bytes (the file it goes to
    is binary). The C kernel ``_ctsv.c`` writes exactly :func:`tsv_python`'s bytes a few times
    faster; it leaves anything unusual (it answers None) to the Python code."""
    if _CTSV is not None:
        data: bytes | None = _CTSV.tsv(batch.first_seq, batch.ts, batch.bpm, batch.marks)
        if data is not None:
            return data
    return tsv_python(batch)


def tsv_python(batch: ReadingBatch) -> bytes:
    """:func:`tsv_lines` in Python, the reference; repr() keeps every float exact.

    Works on the batch's columns: most readings are plain measurements, and only the few marked
    ones (filled, or part of an anomaly) need their flags and kinds looked up."""
    seqs, ts, bpm = batch.texts()
    lines = [f"{s}\t{t}\t{b}\t0\t\n" for s, t, b in zip(seqs, ts, bpm, strict=True)]
    for i, (filled, kinds) in batch.marks.items():
        lines[i] = f"{seqs[i]}\t{ts[i]}\t{bpm[i]}\t{1 if filled else 0}\t{','.join(kinds)}\n"
    return "".join(lines).encode("ascii")


def anomaly_rows(session_id: str, anomalies: Sequence[Anomaly], first: int = 0) -> list[tuple[object, ...]]:
    """The rows of ``anomalies``, numbered (``idx``) from ``first``."""
    return [
        (session_id, i, str(a.kind), a.start, a.end, a.bpm, a.baseline, a.delta) for i, a in enumerate(anomalies, first)
    ]


def anomaly_from_row(row: Sequence[object]) -> Anomaly:
    kind, start, end, bpm, baseline, delta = row
    return Anomaly(
        Kind(str(kind)), float(start), float(end),  # type: ignore[arg-type]
        _opt_float(bpm), _opt_float(baseline), _opt_float(delta),
    )  # fmt: skip


def outbox_from_row(row: Sequence[object]) -> Outbox:
    sid, upto, n, part, off = row
    position = None if part is None or off is None else QueuePosition(_int(part), _int(off))
    return Outbox(str(sid), _int(upto), _int(n), position)


def mark_published_sql(mark: str, greatest: str) -> str:
    """The outbox update in a dialect: ``mark`` is the placeholder, ``greatest`` the 2-arg max function.

    The mark only moves forward (a late acknowledgement never rewinds it) and the position is set
    once: a resumed publish starts at a later offset, but replay must start from the first record.
    Parameters: (upto_seq, partition, first_offset, session_id); partition/offset may be NULL.
    """
    return (
        f"UPDATE sessions SET published_upto = {greatest}(published_upto, {mark}), "
        f"queue_partition = COALESCE(queue_partition, {mark}), queue_offset = COALESCE(queue_offset, {mark}) "
        f"WHERE id = {mark}"
    )


def mark_params(session_id: str, upto_seq: int, position: QueuePosition | None) -> tuple[object, ...]:
    if position is None:
        return (upto_seq, None, None, session_id)
    return (upto_seq, position.partition, position.first_offset, session_id)


def readings_from_text(
    session_id: str, count: int, text: str | None, kinds_of: dict[str, tuple[str, ...]]
) -> Iterator[Reading]:
    """One page of ``seq,ts,bpm,filled,kinds`` lines (kinds last: it may hold commas) as Readings."""
    if not count or text is None:
        return
    lines, new = text.split("\n"), tuple.__new__
    if len(lines) != count:  # group_concat_max_len cut the page short: never guess
        raise BackendUnavailable(f"MySQL returned {len(lines)} of {count} readings of session {session_id}")
    for line in lines:
        seq, ts, bpm, filled, kinds = line.split(",", 4)
        k = kinds_of.get(kinds)
        if k is None:
            k = kinds_of[kinds] = tuple(kinds.split(","))
        yield new(Reading, (int(seq), float(ts), float(bpm), filled == "1", k))  # skips NamedTuple's __new__


def next_seq_after(text: str) -> int:
    """The seq after a page's last line."""
    return int(text[text.rfind("\n") + 1 :].split(",", 1)[0]) + 1
