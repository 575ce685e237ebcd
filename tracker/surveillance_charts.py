"""The surveillance page's charts: geometry computed here, drawn as SVG by an autoescaped template
(templates/tracker/_chart.html) with the site's stylesheet, so the page runs no script and no inline style (CSP).

Each chart carries its data as a table (`columns`, `rows`): the page shows it under the picture, and screen readers
read it instead. Colour is never the only cue: every bar is labelled with its value and named in its tooltip.
"""

from dataclasses import dataclass, field

from tracker.surveillance import GRADES, Figures, HistogramBar, Summary, TimepointCompliance

WIDTH = 640
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 44


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    series: str  # a CSS class: its colour
    title: str  # the tooltip: what the bar counts
    value: int
    label_x: str
    label_y: str
    label_anchor: str = "middle"


@dataclass(frozen=True)
class Tick:
    x: str
    y: str
    label: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    x1: str
    y1: str
    x2: str
    y2: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    height: int
    bars: list[Bar]
    ticks: list[Tick]  # category labels
    grid: list[Line]
    scale: list[Tick]  # value axis labels
    legend: list[tuple[str, str, str, str]]  # (series class, label, x, y)
    columns: list[str]
    rows: list[list[object]]
    width: int = WIDTH
    empty: bool = False
    axis: Line | None = None
    notes: list[str] = field(default_factory=list)


def _f(value: float) -> str:
    return f"{value:.1f}"


def _nice_max(value: int) -> int:
    """The top of the value axis: the smallest 'round' number at or above the largest value (at least 1)."""
    for top in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000):
        if value <= top:
            return top
    return value


def _legend(series: list[tuple[str, str, list[int]]], left: float) -> list[tuple[str, str, str, str]]:
    """Legend entries along the top, each as wide as its words (about 7.5 px a character at 13 px)."""
    entries, x = [], left
    for css, label, _ in series:
        entries.append((css, label, _f(x), "16"))
        x += 18 + 7.5 * len(label) + 16
    return entries


def _scale_steps(top: int) -> list[int]:
    step = max(1, top // 4) if top >= 4 else 1
    return list(range(0, top + 1, step))


def grouped_columns(
    *,
    id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[tuple[str, str, list[int]]],  # (css class, legend label, one value per category)
    category_name: str,
    x_title: str,
) -> Chart:
    """Vertical bars, one group per category, one bar per series in each group."""
    height = 260
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    values = [v for _, _, vs in series for v in vs]
    top = _nice_max(max(values, default=0))
    group_w = plot_w / max(len(categories), 1)
    bar_w = min(28.0, group_w * 0.8 / max(len(series), 1))
    bars, ticks = [], []
    for i, category in enumerate(categories):
        group_x = LEFT + i * group_w + (group_w - bar_w * len(series)) / 2
        for j, (css, label, vs) in enumerate(series):
            value = vs[i]
            h = plot_h * value / top
            x = group_x + j * bar_w
            y = TOP + plot_h - h
            bars.append(
                Bar(
                    x=_f(x),
                    y=_f(y),
                    width=_f(bar_w - 2),
                    height=_f(h),
                    series=css,
                    title=f"{label}, {category_name} {category}: {value}",
                    value=value,
                    label_x=_f(x + (bar_w - 2) / 2),
                    label_y=_f(y - 4),
                )
            )
        ticks.append(Tick(x=_f(LEFT + (i + 0.5) * group_w), y=_f(TOP + plot_h + 16), label=category))
    levels = [(s, TOP + plot_h - plot_h * s / top) for s in _scale_steps(top)]
    grid = [Line(_f(LEFT), _f(y), _f(WIDTH - RIGHT), _f(y)) for _, y in levels]
    scale = [Tick(x=_f(LEFT - 6), y=_f(y + 4), label=str(s), anchor="end") for s, y in levels]
    legend = _legend(series, LEFT)
    return Chart(
        id=id,
        title=title,
        description=description,
        height=height,
        bars=bars,
        ticks=[*ticks, Tick(x=_f(LEFT + plot_w / 2), y=_f(height - 6), label=x_title)],
        grid=grid,
        scale=scale,
        legend=legend,
        columns=[category_name.capitalize(), *(label for _, label, _ in series)],
        rows=[[category, *(vs[i] for _, _, vs in series)] for i, category in enumerate(categories)],
        empty=not any(values),
        axis=Line(_f(LEFT), _f(TOP + plot_h), _f(WIDTH - RIGHT), _f(TOP + plot_h)),
    )


def stacked_rows(
    *,
    id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[tuple[str, str, list[int]]],
    category_name: str,
) -> Chart:
    """Horizontal bars, one per category, each split into its series (e.g. done on time, late, missed)."""
    label_w = 200
    row_h = 26
    height = TOP + row_h * max(len(categories), 1) + 28
    plot_w = WIDTH - label_w - RIGHT - 32
    totals = [sum(vs[i] for _, _, vs in series) for i in range(len(categories))]
    top = _nice_max(max(totals, default=0))
    bars, ticks = [], []
    for i, category in enumerate(categories):
        y = TOP + i * row_h
        x = float(label_w)
        for css, label, vs in series:
            value = vs[i]
            w = plot_w * value / top
            if value:
                bars.append(
                    Bar(
                        x=_f(x),
                        y=_f(y + 3),
                        width=_f(w),
                        height=_f(row_h - 8),
                        series=css,
                        title=f"{category}: {label} {value}",
                        value=value,
                        label_x=_f(x + w / 2),
                        label_y=_f(y + row_h / 2 + 3),
                    )
                )
            x += w
        ticks.append(Tick(x=_f(label_w - 8), y=_f(y + row_h / 2 + 4), label=category, anchor="end"))
    bottom = TOP + row_h * max(len(categories), 1)
    levels = [(s, label_w + plot_w * s / top) for s in _scale_steps(top)]
    grid = [Line(_f(x), _f(TOP), _f(x), _f(bottom)) for _, x in levels]
    scale = [Tick(x=_f(x), y=_f(bottom + 16), label=str(s)) for s, x in levels]
    legend = _legend(series, 16)
    return Chart(
        id=id,
        title=title,
        description=description,
        height=height,
        bars=bars,
        ticks=ticks,
        grid=grid,
        scale=scale,
        legend=legend,
        columns=[category_name.capitalize(), *(label for _, label, _ in series), "Total"],
        rows=[[c, *(vs[i] for _, _, vs in series), totals[i]] for i, c in enumerate(categories)],
        empty=not any(totals),
    )


def grade_chart(figures: Figures) -> Chart:
    crs, icans = figures.crs_max_grade, figures.icans_max_grade
    return grouped_columns(
        id="chart-grades",
        title="Patients by their worst CRS and ICANS grade",
        description=(
            f"Of {figures.patients_infused} patients, worst CRS grade: "
            + ", ".join(f"grade {g} {crs[g]}" for g in GRADES)
            + "; worst ICANS grade: "
            + ", ".join(f"grade {g} {icans[g]}" for g in GRADES)
            + "."
        ),
        categories=list(GRADES),
        series=[("crs", "CRS", [crs[g] for g in GRADES]), ("icans", "ICANS", [icans[g] for g in GRADES])],
        category_name="grade",
        x_title="Worst grade (ASTCT 2019; 5 = death from it)",
    )


def onset_chart(crs: list[HistogramBar], icans: list[HistogramBar]) -> Chart:
    return grouped_columns(
        id="chart-onset",
        title="Days from infusion to the first CRS and ICANS",
        description="Patients by the day after infusion their first CRS and ICANS began: "
        + ", ".join(f"day {c.label}: CRS {c.patients}, ICANS {i.patients}" for c, i in zip(crs, icans, strict=True))
        + ".",
        categories=[bar.label for bar in crs],
        series=[("crs", "CRS", [b.patients for b in crs]), ("icans", "ICANS", [b.patients for b in icans])],
        category_name="day",
        x_title="Day after infusion (day 0)",
    )


SERIOUS_STATUSES = [
    ("reported_on_time", "Reported on time", "on-time"),
    ("reported_late", "Reported late", "late"),
    ("pending", "Pending", "pending"),
    ("overdue", "Overdue", "overdue"),
]


def serious_chart(figures: Figures) -> Chart:
    counts = figures.serious_events
    return stacked_rows(
        id="chart-serious",
        title="Serious adverse events by report status",
        description=f"{counts['total']} serious events: "
        + ", ".join(f"{label.lower()} {counts[key]}" for key, label, _ in SERIOUS_STATUSES)
        + ".",
        categories=["Serious events"],
        series=[(css, label, [counts[key]]) for key, label, css in SERIOUS_STATUSES],
        category_name="events",
    )


def follow_up_chart(timepoints: list[TimepointCompliance]) -> Chart:
    names = [t.label if f"day {t.day}" in t.label else f"{t.label} (day {t.day})" for t in timepoints]
    return stacked_rows(
        id="chart-follow-up",
        title="Follow-up visits by time point",
        description="Scheduled follow-up visits that have fallen due: "
        + "; ".join(
            f"{n}: {t.done_on_time} on time, {t.done_late} late, {t.pending} pending, {t.missed} missed"
            for n, t in zip(names, timepoints, strict=True)
        )
        + ".",
        categories=names,
        series=[
            ("on-time", "Done on time", [t.done_on_time for t in timepoints]),
            ("late", "Done late", [t.done_late for t in timepoints]),
            ("pending", "Due, within grace", [t.pending for t in timepoints]),
            ("overdue", "Missed", [t.missed for t in timepoints]),
        ],
        category_name="time point",
    )


def summary_charts(summary: Summary) -> dict[str, Chart]:
    return {
        "grades": grade_chart(summary.total),
        "onset": onset_chart(summary.crs_onset_histogram, summary.icans_onset_histogram),
        "serious": serious_chart(summary.total),
        "follow_up": follow_up_chart(summary.follow_up_by_timepoint),
    }
