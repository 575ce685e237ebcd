"""Protocol steps have bounds: a mis-typed rule (a year typed in hours, every hour for 15 years) is refused where
it is typed, never a schedule of a million rows or a date past year 9999."""

import pytest

from products.rules.schedules import (
    HORIZON_YEARS,
    MAX_GRACE_HOURS,
    MAX_OCCURRENCES_PER_STEP,
    MAX_OFFSET,
    Offset,
    StepRule,
    rule_errors,
)


def rule(**kwargs: object) -> StepRule:
    defaults: dict = {
        "kind": "labs",
        "label": "Labs",
        "first_due": Offset(1, "days"),
        "grace_hours": 24,
        "severity": "routine",
    }
    return StepRule(**(defaults | kwargs))


# The standard protocols' longest rules are sound.
SOUND = [
    rule(),
    rule(
        first_due=Offset(2, "years"),
        repeat_every=Offset(1, "years"),
        repeat_until=Offset(15, "years"),
        grace_hours=1440,
    ),
    rule(repeat_every=Offset(1, "days"), repeat_until=Offset(14, "days")),
    rule(first_due=Offset(0, "hours"), repeat_every=Offset(4, "hours"), repeat_count=12),
    rule(first_due=Offset(MAX_OFFSET["hours"], "hours")),
    rule(first_due=Offset(HORIZON_YEARS, "years"), grace_hours=MAX_GRACE_HOURS),
    rule(repeat_every=Offset(1, "days"), repeat_count=MAX_OCCURRENCES_PER_STEP - 1),
]


@pytest.mark.parametrize("step", SOUND)
def test_sound_rules_have_no_errors(step):
    assert rule_errors(step) == {}


@pytest.mark.parametrize(
    ("step", "field"),
    [
        (rule(first_due=Offset(HORIZON_YEARS + 1, "years")), "first_due_value"),
        (rule(first_due=Offset(MAX_OFFSET["hours"] + 1, "hours")), "first_due_value"),
        (rule(first_due=Offset(MAX_OFFSET["days"] + 1, "days")), "first_due_value"),
        (rule(first_due=Offset(MAX_OFFSET["months"] + 1, "months")), "first_due_value"),
        (rule(first_due=Offset(2**31 - 1, "years")), "first_due_value"),  # would overflow any date
        (rule(first_due=Offset(-1, "days")), "first_due_value"),
        (rule(first_due=Offset(1, "fortnights")), "first_due_unit"),
        (rule(repeat_every=Offset(0, "days"), repeat_count=3), "repeat_every_value"),  # a thousand checks at once
        (rule(repeat_every=Offset(1, "hours"), repeat_until=Offset(15, "years")), "repeat_every_value"),
        (rule(repeat_every=Offset(1, "days"), repeat_count=MAX_OCCURRENCES_PER_STEP), "repeat_count"),
        (rule(repeat_every=Offset(1, "years"), repeat_count=HORIZON_YEARS + 1), "repeat_count"),  # past 30 years
        (rule(repeat_every=Offset(1, "days"), repeat_until=Offset(HORIZON_YEARS + 1, "years")), "repeat_until_value"),
        (rule(grace_hours=MAX_GRACE_HOURS + 1), "grace_hours"),
        (rule(grace_hours=-1), "grace_hours"),
    ],
)
def test_a_mistyped_rule_is_refused_on_its_field(step, field):
    errors = rule_errors(step)

    assert field in errors
    assert errors[field]


def test_the_limits_are_the_horizon_in_every_unit():
    assert MAX_OFFSET == {"hours": 30 * 366 * 24, "days": 30 * 366, "months": 360, "years": 30}
