"""The toxicity chart's geometry: scales, spans, ticks, the peak of each period beyond 600 points, label rows.
Pure functions: no database."""

import pytest

from tracker.chart import geometry
from tracker.chart.geometry import FRAME, MAX_POINTS, Scale


def test_a_scale_maps_its_domain_onto_its_range_and_may_turn_it_over():
    days = Scale(0, 10, FRAME.left, FRAME.plot_right)
    assert days(0) == FRAME.left and days(10) == FRAME.plot_right and days(5) == FRAME.left + FRAME.plot_width / 2
    # Temperature: higher is further up the page (a smaller y).
    degrees = Scale(41, 35, FRAME.temp_top, FRAME.temp_top + FRAME.temp_height)
    assert degrees(41) == FRAME.temp_top and degrees(35) == FRAME.temp_top + FRAME.temp_height
    assert degrees(39) < degrees(38)


def test_the_panels_stack_without_overlapping():
    assert FRAME.temp_top + FRAME.temp_height < FRAME.grade_top < FRAME.axis_y < FRAME.height
    assert FRAME.plot_right == FRAME.width - FRAME.right


@pytest.mark.parametrize(
    "xs, include_zero, span",
    [
        ([0.5, 2.2], True, (0, 7)),  # at least a week
        ([2.5, 3.1], True, (0, 7)),  # day 0 kept when the infusion is in range
        ([2.5, 3.1], False, (2, 9)),
        ([-3.2, 20.9], True, (-4, 21)),  # whole days around every point
        ([-0.1], False, (-1, 6)),
    ],
)
def test_the_day_span_holds_every_point_in_whole_days(xs, include_zero, span):
    assert geometry.day_span(xs, include_zero=include_zero) == span


@pytest.mark.parametrize(
    "values, span", [([], (35, 41)), ([36.5, 39.3], (35, 41)), ([34.2, 41.5], (34, 42)), ([42.0], (35, 42))]
)
def test_the_temperature_span_is_never_narrower_than_35_to_41(values, span):
    assert geometry.temperature_span(values) == span


@pytest.mark.parametrize(
    "span, step", [(7, 1), (21, 1), (22, 2), (42, 2), (43, 7), (120, 7), (121, 30), (730, 30), (731, 365)]
)
def test_ticks_thin_out_as_the_span_grows(span, step):
    assert geometry.tick_step(span) == step


def test_day_ticks_fall_on_multiples_of_the_step():
    assert geometry.day_ticks(-3, 4) == [-3, -2, -1, 0, 1, 2, 3, 4]
    assert geometry.day_ticks(-5, 30) == [-4, -2, *range(0, 31, 2)]
    assert geometry.day_ticks(0, 100) == list(range(0, 99, 7))


def test_up_to_600_points_are_all_drawn():
    points = [(i / 100, i % 7) for i in range(MAX_POINTS)]
    assert geometry.peaks(points, lambda p: p[0], lambda p: p[1], 0, 7) == points


def test_beyond_600_points_each_period_shows_its_highest_value():
    # 3,000 readings over 10 days, a fever spike hidden in the middle of them.
    points = [(i * 10 / 3000, 36.5 + (i % 5) / 10) for i in range(3000)]
    points[1234] = (points[1234][0], 41.2)

    drawn = geometry.peaks(points, lambda p: p[0], lambda p: p[1], 0, 10)

    assert len(drawn) <= MAX_POINTS
    assert points[1234] in drawn, "no peak is hidden"
    assert all(value == pytest.approx(36.9) or value == 41.2 for _, value in drawn)
    assert [x for x, _ in drawn] == sorted(x for x, _ in drawn)


def test_among_equal_peaks_the_first_of_the_period_is_drawn():
    points = [(i / 1000, 1) for i in range(1000)]
    drawn = geometry.peaks(points, lambda p: p[0], lambda p: p[1], 0, 1)
    assert drawn[0] == points[0] and len(drawn) == MAX_POINTS


def test_marks_in_one_period_are_drawn_once():
    points = [(0.0, "a"), (0.0001, "b"), (0.5, "c")]
    assert geometry.first_per_period(points, lambda p: p[0], 0, 1) == [(0.0, "a"), (0.5, "c")]


def test_a_label_that_would_overlap_the_one_before_goes_a_row_up():
    half = geometry.label_half_width("tocilizumab")
    assert half == 4.5 * 11 + 4
    rows = geometry.label_rows([(100, half), (110, half), (120, half), (400, half)])
    # The second overlaps the first: row 1; the third overlaps both rows: it stays on the last row; the fourth is clear.
    assert rows == [0, 1, 1, 0]
