"""Monitoring schedule arithmetic: a protocol's steps turned into due times. Pure, no database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from products.choices import ScheduleFrom

# A safety net against a mis-typed rule (e.g. every hour for 15 years).
MAX_OCCURRENCES_PER_STEP = 1000

# Follow-up lasts 15 years at most (FDA guidance on long-term follow-up after gene therapy, 2020); no check is
# scheduled beyond twice that. A rule whose offset, repetition or grace reaches further is a typing error (a year
# typed in hours), refused where it is entered, never a schedule of millions of rows or a date past year 9999.
HORIZON_YEARS = 30
MAX_OFFSET = {"hours": HORIZON_YEARS * 366 * 24, "days": HORIZON_YEARS * 366, "months": HORIZON_YEARS * 12,
              "years": HORIZON_YEARS}  # fmt: skip
MAX_GRACE_HOURS = 366 * 24
# Length of each unit in hours, the longest it can be (a leap year, a 31-day month): bounds, not arithmetic.
UNIT_HOURS = {"hours": 1, "days": 24, "months": 31 * 24, "years": 366 * 24}


def _relativedelta(unit: str, amount: int) -> relativedelta:
    # The unit is relativedelta's own keyword (OffsetUnit: hours, days, months, years); typed Any, as a keyword
    # chosen at run time cannot be checked against relativedelta's parameters.
    keyword: dict[str, Any] = {unit: amount}
    return relativedelta(**keyword)


@dataclass(frozen=True)
class Offset:
    value: int
    unit: str  # hours, days, months, years

    def delta(self) -> relativedelta:
        # Months and years are calendar months and years (month 6 after 31 Jan is 31 Jul), as registries count them.
        return _relativedelta(self.unit, self.value)


@dataclass(frozen=True)
class StepRule:
    kind: str
    label: str
    first_due: Offset
    grace_hours: int
    severity: str
    repeat_every: Offset | None = None
    repeat_count: int | None = None  # occurrences after the first
    repeat_until: Offset | None = None  # last occurrence at or before start + this
    step_id: int | None = None
    once_per_course: bool = False  # in a protocol scheduled from each infusion, still counted from the first


@dataclass(frozen=True)
class CourseSteps:
    """A protocol's steps split by what they count from, for a course of one or more infusions."""

    from_first: list[StepRule]  # once per course, from its first infusion
    from_each: list[StepRule]  # from every infusion of the course


def course_steps(steps: Iterable[StepRule], *, schedule_from: str) -> CourseSteps:
    """`first_infusion`: one schedule per course, every step counted from the first infusion (a multi-bag dose, CD4
    and CD8 components). `each_infusion`: each infusion instantiates the steps of its own (repeated doses, e.g. an
    infusion-reaction check after every MSC infusion), but for those marked once per course (e.g. the day-28
    response, counted from the first infusion)."""
    steps = list(steps)
    if schedule_from != ScheduleFrom.EACH_INFUSION:
        return CourseSteps(from_first=steps, from_each=[])
    return CourseSteps(
        from_first=[s for s in steps if s.once_per_course], from_each=[s for s in steps if not s.once_per_course]
    )


@dataclass(frozen=True)
class Occurrence:
    kind: str
    label: str
    sequence: int
    due_at: datetime
    grace: timedelta
    severity: str
    step_id: int | None = None


def step_occurrences(step: StepRule, start: datetime) -> list[Occurrence]:
    occurrences = []
    offsets = [step.first_due.delta()]
    if step.repeat_every is not None:
        limit = start + step.repeat_until.delta() if step.repeat_until is not None else None
        count = 0
        while len(offsets) < MAX_OCCURRENCES_PER_STEP:
            if step.repeat_count is not None and count >= step.repeat_count:
                break
            # Multiply rather than add repeatedly so that calendar months do not drift (31st -> 28th -> 28th).
            candidate = step.first_due.delta() + _times(step.repeat_every, count + 1)
            if limit is not None and start + candidate > limit:
                break
            if step.repeat_count is None and limit is None:
                break
            offsets.append(candidate)
            count += 1
    for sequence, offset in enumerate(offsets, start=1):
        occurrences.append(
            Occurrence(
                kind=step.kind,
                label=step.label if len(offsets) == 1 else f"{step.label} #{sequence}",
                sequence=sequence,
                due_at=start + offset,
                grace=timedelta(hours=step.grace_hours),
                severity=step.severity,
                step_id=step.step_id,
            )
        )
    return occurrences


def protocol_occurrences(steps: Iterable[StepRule], start: datetime) -> list[Occurrence]:
    """Every check a protocol asks for after `start` (the administration), in due order."""
    result = [occurrence for step in steps for occurrence in step_occurrences(step, start)]
    return sorted(result, key=lambda o: (o.due_at, o.kind, o.sequence))


def _times(offset: Offset, n: int) -> relativedelta:
    return _relativedelta(offset.unit, offset.value * n)


def rule_errors(step: StepRule) -> dict[str, str]:
    """What is wrong with a step's numbers, by field (`first_due_value`, `repeat_count`...): {} when it is sound.

    Each offset is within its unit's bound, a repetition moves forward (every 1 or more), the grace period is a
    year at most, and the whole series ends within HORIZON_YEARS with at most MAX_OCCURRENCES_PER_STEP checks."""
    errors: dict[str, str] = {}
    offsets = {"first_due": step.first_due, "repeat_every": step.repeat_every, "repeat_until": step.repeat_until}
    for name, offset in offsets.items():
        if offset is None:
            continue
        if offset.unit not in MAX_OFFSET:
            errors[f"{name}_unit"] = f"Choose one of {', '.join(MAX_OFFSET)}."
        elif not 0 <= offset.value <= MAX_OFFSET[offset.unit]:
            errors[f"{name}_value"] = (
                f"At most {MAX_OFFSET[offset.unit]} {offset.unit} ({HORIZON_YEARS} years after the administration)."
            )
    if step.repeat_every is not None and step.repeat_every.value < 1 and "repeat_every_value" not in errors:
        errors["repeat_every_value"] = "Repeat every 1 or more."
    if not 0 <= step.grace_hours <= MAX_GRACE_HOURS:
        errors["grace_hours"] = f"At most {MAX_GRACE_HOURS} hours (a year)."
    if step.repeat_count is not None and not 0 <= step.repeat_count < MAX_OCCURRENCES_PER_STEP:
        errors["repeat_count"] = f"At most {MAX_OCCURRENCES_PER_STEP - 1} repetitions."
    if errors or step.repeat_every is None:
        return errors
    count, last_hours = _series_extent(step)
    if count > MAX_OCCURRENCES_PER_STEP:
        errors["repeat_every_value"] = (
            f"This step would schedule {count} checks; at most {MAX_OCCURRENCES_PER_STEP}: repeat less often."
        )
    elif last_hours > HORIZON_YEARS * UNIT_HOURS["years"]:
        errors["repeat_count"] = f"The last check would come more than {HORIZON_YEARS} years after the administration."
    return errors


def _series_extent(step: StepRule) -> tuple[int, int]:
    """How many checks a repeating step schedules and how far (in hours, at most) the last one comes."""
    assert step.repeat_every is not None
    first = step.first_due.value * UNIT_HOURS[step.first_due.unit]
    every = step.repeat_every.value * UNIT_HOURS[step.repeat_every.unit]
    repeats = step.repeat_count if step.repeat_count is not None else None
    if step.repeat_until is not None:
        until = step.repeat_until.value * UNIT_HOURS[step.repeat_until.unit]
        within = max(0, (until - first) // every) if until >= first else 0
        repeats = within if repeats is None else min(repeats, within)
    repeats = repeats or 0
    return 1 + repeats, first + every * repeats
