"""The reference points for ``hrviz ingest``: "the obvious pandas script" and a plain streaming loop.

    python bench/pandas_baseline.py FILE --db OUT.sqlite3 [--method pandas|plain]

``pandas`` (the default): ``read_csv`` with date parsing, ``diff`` of bpm, flag ``|diff| >= 30``,
``to_sql`` into a SQLite ``readings`` table, all in memory at once.

``plain``: the simplest streaming equivalent with the standard library only: ``csv.reader``,
``datetime.fromisoformat``, the same diff flag against the previous value, ``executemany`` in
batches of 5,000 rows inside one transaction. It bounds what any streaming Python ingest can do.

Both print one JSON line (rows stored, rows flagged, seconds) on stdout, like ``hrviz ingest --json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

THRESHOLD = 30.0
BATCH = 5000


def pandas_ingest(path: Path, db: Path) -> dict[str, object]:
    """read_csv + to_datetime + diff + to_sql: what a data scientist would write first."""
    import pandas as pd  # imported here so the plain method does not pay for it

    df = pd.read_csv(path, parse_dates=["timestamp"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)  # a no-op when read_csv already parsed
    df["spike"] = df["bpm"].diff().abs() >= THRESHOLD
    with sqlite3.connect(db) as con:
        df.to_sql("readings", con, index=False, if_exists="replace")
    con.close()
    return {"rows": len(df), "flagged": int(df["spike"].sum())}


def plain_ingest(path: Path, db: Path) -> dict[str, object]:
    """A streaming csv → SQLite loop: one row in memory at a time (plus one batch)."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE readings (ts REAL NOT NULL, bpm REAL, spike INTEGER NOT NULL)")
    con.execute("BEGIN")
    fromiso = datetime.fromisoformat
    rows = flagged = 0
    prev = math.nan
    batch: list[tuple[float, float | None, int]] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)  # header
        for ts_text, bpm_text in reader:
            ts = fromiso(ts_text).timestamp()
            bpm = float(bpm_text) if bpm_text else math.nan
            spike = abs(bpm - prev) >= THRESHOLD  # False whenever either side is NaN, like pandas
            prev = bpm
            flagged += spike
            batch.append((ts, None if bpm != bpm else bpm, int(spike)))
            if len(batch) >= BATCH:
                con.executemany("INSERT INTO readings VALUES (?, ?, ?)", batch)
                rows += len(batch)
                batch = []
    if batch:
        con.executemany("INSERT INTO readings VALUES (?, ?, ?)", batch)
        rows += len(batch)
    con.execute("COMMIT")
    con.close()
    return {"rows": rows, "flagged": flagged}


METHODS = {"pandas": pandas_ingest, "plain": plain_ingest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="heart-rate CSV with timestamp,bpm columns")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file to create (replaced if present)")
    parser.add_argument("--method", choices=sorted(METHODS), default="pandas")
    args = parser.parse_args(argv)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    result = METHODS[args.method](args.file, args.db)
    result = {"method": args.method, **result, "seconds": round(time.perf_counter() - started, 3)}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
