"""A big ``hrviz ingest`` and everybody else on the same SQLite file (issue 8, item 3).

    python bench/bench_store_concurrency.py --file bench/data/hr_3m.csv [--tree PATH]

Starts ``hrviz ingest FILE`` (of the tree at ``--tree``, default this checkout) into a fresh
SQLite file that already holds one session, and while it runs, every 0.2 s: opens a new store on
the file and lists its sessions (what a ``serve`` thread that had not opened the file yet does),
then ingests a small file of its own (another writer). Prints the latencies as JSON. Run it with
``--tree`` pointing at an older checkout to compare, side by side.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True, help="the big CSV (bench/generate.py)")
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]), help="hrviz checkout to run")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from hrviz.adapters.store.sqlite import SqliteStore
    from hrviz.core.ingest import ingest

    db = str(Path(tempfile.mkdtemp(prefix="hrviz-conc-")) / "conc.sqlite3")
    small = b"time,bpm\n" + b"".join(b"%d,%d\n" % (1_767_225_600 + i, 70 + i % 9) for i in range(300))
    store = SqliteStore(db)
    ingest(io.BytesIO(small), "first.csv", store)
    store.close()
    command = [sys.executable, "-m", "hrviz", "ingest", args.file, "--db", db, "--json"]
    big = subprocess.Popen(command, cwd=args.tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let it get going
    opens: list[float] = []
    writes: list[float] = []
    errors: list[str] = []
    while big.poll() is None:
        started = time.monotonic()
        try:
            store = SqliteStore(db)
            store.list_sessions()
            opens.append(time.monotonic() - started)
            started = time.monotonic()
            extra = small + b"%d,80\n" % (1_767_300_000 + len(writes))
            ingest(io.BytesIO(extra), f"small{len(writes)}.csv", store)
            writes.append(time.monotonic() - started)
            store.close()
        except Exception as err:  # noqa: BLE001 — counted and shown
            errors.append(f"{type(err).__name__}: {err}"[:120])
        time.sleep(0.2)
    big.communicate()

    def ms(values: list[float], f: object) -> float | None:
        return round(1000 * f(values), 1) if values else None  # type: ignore[operator]

    print(json.dumps({
        "tree": args.tree, "ingest_exit": big.returncode, "rounds": len(opens),
        "open_and_list_ms": {"median": ms(opens, statistics.median), "max": ms(opens, max)},
        "small_ingest_ms": {"median": ms(writes, statistics.median), "max": ms(writes, max)},
        "errors": len(errors), "first_errors": errors[:3],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
