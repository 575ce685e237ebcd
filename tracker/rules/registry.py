"""Registry time points and the days of records each follow-up document reports. Pure: no database.

CIBMTR's cellular therapy forms: pre-infusion essential data (form 4000), the product (4003) and the infusion (4006),
then follow-up (4100) at day 100, month 6, year 1 and yearly after; gene-modified products are followed for 15 years
(CIBMTR's 15-year track; FDA guidance on long-term follow-up after gene therapy, 2020).
"""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

YEARS = 15


@dataclass(frozen=True)
class Timepoint:
    code: str
    label: str
    offset: relativedelta  # from the infusion day (calendar months and years, as registries count them)
    follow_up: bool  # a follow-up document: the patient's status at the time point and what happened since


TIMEPOINTS: tuple[Timepoint, ...] = (
    Timepoint("pre_infusion", "Pre-infusion", relativedelta(), follow_up=False),
    Timepoint("product", "Product", relativedelta(), follow_up=False),
    Timepoint("infusion", "Infusion", relativedelta(), follow_up=False),
    Timepoint("day_100", "Day 100", relativedelta(days=100), follow_up=True),
    Timepoint("month_6", "Month 6", relativedelta(months=6), follow_up=True),
    *(Timepoint(f"year_{n}", f"Year {n}", relativedelta(years=n), follow_up=True) for n in range(1, YEARS + 1)),
)
BY_CODE = {t.code: t for t in TIMEPOINTS}
CODES = tuple(BY_CODE)
CHOICES = [(t.code, t.label) for t in TIMEPOINTS]
FOLLOW_UP = tuple(t for t in TIMEPOINTS if t.follow_up)


def due_on(timepoint: Timepoint, infused_on: date) -> date:
    """The documents before and of the infusion are due on the infusion day; follow-up ones at their time point."""
    return infused_on + timepoint.offset


def window(timepoint: Timepoint, infused_on: date) -> tuple[date, date]:
    """The days [first, end) whose records a follow-up document reports: each record belongs to the time point
    nearest to it, so the windows follow one another without gap or overlap. Day 100 starts on the infusion day
    (the acute toxicities are in it); year 15 ends half a year after its due date."""
    index = FOLLOW_UP.index(timepoint)
    due = due_on(timepoint, infused_on)
    if index == 0:
        first = infused_on
    else:
        before = due_on(FOLLOW_UP[index - 1], infused_on)
        first = before + (due - before) / 2
    after = due_on(FOLLOW_UP[index + 1], infused_on) if index + 1 < len(FOLLOW_UP) else due + relativedelta(years=1)
    return first, due + (after - due) / 2
