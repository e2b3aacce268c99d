"""A stored session as CSV or JSON text for pandas, DuckDB or a spreadsheet: pure, streamed.

CSV: one row per reading (``seq, time, ts, bpm, filled, kinds``: ISO time in the file's own
offset, epoch seconds, ``filled`` 0/1, the anomaly kinds the reading is part of joined by ``;``).
JSON: ``{"session": …, "readings": [[seq, ts, bpm, filled, [kinds]], …], "anomalies": […]}``,
readings as arrays (a million objects would triple the size). Both are produced line by line,
so a 1M-reading session is never held as one string.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from hrviz.core.errors import SessionGone
from hrviz.core.model import Reading, Session, anomaly_dict, format_ts

CSV_HEADER = ("seq", "time", "ts", "bpm", "filled", "kinds")
FORMATS = ("csv", "json", "parquet")


def _whole(session: Session, readings: Iterable[Reading]) -> Iterator[Reading]:
    """The readings, then :class:`SessionGone` if they stopped short: a store's reader ends quietly
    when the session is deleted under it, and an export must never look complete when it is not
    (before: a delete mid-export ended the page's download with ``last`` after 15,000 of 300,000)."""
    n = 0
    for r in readings:
        n += 1
        yield r
    if n < session.readings:
        raise SessionGone(
            f"session {session.id} was deleted while it was exported: only {n:,} of its "
            f"{session.readings:,} readings were written"
        )


def csv_lines(session: Session, readings: Iterable[Reading]) -> Iterator[str]:
    readings = _whole(session, readings)
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(CSV_HEADER)
    tz = session.tz_offset_min
    for r in readings:
        out.writerow((r.seq, format_ts(r.ts, tz), repr(r.ts), f"{r.bpm:g}", int(r.filled), ";".join(r.kinds)))
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(
    session: Session, readings: Iterable[Reading], insights: dict[str, object] | None = None
) -> Iterator[str]:
    """The JSON document in pieces; ``insights`` (report's figures) is added when given."""
    readings = _whole(session, readings)
    head = session.as_dict()
    head.pop("anomalies", None)
    yield '{"session": ' + json.dumps(head, ensure_ascii=False)
    if insights is not None:
        yield ', "insights": ' + json.dumps(insights, ensure_ascii=False)
    anomalies = [anomaly_dict(a, session.tz_offset_min) for a in session.anomalies]
    yield ', "anomalies": ' + json.dumps(anomalies, ensure_ascii=False) + ', "readings": ['
    first = True
    for r in readings:
        item = json.dumps([r.seq, r.ts, r.bpm, int(r.filled), list(r.kinds)])
        yield item if first else "," + item
        first = False
    yield "]}\n"
