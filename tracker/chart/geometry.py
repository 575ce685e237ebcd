"""The toxicity chart's geometry: pure functions of numbers (no database, no markup, no words).

The figure is two panels over one day axis: temperature above, CRS/ICANS grades below. x is in days since
the start of the infusion day (fractions are times of day); y in °C or grades.
"""

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Frame:
    """Where the panels sit in the figure (SVG user units)."""

    width: int = 960
    height: int = 420
    left: int = 64
    right: int = 24
    temp_top: int = 66
    temp_height: int = 170
    gap: int = 34  # between the panels: room for the temperature panel's last tick label
    grade_height: int = 112

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_right(self) -> int:
        return self.left + self.plot_width

    @property
    def grade_top(self) -> int:
        return self.temp_top + self.temp_height + self.gap

    @property
    def axis_y(self) -> int:
        return self.grade_top + self.grade_height


FRAME = Frame()

# More points than this would not be readable (nor light to draw): each period then shows its highest value,
# so no fever or grade peak is ever hidden.
MAX_POINTS = 600
# Intervention labels are drawn while there are no more than this many marks.
MAX_LABELS = 40
# The day axis shows at least a week.
MIN_DAYS = 7
# The temperature axis shows at least 35 to 41 °C.
TEMPERATURE_FLOOR, TEMPERATURE_CEILING = 35, 41
MAX_GRADE = 4
# Two rows of intervention labels above the temperature panel; a label is about 9 units a character wide.
LABEL_ROWS = 2
LABEL_HALF_WIDTH_PER_CHARACTER = 4.5
LABEL_PADDING = 4


@dataclass(frozen=True)
class Scale:
    """A linear map from a domain (d0 -> d1) onto a range (r0 -> r1); a reversed domain turns the axis over."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        return self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


def day_span(xs: Sequence[float], *, include_zero: bool, min_days: int = MIN_DAYS) -> tuple[int, int]:
    """Whole days from before the first x to after the last; day 0 included when asked; at least `min_days`."""
    lo, hi = math.floor(min(xs)), math.floor(max(xs)) + 1
    if include_zero:
        lo = min(lo, 0)
    return lo, max(hi, lo + min_days)


def temperature_span(values: Sequence[float]) -> tuple[int, int]:
    """Whole degrees around every value, never narrower than 35-41 °C."""
    lo = min([TEMPERATURE_FLOOR, *(math.floor(t) for t in values)])
    hi = max([TEMPERATURE_CEILING, *(math.ceil(t) for t in values)])
    return lo, hi


def tick_step(span: float) -> int:
    """Days between labelled ticks: daily for three weeks, then every 2 days, weekly, monthly, yearly."""
    for limit, step in ((21, 1), (42, 2), (120, 7), (730, 30)):
        if span <= limit:
            return step
    return 365


def day_ticks(lo: int, hi: int) -> list[int]:
    """The labelled days between lo and hi (both included), on multiples of the step."""
    step = tick_step(hi - lo)
    return list(range(math.ceil(lo / step) * step, hi + 1, step))


def period(x: float, lo: float, hi: float, periods: int = MAX_POINTS) -> int:
    """Which of `periods` equal slices of [lo, hi) x falls in."""
    return min(periods - 1, int((x - lo) / (hi - lo) * periods))


def peaks[P](points: Sequence[P], x: Callable[[P], float], value: Callable[[P], Any], lo: float, hi: float) -> list[P]:
    """All the points while there are MAX_POINTS or fewer; else the highest of each period (the first of equals)."""
    if len(points) <= MAX_POINTS:
        return list(points)
    best: dict[int, P] = {}
    for point in points:
        slot = period(x(point), lo, hi)
        if slot not in best or value(point) > value(best[slot]):
            best[slot] = point
    return [best[slot] for slot in sorted(best)]


def first_per_period[P](points: Sequence[P], x: Callable[[P], float], lo: float, hi: float) -> list[P]:
    """One point per period (the first), in their order: marks that would be drawn on top of each other."""
    firsts: dict[Hashable, P] = {}
    for point in points:
        firsts.setdefault(period(x(point), lo, hi), point)
    return list(firsts.values())


def label_half_width(text: str) -> float:
    return LABEL_HALF_WIDTH_PER_CHARACTER * len(text) + LABEL_PADDING


def label_rows(spans: Sequence[tuple[float, float]], rows: int = LABEL_ROWS) -> list[int]:
    """The row of each label (centre x, half width), left to right: the first row where it clears the label
    before it, else the last row."""
    ends = [-math.inf] * rows
    placed = []
    for centre, half in spans:
        row = next((r for r, end in enumerate(ends) if centre - half > end), rows - 1)
        ends[row] = centre + half
        placed.append(row)
    return placed
