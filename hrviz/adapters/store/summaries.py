"""Insights summaries on the SQL stores: written with the session at commit, read by report and
trends, back-filled for sessions stored before (hrviz.core.insights.stored).

``session_summaries`` holds one row of headline figures per session and the whole summary as
JSON; ``session_bpm_seconds`` the measured seconds per whole bpm, so that trends sum minutes per
zone in SQL for any maximum heart rate. Same SQL on SQLite and MySQL but for the placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence

from hrviz.core.insights.stored import Day
from hrviz.core.model import StoredSummary

SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS session_summaries (
    session_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    resting_bpm REAL,
    mean_bpm REAL,
    max_bpm REAL,
    recorded_s REAL NOT NULL,
    covered_s REAL NOT NULL,
    anomalies INTEGER NOT NULL,
    effort_max_hr REAL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_summaries_day ON session_summaries (day);
CREATE TABLE IF NOT EXISTS session_bpm_seconds (
    session_id TEXT NOT NULL,
    bpm INTEGER NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (session_id, bpm)
) WITHOUT ROWID;
"""
MYSQL_DDL = (
    """CREATE TABLE IF NOT EXISTS session_summaries (
        session_id VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
        day CHAR(10) CHARACTER SET ascii NOT NULL,
        resting_bpm DOUBLE NULL,
        mean_bpm DOUBLE NULL,
        max_bpm DOUBLE NULL,
        recorded_s DOUBLE NOT NULL,
        covered_s DOUBLE NOT NULL,
        anomalies INT NOT NULL,
        effort_max_hr DOUBLE NULL,
        summary LONGTEXT NOT NULL,
        KEY session_summaries_day (day)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS session_bpm_seconds (
        session_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
        bpm SMALLINT NOT NULL,
        seconds DOUBLE NOT NULL,
        PRIMARY KEY (session_id, bpm)
    ) ENGINE=InnoDB""",
)


def delete_sql(mark: str) -> list[str]:
    return [
        f"DELETE FROM session_bpm_seconds WHERE session_id = {mark}",
        f"DELETE FROM session_summaries WHERE session_id = {mark}",
    ]


def insert_sql(mark: str) -> tuple[str, str]:
    marks = ", ".join([mark] * 10)
    return (
        f"INSERT INTO session_summaries (session_id, day, resting_bpm, mean_bpm, max_bpm, recorded_s, covered_s, "
        f"anomalies, effort_max_hr, summary) VALUES ({marks})",
        f"INSERT INTO session_bpm_seconds (session_id, bpm, seconds) VALUES ({mark}, {mark}, {mark})",
    )


def summary_params(row: StoredSummary) -> tuple[object, ...]:
    return (
        row.session_id, row.day, row.resting_bpm, row.mean_bpm, row.max_bpm, row.recorded_s, row.covered_s,
        row.anomalies, row.effort_max_hr, row.summary_json,
    )  # fmt: skip


def bin_params(row: StoredSummary) -> list[tuple[object, ...]]:
    return [(row.session_id, bpm, seconds) for bpm, seconds in sorted(row.bins.items())]


def unsummarised_sql(mark: str) -> str:
    return (
        "SELECT s.id FROM sessions s LEFT JOIN session_summaries m ON m.session_id = s.id "
        f"WHERE m.session_id IS NULL ORDER BY s.id LIMIT {mark}"
    )


def trends_sql(mark: str, since: bool) -> tuple[str, str]:
    """Per day: the figures (params: [since]) and the zone seconds (params: 5 edges, [since])."""
    where = f"WHERE day >= {mark} " if since else ""
    days = (
        "SELECT day, COUNT(*), MIN(resting_bpm), MAX(max_bpm), SUM(recorded_s), SUM(anomalies) "
        f"FROM session_summaries {where}GROUP BY day ORDER BY day"
    )
    zone = [f"SUM(CASE WHEN b.bpm >= {mark} AND b.bpm < {mark} THEN b.seconds ELSE 0 END)" for _ in range(4)]
    zone.append(f"SUM(CASE WHEN b.bpm >= {mark} THEN b.seconds ELSE 0 END)")
    where = f"WHERE m.day >= {mark} " if since else ""
    zones = (
        f"SELECT m.day, {', '.join(zone)} FROM session_summaries m "
        f"JOIN session_bpm_seconds b ON b.session_id = m.session_id {where}GROUP BY m.day"
    )
    return days, zones


def zone_params(edges: tuple[float, ...]) -> list[float]:
    """(low1, low2, low2, low3, …, low5): each zone from its lower bound to the next one's."""
    out: list[float] = []
    for i in range(4):
        out += [edges[i], edges[i + 1]]
    return [*out, edges[4]]


def days_from_rows(days: Sequence[Sequence[object]], zones: Sequence[Sequence[object]]) -> list[Day]:
    by_day = {str(r[0]): tuple(float(v or 0.0) for v in r[1:6]) for r in zones}  # type: ignore[arg-type]
    out = []
    for day, n, resting, top, recorded, anomalies in days:
        z = by_day.get(str(day), (0.0, 0.0, 0.0, 0.0, 0.0))
        out.append(
            Day(
                str(day), int(n),  # type: ignore[call-overload]
                None if resting is None else float(resting),  # type: ignore[arg-type]
                None if top is None else float(top),  # type: ignore[arg-type]
                float(recorded or 0.0), int(anomalies or 0),  # type: ignore[arg-type,call-overload]
                (z[0], z[1], z[2], z[3], z[4]),
            )
        )  # fmt: skip
    return out
