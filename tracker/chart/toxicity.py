"""The toxicity chart of the patient page: temperature, CRS/ICANS grades and acute GVHD grades by day since
infusion, as SVG.

Drawn on the server from the timeline's assessment, intervention and GVHD events, so the page needs no script
and prints as it shows. Colour is never the only cue: CRS points are filled circles on a solid line,
ICANS points open squares on a dashed line, acute GVHD grades (MAGIC, 0-IV on the same 0-4 scale) diamonds on a
dotted line, interventions labelled triangles; the figure carries a text description and the page a data table for
screen readers.

This module picks the points from the timeline's typed events and words the titles and the description; the
numbers come from tracker.chart.geometry and the markup from the template `tracker/chart.svg` (autoescaped).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from tracker.chart import geometry
from tracker.chart.geometry import FRAME, MAX_GRADE, MAX_LABELS, MAX_POINTS, Frame, Scale
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import FEVER_C, URGENT_GRADE
from tracker.timeline.details import AssessmentDetail, GvhdDetail, InterventionDetail
from tracker.timeline.events import Timeline, TimelineEvent, day_start

TEMPLATE = "tracker/chart.svg"
# Interventions named one by one in the description; the rest are counted.
DESCRIBED_INTERVENTIONS = 12
LABEL_CHARACTERS = 14


@dataclass(frozen=True)
class ChartRow:
    """One line of the chart's data table (the accessible alternative to the picture)."""

    day: int | None
    at: datetime
    what: str
    temperature_c: Decimal | None = None
    crs_grade: int | None = None
    icans_grade: int | None = None
    gvhd_grade: str | None = None  # MAGIC, written 0-IV


# What the template draws: coordinates already written as SVG numbers (one decimal), titles as plain text.


@dataclass(frozen=True)
class GridLine:
    y: str
    label_y: str
    label: str
    emphasis: bool = False  # the urgent grade's line


@dataclass(frozen=True)
class DayTick:
    x: str
    label: str


@dataclass(frozen=True)
class Point:
    x: str
    y: str
    title: str
    fever: bool = False
    # The top-left corner of a square mark (ICANS) centred on the point.
    corner_x: str = ""
    corner_y: str = ""
    # The outline of a diamond mark (acute GVHD) centred on the point.
    diamond: str = ""


@dataclass(frozen=True)
class Mark:
    """An intervention: a dashed line across both panels and a triangle above, labelled while there are few."""

    x: str
    left: str
    right: str
    day: int | None
    title: str
    label: str | None
    label_y: int


@dataclass(frozen=True)
class Drawing:
    frame: Frame
    description: str
    temperature_grid: list[GridLine]
    fever_y: str
    fever_label_y: str
    grade_grid: list[GridLine]
    day_ticks: list[DayTick]
    infusion_x: str | None
    infusion_label_x: str
    marks: list[Mark]
    temperature_line: str
    temperature_points: list[Point]
    crs_line: str
    crs_points: list[Point]
    icans_line: str
    icans_points: list[Point]
    gvhd_line: str
    gvhd_points: list[Point]
    fever_c: Decimal = FEVER_C
    # Derived positions of the fixed parts, so the template does no arithmetic.
    tick_label_x: int = field(init=False)
    fever_label_x: int = field(init=False)
    day_label_y: int = field(init=False)
    mark_top: int = field(init=False)
    infusion_label_y: int = field(init=False)
    temperature_axis_y: str = field(init=False)
    grade_axis_y: str = field(init=False)
    day_axis_x: str = field(init=False)
    day_axis_y: int = field(init=False)

    def __post_init__(self) -> None:
        f = self.frame
        for name, value in {
            "tick_label_x": f.left - 8,
            "fever_label_x": f.plot_right - 4,
            "day_label_y": f.axis_y + 18,
            "mark_top": f.temp_top - 10,
            "infusion_label_y": f.temp_top + 14,
            "temperature_axis_y": f"{f.temp_top + f.temp_height / 2:.0f}",
            "grade_axis_y": f"{f.grade_top + f.grade_height / 2:.0f}",
            "day_axis_x": f"{f.left + f.plot_width / 2:.0f}",
            "day_axis_y": f.height - 4,
        }.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Chart:
    drawing: Drawing
    description: str
    temperature_points: int
    grade_points: int
    interventions: int
    gvhd_points: int
    rows: list[ChartRow]
    first_day: int
    last_day: int

    @cached_property
    def svg(self) -> SafeString:
        """The figure's markup (the page includes the same template in place)."""
        return SafeString(render_to_string(TEMPLATE, {"chart": self}).strip())


@dataclass(frozen=True)
class _Plotted:
    """An event of the chart and its x (days since the start of the infusion day)."""

    x: float
    event: TimelineEvent


def _f(value: float) -> str:
    return f"{value:.1f}"


def _degrees(value: Decimal) -> str:
    """39.0 -> 39, 39.25 -> 39.3 (the chart's precision)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _short(drug: str) -> str:
    word = (drug.split() or ["?"])[0]
    return word if len(word) <= LABEL_CHARACTERS else word[: LABEL_CHARACTERS - 1] + "…"


def _point_title(event: TimelineEvent, what: str) -> str:
    day = "" if event.day is None else f"Day {event.day:+d}, " if event.day else "Day 0, "
    return f"{day}{event.local_at:%Y-%m-%d %H:%M}: {what}"


def _assessment(p: _Plotted) -> AssessmentDetail:
    detail = p.event.detail
    assert isinstance(detail, AssessmentDetail)
    return detail


def _temperature(p: _Plotted) -> Decimal:
    temperature = _assessment(p).temperature_c
    assert temperature is not None
    return temperature


def _drug(event: TimelineEvent) -> str:
    detail = event.detail
    assert isinstance(detail, InterventionDetail)
    return detail.drug


def _gvhd(p: _Plotted) -> GvhdDetail:
    detail = p.event.detail
    assert isinstance(detail, GvhdDetail)
    return detail


def _x(p: _Plotted) -> float:
    return p.x


def timeline_chart(timeline: Timeline) -> Chart | None:
    """The chart of the timeline's assessments, interventions and GVHD stagings; None before an infusion or
    without data."""
    if timeline.day_zero is None:
        return None
    origin = day_start(timeline.day_zero, 0)

    def plotted(event: TimelineEvent) -> _Plotted:
        return _Plotted((event.at - origin).total_seconds() / 86400, event)

    assessments = [plotted(e) for e in timeline.events if isinstance(e.detail, AssessmentDetail)]
    interventions = [plotted(e) for e in timeline.events if isinstance(e.detail, InterventionDetail)]
    stagings = [plotted(e) for e in timeline.events if isinstance(e.detail, GvhdDetail)]
    if not assessments and not interventions and not stagings:
        return None

    infused_in_range = timeline.infused_at is not None and (
        (timeline.since is None or timeline.since <= timeline.infused_at)
        and (timeline.until is None or timeline.infused_at < timeline.until)
    )
    lo, hi = geometry.day_span([p.x for p in assessments + interventions + stagings], include_zero=infused_in_range)
    frame = FRAME
    x_scale = Scale(lo, hi, frame.left, frame.plot_right)

    measured = [p for p in assessments if _assessment(p).temperature_c is not None]
    temperatures = geometry.peaks(measured, _x, _temperature, lo, hi)
    t_lo, t_hi = geometry.temperature_span([float(_temperature(p)) for p in temperatures])
    t_scale = Scale(t_hi, t_lo, frame.temp_top, frame.temp_top + frame.temp_height)
    g_scale = Scale(MAX_GRADE, 0, frame.grade_top, frame.axis_y)
    crs = geometry.peaks(assessments, _x, lambda p: _assessment(p).crs_grade, lo, hi)
    icans = geometry.peaks(assessments, _x, lambda p: _assessment(p).icans_grade, lo, hi)
    gvhd = geometry.peaks(stagings, _x, lambda p: _gvhd(p).grade, lo, hi)

    def temperature_point(p: _Plotted) -> Point:
        t = _temperature(p)
        return Point(
            _f(x_scale(p.x)),
            _f(t_scale(float(t))),
            _point_title(p.event, f"{_degrees(t)} °C"),
            fever=t >= FEVER_C,
        )

    def grade_point(p: _Plotted, name: str, grade: int) -> Point:
        x, y = x_scale(p.x), g_scale(grade)
        return Point(
            _f(x), _f(y), _point_title(p.event, f"{name} grade {grade}"), corner_x=_f(x - 6), corner_y=_f(y - 6)
        )

    def gvhd_point(p: _Plotted) -> Point:
        x, y = x_scale(p.x), g_scale(_gvhd(p).grade)
        diamond = f"M{_f(x)},{_f(y - 7)} L{_f(x + 7)},{_f(y)} L{_f(x)},{_f(y + 7)} L{_f(x - 7)},{_f(y)} Z"
        return Point(_f(x), _f(y), _point_title(p.event, p.event.summary), diamond=diamond)

    temperature_points = [temperature_point(p) for p in temperatures]
    crs_points = [grade_point(p, "CRS", _assessment(p).crs_grade) for p in crs]
    icans_points = [grade_point(p, "ICANS", _assessment(p).icans_grade) for p in icans]
    gvhd_points = [gvhd_point(p) for p in gvhd]
    description = _describe(assessments, [p.event for p in interventions], lo, hi) + _describe_gvhd(stagings)
    fever_y = t_scale(float(FEVER_C))
    drawing = Drawing(
        frame=frame,
        description=description,
        temperature_grid=[_grid_line(t_scale(t), t) for t in range(t_lo, t_hi + 1)],
        fever_y=_f(fever_y),
        fever_label_y=_f(fever_y - 5),
        grade_grid=[_grid_line(g_scale(g), g, emphasis=g == URGENT_GRADE) for g in range(MAX_GRADE + 1)],
        day_ticks=[DayTick(_f(x_scale(d)), "0" if d == 0 else f"{d:+d}") for d in geometry.day_ticks(lo, hi)],
        infusion_x=_f(x_scale(0)) if lo <= 0 <= hi else None,
        infusion_label_x=_f(x_scale(0) + 4),
        marks=_marks(interventions, x_scale, lo, hi),
        temperature_line=_polyline(temperature_points),
        temperature_points=temperature_points,
        crs_line=_polyline(crs_points),
        crs_points=crs_points,
        icans_line=_polyline(icans_points),
        icans_points=icans_points,
        gvhd_line=_polyline(gvhd_points),
        gvhd_points=gvhd_points,
    )
    plotted_events = assessments + interventions + stagings
    rows = [_row(p) for p in sorted(plotted_events, key=lambda p: (p.event.at, p.event.record_id))]
    return Chart(
        drawing=drawing,
        description=description,
        temperature_points=len(temperature_points),
        grade_points=len(crs_points),
        interventions=len(interventions),
        gvhd_points=len(gvhd_points),
        rows=rows,
        first_day=lo,
        last_day=hi,
    )


def _grid_line(y: float, value: int, *, emphasis: bool = False) -> GridLine:
    return GridLine(_f(y), _f(y + 4), str(value), emphasis=emphasis)


def _polyline(points: list[Point]) -> str:
    return " ".join(f"{p.x},{p.y}" for p in points)


def _row(p: _Plotted) -> ChartRow:
    event = p.event
    if isinstance(event.detail, AssessmentDetail):
        d = event.detail
        return ChartRow(
            day=event.day,
            at=event.at,
            what="Assessment",
            temperature_c=d.temperature_c,
            crs_grade=d.crs_grade,
            icans_grade=d.icans_grade,
        )
    if isinstance(event.detail, GvhdDetail):
        grade = gvhd_rules.ROMAN[event.detail.grade]
        return ChartRow(day=event.day, at=event.at, what=event.summary, gvhd_grade=grade)
    return ChartRow(day=event.day, at=event.at, what=event.summary)


def _marks(interventions: list[_Plotted], x_scale: Scale, lo: int, hi: int) -> list[Mark]:
    """One mark per period; labels while there are few, a label that would overlap the one before a row higher."""
    marked = geometry.first_per_period(interventions, _x, lo, hi)
    labels = [_short(_drug(p.event)) for p in marked]
    xs = [x_scale(p.x) for p in marked]
    rows = geometry.label_rows([(x, geometry.label_half_width(label)) for x, label in zip(xs, labels, strict=True)])
    labelled = len(marked) <= MAX_LABELS
    top = FRAME.temp_top
    return [
        Mark(
            x=_f(x),
            left=_f(x - 6),
            right=_f(x + 6),
            day=p.event.day,
            title=_point_title(p.event, p.event.summary),
            label=label if labelled else None,
            label_y=top - 14 - 15 * row,
        )
        for p, x, label, row in zip(marked, xs, labels, rows, strict=True)
    ]


def _describe(assessments: list[_Plotted], interventions: list[TimelineEvent], lo: int, hi: int) -> str:
    """The chart in words: its range, the peaks and when they came, the interventions."""
    parts = [f"{len(assessments)} assessments shown from day {lo} to day {hi}."]
    if len(assessments) > MAX_POINTS:
        parts.append("Each point shows the highest value of its period.")
    readings = [(_assessment(p), p.event) for p in assessments]
    measured = [(d.temperature_c, e) for d, e in readings if d.temperature_c is not None]
    if measured:
        hottest, when = max(measured, key=lambda m: (m[0], -m[1].at.timestamp()))
        fevers = sum(1 for t, _ in measured if t >= FEVER_C)
        parts.append(
            f"Highest temperature {_degrees(hottest)} °C on day {when.day}; "
            f"{fevers} of {len(measured)} readings at or above {FEVER_C} °C."
        )
    for name, grade_of in (("CRS", _crs), ("ICANS", _icans)):
        if readings:
            worst, when = max(((grade_of(d), e) for d, e in readings), key=lambda g: (g[0], -g[1].at.timestamp()))
            parts.append(f"Highest {name} grade {worst} on day {when.day}." if worst else f"No {name}.")
    if interventions:
        given = "; ".join(f"{_drug(e)} on day {e.day}" for e in interventions[:DESCRIBED_INTERVENTIONS])
        more = len(interventions) - DESCRIBED_INTERVENTIONS
        parts.append(f"Interventions: {given}{f' and {more} more' if more > 0 else ''}.")
    return " ".join(parts)


def _describe_gvhd(stagings: list[_Plotted]) -> str:
    """The acute GVHD stagings in words: the worst grade and when, and the responses judged."""
    if not stagings:
        return ""
    worst = max(stagings, key=lambda p: (_gvhd(p).grade, -p.event.at.timestamp()))
    parts = [
        f" {len(stagings)} acute GVHD stagings; highest grade {gvhd_rules.ROMAN[_gvhd(worst).grade]} on day "
        f"{worst.event.day}."
    ]
    for p in stagings:
        detail = _gvhd(p)
        if detail.response is not None:
            day = detail.response_day if detail.response_day is not None else p.event.day
            parts.append(f"Day {day} response: {gvhd_rules.RESPONSE_WORDS[detail.response]}.")
    return " ".join(parts)


def _crs(detail: AssessmentDetail) -> int:
    return detail.crs_grade


def _icans(detail: AssessmentDetail) -> int:
    return detail.icans_grade
