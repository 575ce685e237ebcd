"""The toxicity chart of the patient page: temperature and CRS/ICANS grades by day since infusion, as SVG.

Drawn on the server from the timeline's assessment and intervention events, so the page needs no script
and prints as it shows. Colour is never the only cue: CRS points are filled circles on a solid line,
ICANS points open squares on a dashed line, interventions labelled triangles; the figure carries a text
description and the page a data table for screen readers.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tracker.rules.grading import FEVER_C as FEVER
from tracker.rules.grading import URGENT_GRADE
from tracker.timeline import Timeline, TimelineEvent, TimelineKind, day_start

# The fever line (tracker.rules.grading: ASTCT 2019, Table 3), as the chart's float coordinates need it.
FEVER_LINE_C = float(FEVER)

WIDTH, HEIGHT = 960, 420
LEFT, RIGHT = 64, 24
PLOT_W = WIDTH - LEFT - RIGHT
TEMP_TOP, TEMP_H = 66, 170
GRADE_TOP, GRADE_H = TEMP_TOP + TEMP_H + 34, 112
AXIS_Y = GRADE_TOP + GRADE_H

TEMPERATURE_COLOUR = "#1f5fa8"
CRS_COLOUR = "#b3261e"
ICANS_COLOUR = "#5b2a86"
INTERVENTION_COLOUR = "#8a4b00"
GRID = "#d5dbe1"
INK = "#1b1f24"
MUTED = "#4d5866"


@dataclass(frozen=True)
class ChartRow:
    """One line of the chart's data table (the accessible alternative to the picture)."""

    day: int | None
    at: datetime
    what: str
    temperature_c: float | None = None
    crs_grade: int | None = None
    icans_grade: int | None = None


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    description: str
    temperature_points: int
    grade_points: int
    interventions: int
    rows: list[ChartRow]
    first_day: int
    last_day: int


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tick_step(span: float) -> int:
    for limit, step in ((21, 1), (42, 2), (120, 7), (730, 30)):
        if span <= limit:
            return step
    return 365


# More points than this would not be readable (nor light to draw): each period then shows its highest value,
# so no fever or grade peak is ever hidden.
MAX_POINTS = 600
MAX_LABELS = 40


def _peaks(points: list[tuple[float, TimelineEvent]], key: str, lo: int, hi: int) -> list[tuple[float, TimelineEvent]]:
    if len(points) <= MAX_POINTS:
        return points
    best: dict[int, tuple[float, TimelineEvent]] = {}
    for x, e in points:
        bucket = min(MAX_POINTS - 1, int((x - lo) / (hi - lo) * MAX_POINTS))
        if bucket not in best or e.detail[key] > best[bucket][1].detail[key]:
            best[bucket] = (x, e)
    return [best[b] for b in sorted(best)]


def _short(drug: str) -> str:
    word = (drug.split() or ["?"])[0]
    return word if len(word) <= 14 else word[:13] + "…"


def timeline_chart(timeline: Timeline) -> Chart | None:
    """The chart of the timeline's assessments and interventions; None before an infusion or without data."""
    if timeline.day_zero is None:
        return None
    origin = day_start(timeline.day_zero, 0)
    assessments = [e for e in timeline.events if e.kind == TimelineKind.ASSESSMENT]
    interventions = [e for e in timeline.events if e.kind == TimelineKind.INTERVENTION]
    if not assessments and not interventions:
        return None

    def x_of(event: TimelineEvent) -> float:
        return (event.at - origin).total_seconds() / 86400

    xs = [x_of(e) for e in assessments + interventions]
    lo, hi = math.floor(min(xs)), math.floor(max(xs)) + 1
    infused_in_range = timeline.infused_at is not None and (
        (timeline.since is None or timeline.since <= timeline.infused_at)
        and (timeline.until is None or timeline.infused_at < timeline.until)
    )
    if infused_in_range:
        lo = min(lo, 0)
    hi = max(hi, lo + 7)

    measured = [(x_of(e), e) for e in assessments if e.detail.get("temperature_c") is not None]
    temps = _peaks(measured, "temperature_c", lo, hi)
    t_values = [e.detail["temperature_c"] for _, e in temps]
    t_lo = min([35.0, *[math.floor(t) for t in t_values]])
    t_hi = max([41.0, *[math.ceil(t) for t in t_values]])

    def px(x: float) -> float:
        return LEFT + (x - lo) / (hi - lo) * PLOT_W

    def py_temp(t: float) -> float:
        return TEMP_TOP + (t_hi - t) / (t_hi - t_lo) * TEMP_H

    def py_grade(g: float) -> float:
        return GRADE_TOP + (4 - g) / 4 * GRADE_H

    out: list[str] = []
    add = out.append
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tox-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'role="img" aria-labelledby="chart-title chart-desc" focusable="false" preserveAspectRatio="xMidYMid meet">'
    )
    description = _describe(timeline, assessments, interventions, lo, hi)
    add('<title id="chart-title">Temperature and CRS/ICANS grades by day since infusion</title>')
    add(f'<desc id="chart-desc">{escape(description)}</desc>')

    # Panels, grid and axes.
    add(f'<rect x="{LEFT}" y="{TEMP_TOP}" width="{PLOT_W}" height="{TEMP_H}" fill="#fff" stroke="{GRID}"/>')
    add(f'<rect x="{LEFT}" y="{GRADE_TOP}" width="{PLOT_W}" height="{GRADE_H}" fill="#fff" stroke="{GRID}"/>')
    for t in range(int(t_lo), int(t_hi) + 1):
        y = py_temp(t)
        add(f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        add(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{t}</text>')
    y = py_temp(FEVER_LINE_C)
    add(
        f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="{CRS_COLOUR}" '
        'stroke-dasharray="6 4" stroke-width="1.5"/>'
    )
    add(
        f'<text x="{LEFT + PLOT_W - 4}" y="{y - 5:.1f}" text-anchor="end" class="note" fill="{CRS_COLOUR}">'
        f"fever ≥ {FEVER} °C</text>"
    )
    mid = TEMP_TOP + TEMP_H / 2
    add(f'<text x="16" y="{mid:.0f}" class="axis" transform="rotate(-90 16 {mid:.0f})" text-anchor="middle">°C</text>')
    for g in range(5):
        y = py_grade(g)
        stroke = "#e8b4b0" if g == URGENT_GRADE else GRID
        add(f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"/>')
        add(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{g}</text>')
    add(
        f'<text x="16" y="{GRADE_TOP + GRADE_H / 2:.0f}" class="axis" '
        f'transform="rotate(-90 16 {GRADE_TOP + GRADE_H / 2:.0f})" text-anchor="middle">Grade</text>'
    )
    step = _tick_step(hi - lo)
    first_tick = math.ceil(lo / step) * step
    for d in range(first_tick, hi + 1, step):
        x = px(d)
        add(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TEMP_TOP}" y2="{AXIS_Y}" stroke="{GRID}" stroke-width="0.6"/>')
        label = "0" if d == 0 else f"{d:+d}"
        add(f'<text x="{x:.1f}" y="{AXIS_Y + 18}" text-anchor="middle" class="tick">{label}</text>')
    add(
        f'<text x="{LEFT + PLOT_W / 2:.0f}" y="{HEIGHT - 4}" text-anchor="middle" class="axis">'
        "Days since infusion (day 0)</text>"
    )
    if lo <= 0 <= hi:
        x = px(0)
        add(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TEMP_TOP}" y2="{AXIS_Y}" stroke="{INK}" stroke-width="1.5"/>')
        add(f'<text x="{x + 4:.1f}" y="{TEMP_TOP + 14}" class="note" fill="{INK}">Infusion</text>')

    # Interventions: a dashed line across both panels and a triangle above, labelled while there are few;
    # a label that would overlap the one before goes to a second row.
    marks: dict[int, TimelineEvent] = {}
    for e in interventions:
        marks.setdefault(min(MAX_POINTS - 1, int((x_of(e) - lo) / (hi - lo) * MAX_POINTS)), e)
    labelled = len(marks) <= MAX_LABELS
    row_ends: list[float] = [-1e9, -1e9]
    for e in marks.values():
        x = px(x_of(e))
        half = 4.5 * len(_short(e.detail.get("drug") or "")) + 4
        row = next((r for r, end in enumerate(row_ends) if x - half > end), len(row_ends) - 1)
        row_ends[row] = x + half
        label_y = TEMP_TOP - 14 - 15 * row
        add(f'<g class="intervention" data-day="{e.day}">')
        add(f"<title>{escape(_point_title(e, e.summary))}</title>")
        add(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TEMP_TOP}" y2="{AXIS_Y}" stroke="{INTERVENTION_COLOUR}" '
            'stroke-dasharray="3 3" stroke-width="1.5"/>'
        )
        add(
            f'<path d="M{x - 6:.1f},{TEMP_TOP - 10} L{x + 6:.1f},{TEMP_TOP - 10} L{x:.1f},{TEMP_TOP} Z" '
            f'fill="{INTERVENTION_COLOUR}"/>'
        )
        if labelled:
            add(
                f'<text x="{x:.1f}" y="{label_y}" text-anchor="middle" class="note" fill="{INTERVENTION_COLOUR}">'
                f"{escape(_short(e.detail.get('drug') or ''))}</text>"
            )
        add("</g>")

    # Temperature.
    if temps:
        line = " ".join(f"{px(x):.1f},{py_temp(e.detail['temperature_c']):.1f}" for x, e in temps)
        add(f'<polyline points="{line}" fill="none" stroke="{TEMPERATURE_COLOUR}" stroke-width="2"/>')
        for x, e in temps:
            t = e.detail["temperature_c"]
            fever = " fever" if t >= FEVER_LINE_C else ""
            add(
                f'<circle class="point temperature{fever}" cx="{px(x):.1f}" cy="{py_temp(t):.1f}" r="3.5" '
                f'fill="{TEMPERATURE_COLOUR}"><title>{escape(_point_title(e, f"{_fmt(t)} °C"))}</title></circle>'
            )

    # Grades: CRS solid line and filled circles, ICANS dashed line and open squares.
    graded = [(x_of(e), e) for e in assessments]
    crs_points = _peaks(graded, "crs_grade", lo, hi)
    icans_points = _peaks(graded, "icans_grade", lo, hi)
    if graded:
        crs = " ".join(f"{px(x):.1f},{py_grade(e.detail['crs_grade']):.1f}" for x, e in crs_points)
        icans = " ".join(f"{px(x):.1f},{py_grade(e.detail['icans_grade']):.1f}" for x, e in icans_points)
        add(f'<polyline points="{icans}" fill="none" stroke="{ICANS_COLOUR}" stroke-width="2" stroke-dasharray="6 3"/>')
        add(f'<polyline points="{crs}" fill="none" stroke="{CRS_COLOUR}" stroke-width="2"/>')
        # Open squares under small filled circles: equal grades show both marks, one inside the other.
        for x, e in icans_points:
            g = e.detail["icans_grade"]
            add(
                f'<rect class="point icans" x="{px(x) - 6:.1f}" y="{py_grade(g) - 6:.1f}" width="12" height="12" '
                f'fill="#fff" stroke="{ICANS_COLOUR}" stroke-width="2">'
                f"<title>{escape(_point_title(e, f'ICANS grade {g}'))}</title></rect>"
            )
        for x, e in crs_points:
            g = e.detail["crs_grade"]
            add(
                f'<circle class="point crs" cx="{px(x):.1f}" cy="{py_grade(g):.1f}" r="3.5" fill="{CRS_COLOUR}">'
                f"<title>{escape(_point_title(e, f'CRS grade {g}'))}</title></circle>"
            )

    # Legend, along the top.
    lx, ly = LEFT, 18
    add(f'<g class="legend" transform="translate({lx} {ly})">')
    add(
        f'<line x1="0" x2="22" y1="-4" y2="-4" stroke="{TEMPERATURE_COLOUR}" stroke-width="2"/>'
        f'<circle cx="11" cy="-4" r="3.5" fill="{TEMPERATURE_COLOUR}"/>'
        '<text x="28" y="0" class="legend-text">Temperature</text>'
    )
    add(
        f'<line x1="140" x2="162" y1="-4" y2="-4" stroke="{CRS_COLOUR}" stroke-width="2"/>'
        f'<circle cx="151" cy="-4" r="3.5" fill="{CRS_COLOUR}"/>'
        '<text x="168" y="0" class="legend-text">CRS grade</text>'
    )
    add(
        f'<line x1="275" x2="297" y1="-4" y2="-4" stroke="{ICANS_COLOUR}" stroke-width="2" stroke-dasharray="6 3"/>'
        f'<rect x="281" y="-10" width="12" height="12" fill="#fff" stroke="{ICANS_COLOUR}" stroke-width="2"/>'
        '<text x="303" y="0" class="legend-text">ICANS grade</text>'
    )
    add(
        f'<path d="M425,-10 L437,-10 L431,0 Z" fill="{INTERVENTION_COLOUR}"/>'
        '<text x="443" y="0" class="legend-text">Intervention</text>'
    )
    add("</g></svg>")

    rows = [
        ChartRow(
            day=e.day,
            at=e.at,
            what="Assessment",
            temperature_c=e.detail.get("temperature_c"),
            crs_grade=e.detail.get("crs_grade"),
            icans_grade=e.detail.get("icans_grade"),
        )
        if e.kind == TimelineKind.ASSESSMENT
        else ChartRow(day=e.day, at=e.at, what=e.summary)
        for e in sorted(assessments + interventions, key=lambda e: (e.at, e.record_id))
    ]
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 - every text node above is escaped
        description=description,
        temperature_points=len(temps),
        grade_points=len(crs_points),
        interventions=len(interventions),
        rows=rows,
        first_day=lo,
        last_day=hi,
    )


def _point_title(event: TimelineEvent, what: str) -> str:
    day = "" if event.day is None else f"Day {event.day:+d}, " if event.day else "Day 0, "
    return f"{day}{event.local_at:%Y-%m-%d %H:%M}: {what}"


def _describe(
    timeline: Timeline, assessments: list[TimelineEvent], interventions: list[TimelineEvent], lo: int, hi: int
) -> str:
    """The chart in words: its range, the peaks and when they came, the interventions."""
    parts = [f"{len(assessments)} assessments shown from day {lo} to day {hi}."]
    if len(assessments) > MAX_POINTS:
        parts.append("Each point shows the highest value of its period.")
    temps = [e for e in assessments if e.detail.get("temperature_c") is not None]
    if temps:
        peak = max(temps, key=lambda e: (e.detail["temperature_c"], -e.at.timestamp()))
        fevers = sum(1 for e in temps if Decimal(str(e.detail["temperature_c"])) >= FEVER)
        parts.append(
            f"Highest temperature {_fmt(peak.detail['temperature_c'])} °C on day {peak.day}; "
            f"{fevers} of {len(temps)} readings at or above {FEVER} °C."
        )
    for name, key in (("CRS", "crs_grade"), ("ICANS", "icans_grade")):
        if assessments:
            peak = max(assessments, key=lambda e, key=key: (e.detail[key], -e.at.timestamp()))
            if peak.detail[key]:
                parts.append(f"Highest {name} grade {peak.detail[key]} on day {peak.day}.")
            else:
                parts.append(f"No {name}.")
    if interventions:
        given = "; ".join(f"{e.detail.get('drug')} on day {e.day}" for e in interventions[:12])
        more = f" and {len(interventions) - 12} more" if len(interventions) > 12 else ""
        parts.append(f"Interventions: {given}{more}.")
    return " ".join(parts)
