"""Monitoring schedule arithmetic: a protocol's steps turned into due times. Pure, no database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

# A safety net against a mis-typed rule (e.g. every hour for 15 years).
MAX_OCCURRENCES_PER_STEP = 1000


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
