"""Registry time points (CIBMTR: pre-infusion, product, infusion, day 100, month 6, year 1, then yearly to year 15):
their due dates and the windows of records the follow-up documents report."""

from datetime import date
from itertools import pairwise

from tracker.rules import registry


def test_the_time_points_are_cibmtrs_fifteen_year_track():
    assert registry.CODES == (
        "pre_infusion",
        "product",
        "infusion",
        "day_100",
        "month_6",
        *(f"year_{n}" for n in range(1, 16)),
    )


def test_due_dates_count_calendar_days_months_and_years_from_the_infusion_day():
    infused = date(2031, 1, 31)
    due = {t.code: registry.due_on(t, infused) for t in registry.TIMEPOINTS}
    assert due["pre_infusion"] == due["product"] == due["infusion"] == infused
    assert due["day_100"] == date(2031, 5, 11)
    assert due["month_6"] == date(2031, 7, 31)
    assert due["year_1"] == date(2032, 1, 31)
    assert due["year_15"] == date(2046, 1, 31)
    leap = date(2032, 2, 29)
    assert registry.due_on(registry.BY_CODE["year_1"], leap) == date(2033, 2, 28)


def test_follow_up_windows_follow_one_another_from_the_infusion_day_without_gap_or_overlap():
    infused = date(2031, 1, 31)
    windows = [registry.window(t, infused) for t in registry.FOLLOW_UP]
    assert windows[0][0] == infused  # day 100's window holds the acute weeks
    for (_, end), (start, _) in pairwise(windows):
        assert end == start
    for timepoint, (first, end) in zip(registry.FOLLOW_UP, windows, strict=True):
        assert first <= registry.due_on(timepoint, infused) < end
    # day 100 (May 11) and month 6 (Jul 31) meet halfway between them
    assert windows[0][1] == date(2031, 6, 20)
    # year 15 ends half a year after its due date
    assert windows[-1][1] == date(2046, 8, 1)
