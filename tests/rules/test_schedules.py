from datetime import UTC, datetime, timedelta

import pytest

from products.rules.schedules import Offset, StepRule, protocol_occurrences, step_occurrences

START = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def rule(**kwargs: object) -> StepRule:
    defaults: dict = {
        "kind": "labs",
        "label": "Labs",
        "first_due": Offset(1, "days"),
        "grace_hours": 24,
        "severity": "routine",
    }
    defaults.update(kwargs)
    return StepRule(**defaults)


def test_single_step_is_due_once_at_its_offset():
    [occurrence] = step_occurrences(rule(first_due=Offset(3, "days")), START)
    assert occurrence.due_at == START + timedelta(days=3)
    assert occurrence.grace == timedelta(hours=24)
    assert occurrence.label == "Labs"


def test_daily_through_day_14_gives_fourteen_checks():
    occurrences = step_occurrences(
        rule(kind="toxicity_check", repeat_every=Offset(1, "days"), repeat_until=Offset(14, "days")), START
    )
    assert [o.due_at - START for o in occurrences] == [timedelta(days=d) for d in range(1, 15)]
    assert [o.sequence for o in occurrences] == list(range(1, 15))
    assert occurrences[0].label == "Labs #1"


def test_repeat_count_limits_the_repetitions():
    occurrences = step_occurrences(rule(repeat_every=Offset(4, "hours"), repeat_count=3), START)
    assert [o.due_at - START for o in occurrences] == [timedelta(hours=h) for h in (24, 28, 32, 36)]


def test_calendar_months_do_not_drift_from_the_31st():
    occurrences = step_occurrences(
        rule(first_due=Offset(1, "months"), repeat_every=Offset(1, "months"), repeat_count=2), START
    )
    assert [o.due_at.date().isoformat() for o in occurrences] == ["2026-02-28", "2026-03-31", "2026-04-30"]


def test_yearly_from_year_two_through_year_fifteen_is_fourteen_visits():
    occurrences = step_occurrences(
        rule(first_due=Offset(2, "years"), repeat_every=Offset(1, "years"), repeat_until=Offset(15, "years")), START
    )
    assert len(occurrences) == 14
    assert occurrences[-1].due_at == datetime(2041, 1, 31, 10, 0, tzinfo=UTC)


def test_protocol_occurrences_are_in_due_order():
    result = protocol_occurrences(
        [rule(kind="b", first_due=Offset(2, "days")), rule(kind="a", first_due=Offset(1, "hours"))], START
    )
    assert [o.kind for o in result] == ["a", "b"]


@pytest.mark.parametrize("unit", ["hours", "days", "months", "years"])
def test_every_unit_is_understood(unit):
    [occurrence] = step_occurrences(rule(first_due=Offset(1, unit)), START)
    assert occurrence.due_at > START
