"""The report as one self-contained HTML file: inline SVG and CSS, no script, no external request.

Pure string building (the CLI writes the file, the server sends it), so a person can mail it to a
coach or a doctor and it prints the same. Every value placed in the page is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from hrviz.core.explain import duration
from hrviz.core.insights.report import Insights
from hrviz.core.insights.summary import Minute
from hrviz.core.model import format_ts

MAX_COLUMNS = 1000  # the chart is 830 units wide: more minutes than this are merged into columns
ZONE_COLOURS = ("#9ecae1", "#74c476", "#fdd049", "#fd8d3c", "#e6550d")
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2125}
body{margin:2rem auto;max-width:920px;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.8rem 0 .4rem;border-bottom:1px solid #ddd}
h1,h2{overflow-wrap:anywhere}
.muted{color:#5b636b}table{border-collapse:collapse;margin:.4rem 0}td,th{padding:.2rem .7rem .2rem 0;text-align:left}
th{font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.5rem;margin:.6rem 0}
.fact{border:1px solid #ddd;border-radius:6px;padding:.4rem .6rem}.fact b{display:block;font-size:1.3rem}
.verdict-good{color:#1a7f37}.verdict-fair{color:#9a6700}.verdict-poor{color:#cf222e}
svg{display:block;max-width:100%;height:auto}section{break-inside:avoid;page-break-inside:avoid}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
"""


def _num(value: float | None, unit: str = "bpm") -> str:
    return "–" if value is None else f"{value:g} {unit}"


def session_svg(ins: Insights, width: int = 880, height: int = 220) -> str:
    """Each minute's range (band) and mean (line); episodes shaded; gaps left empty."""
    minutes = ins.summary.minutes
    if not minutes:
        return '<p class="muted">No measured readings to draw.</p>'
    t0, t1 = minutes[0].start, minutes[-1].start + 60
    lo = min(m.low for m in minutes) - 5
    hi = max(m.high for m in minutes) + 5
    pad_l, pad_b = 44, 22
    w, h = width - pad_l - 6, height - pad_b - 6

    def x(t: float) -> float:
        return pad_l + (t - t0) / max(t1 - t0, 1) * w

    def y(v: float) -> float:
        return 6 + (hi - v) / max(hi - lo, 1) * h

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="heart rate over the session">']
    for e in ins.episodes:
        colour = "#fde0dd" if e.kind == "high" else "#deebf7"
        parts.append(
            f'<rect x="{x(e.start):.1f}" y="6" width="{max(x(e.end) - x(e.start), 1):.1f}" height="{h}" '
            f'fill="{colour}"><title>{e.kind} episode, {duration(e.seconds)}</title></rect>'
        )
    for z in ins.zones:
        if lo < z.low_bpm < hi:
            parts.append(
                f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{y(z.low_bpm):.1f}" y2="{y(z.low_bpm):.1f}" '
                f'stroke="{ZONE_COLOURS[z.zone - 1]}" stroke-dasharray="4 3"/>'
            )
    runs: list[list[str]] = []
    band: list[str] = []
    prev = None
    columns, step = _columns(minutes)
    for start, low, high, mean in columns:
        if prev is None or start - prev > step:
            runs.append([])
        mid = x(start + step / 2)
        runs[-1].append(f"{mid:.1f},{y(mean):.1f}")
        band.append(
            f'<line x1="{mid:.1f}" x2="{mid:.1f}" y1="{y(high):.1f}" '
            f'y2="{y(low):.1f}" stroke="#f4a6a6" stroke-width="{max(w / len(columns), 1):.1f}"/>'
        )
        prev = start
    parts += band
    for run in runs:
        parts.append(f'<polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="{" ".join(run)}"/>')
    for v in _ticks(lo, hi):
        parts.append(f'<text x="{pad_l - 4}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:g}</text>')
    tz = ins.session.tz_offset_min
    for t in (t0, (t0 + t1) / 2, t1):
        label = escape((format_ts(t, tz) or "")[:16].replace("T", " "))
        parts.append(f'<text x="{x(t):.1f}" y="{height - 4}" font-size="11" text-anchor="middle">{label}</text>')
    parts.append(f'<rect x="{pad_l}" y="6" width="{w}" height="{h}" fill="none" stroke="#bbb"/></svg>')
    return "".join(parts)


def _columns(minutes: Sequence[Minute]) -> tuple[list[tuple[float, float, float, float]], float]:
    """(start, low, high, mean) of each drawn column, and its seconds: a minute each, or k minutes
    merged when there are more than :data:`MAX_COLUMNS` (a multi-year Apple export drew one line per
    minute: 300,000 lines, a 30 MB page the server could not send)."""
    if len(minutes) <= MAX_COLUMNS:
        return [(m.start, m.low, m.high, m.mean) for m in minutes], 60.0
    t0 = minutes[0].start
    step = 60.0 * math.ceil((minutes[-1].start + 60 - t0) / 60 / MAX_COLUMNS)
    merged: list[list[float]] = []  # start, low, high, sum of means, minutes
    for m in minutes:
        start = t0 + (m.start - t0) // step * step
        if merged and merged[-1][0] == start:
            col = merged[-1]
            col[1], col[2], col[3], col[4] = min(col[1], m.low), max(col[2], m.high), col[3] + m.mean, col[4] + 1
        else:
            merged.append([start, m.low, m.high, m.mean, 1])
    return [(c[0], c[1], c[2], c[3] / c[4]) for c in merged], step


def _ticks(lo: float, hi: float) -> list[float]:
    step = 20.0 if hi - lo > 60 else 10.0
    first = (lo // step + 1) * step
    return [first + i * step for i in range(int((hi - first) // step) + 1)]


def zones_svg(ins: Insights, width: int = 880) -> str:
    """One horizontal bar per zone, length by seconds."""
    most = max((z.seconds for z in ins.zones), default=0.0) or 1.0
    row, label_w = 26, 200
    parts = [f'<svg viewBox="0 0 {width} {row * 5 + 4}" role="img" aria-label="time in zones">']
    for i, z in enumerate(reversed(ins.zones)):
        top = 2 + i * row
        length = (width - label_w - 90) * z.seconds / most
        ceiling = "" if z.zone == 5 else f"–{z.high_bpm:g}"
        parts.append(
            f'<text x="0" y="{top + 17}" font-size="13">Zone {z.zone}  {z.low_bpm:g}{ceiling} bpm</text>'
            f'<rect x="{label_w}" y="{top + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{ZONE_COLOURS[z.zone - 1]}"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{top + 17}" font-size="13">{duration(z.seconds)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def trends_svg(items: Sequence[Insights], width: int = 880, height: int = 200) -> str:
    """Resting and maximum per session, in time order: a dot per session, a line through them."""
    points = [(i.summary.first_ts, i.resting_bpm, i.summary.max_bpm) for i in items if i.summary.first_ts is not None]
    points.sort(key=lambda p: p[0] or 0)
    values = [v for _, r, m in points for v in (r, m) if v is not None]
    if len(points) < 2 or not values:
        return ""
    lo, hi = min(values) - 5, max(values) + 5
    pad_l = 44
    w, h = width - pad_l - 6, height - 28

    def x(k: int) -> float:
        return pad_l + k / (len(points) - 1) * w

    def y(v: float) -> float:
        return 6 + (hi - v) / (hi - lo) * h

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="resting and maximum by session">']
    for idx, colour, name in ((1, "#2b8cbe", "resting"), (2, "#c0392b", "max")):
        pts = [(k, v) for k, p in enumerate(points) if (v := p[idx]) is not None]
        line = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{line}"/>')
        for k, v in pts:
            parts.append(
                f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>{name} {v:g}</title></circle>'
            )
    for v in _ticks(lo, hi):
        parts.append(f'<text x="{pad_l - 4}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:g}</text>')
    first, last = (escape((format_ts(p[0], None) or "")[:10]) for p in (points[0], points[-1]))
    parts.append(f'<text x="{pad_l}" y="{height - 4}" font-size="11">{first}</text>')
    parts.append(f'<text x="{pad_l + w}" y="{height - 4}" font-size="11" text-anchor="end">{last}</text>')
    parts.append('<text x="60" y="18" font-size="12" fill="#2b8cbe">resting</text>')
    parts.append('<text x="120" y="18" font-size="12" fill="#c0392b">max</text></svg>')
    return "".join(parts)


def _session_html(ins: Insights) -> str:
    s, tz, q, p = ins.summary, ins.session.tz_offset_min, ins.quality, ins.profile
    title = escape(ins.session.source) + (f" · {escape(ins.session.subject)}" if ins.session.subject else "")
    mean = s.mean_bpm
    facts = [
        ("Resting", _num(ins.resting_bpm)),
        ("Average", _num(None if mean is None else round(mean, 1))),
        ("Maximum", _num(s.max_bpm)),
        ("Recorded", duration(s.recorded_s)),
        ("Covered", f"{q.coverage_pct:g} %"),
        ("Filled", f"{q.filled_pct:g} %"),
    ]
    maximum = f"{p.max_hr:g} bpm ({p.source}{', an estimate' if p.estimated else ''})"
    model = "% of heart-rate reserve (Karvonen)" if p.model == "hrr" else "% of maximum heart rate"
    out = [
        f'<section><h2>{title} <span class="muted">session {escape(ins.session.id)}</span></h2>',
        f'<p class="muted">{escape(format_ts(s.first_ts, tz) or "–")} to {escape(format_ts(s.last_ts, tz) or "–")}</p>',
        '<div class="facts">' + "".join(f'<div class="fact">{k}<b>{escape(v)}</b></div>' for k, v in facts) + "</div>",
        session_svg(ins),
        f'<h3>Time in zones</h3><p class="muted">Zones by {model}; maximum {escape(maximum)}. '
        "Filled readings and gaps never count as time in a zone.</p>",
        zones_svg(ins),
        f'<p class="muted">Below zone 1 (under {ins.zones[0].low_bpm:g} bpm, in no zone): '
        f"{duration(ins.below_zones_seconds)}</p>"
        if ins.zones
        else "",
        "<h3>Sustained episodes</h3>",
    ]
    if ins.episodes:
        rows = "".join(
            f"<tr><td>{e.kind}</td><td>{escape(format_ts(e.start, tz) or '')}</td>"
            f"<td>{escape(format_ts(e.end, tz) or '')}</td>"
            f'<td class="num">{duration(e.seconds)}</td><td class="num">{e.peak_bpm:g}</td></tr>'
            for e in ins.episodes
        )
        out.append(
            f"<table><tr><th>kind</th><th>start</th><th>end</th><th>length</th><th>peak bpm</th></tr>{rows}</table>"
        )
    else:
        out.append('<p class="muted">None: no 10 minutes above 120 or below 40 bpm.</p>')
    out.append("<h3>Recovery (HRR60)</h3>")
    if ins.recoveries:
        rows = "".join(
            f'<tr><td>{escape(format_ts(r.effort_end, tz) or "")}</td><td class="num">{r.end_bpm:g}</td>'
            f'<td class="num">{r.after_bpm:g}</td><td class="num">{r.drop_bpm:g}</td></tr>'
            for r in ins.recoveries
        )
        out.append(f"<table><tr><th>effort ended</th><th>bpm</th><th>60 s later</th><th>drop</th></tr>{rows}</table>")
    else:
        out.append(
            '<p class="muted">No hard effort (≥ 80 % of maximum for a minute) with a measured minute after it.</p>'
        )
    kinds = ", ".join(f"{k} {v:g}/h" for k, v in q.per_hour.items()) or "none"
    out.append(
        f'<h3>Data quality</h3><p class="verdict-{q.verdict}"><b>{escape(q.sentence)}</b></p>'
        f'<p class="muted">Anomalies per hour: {escape(kinds)}. Longest gap: {duration(q.longest_gap_s)}.</p></section>'
    )
    return "".join(out)


def render(items: Sequence[Insights], generated: str) -> str:
    """The whole document; ``generated`` is the time to print in its footer (the caller's clock)."""
    trends = trends_svg(items)
    body = "".join(_session_html(i) for i in items)
    if trends:
        body = f"<section><h2>Across these sessions</h2>{trends}</section>" + body
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>hrviz report</title>"
        f"<style>{CSS}</style></head><body><h1>Heart-rate report</h1>"
        f'<p class="muted">{len(items)} session{"s" if len(items) != 1 else ""} · '
        f"generated {escape(generated)} by hrviz. "
        "Figures describe the recording, not a diagnosis (definitions: docs/insights.md).</p>"
        f"{body}</body></html>"
    )
