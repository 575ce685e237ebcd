"""The two protocols `migrate` creates, expanded into the schedule a patient gets."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from products.models import MonitoringProtocol
from products.rules.schedules import protocol_occurrences
from products.selectors import protocol_step_rules

pytestmark = pytest.mark.django_db
INFUSION = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def schedule(code: str):
    return protocol_occurrences(protocol_step_rules(MonitoringProtocol.objects.get(code=code).id), INFUSION)


def offsets(occurrences, kind):
    return [o.due_at - INFUSION for o in occurrences if o.kind == kind]


def test_car_t_standard_toxicity_checks_every_24_hours_through_day_14():
    assert offsets(schedule("car_t_standard"), "toxicity_check") == [timedelta(days=d) for d in range(1, 15)]


def test_car_t_standard_labs_on_days_1_3_7_14_28():
    assert offsets(schedule("car_t_standard"), "labs") == [timedelta(days=d) for d in (1, 3, 7, 14, 28)]


def test_car_t_standard_follow_up_through_year_15():
    due = [o.due_at for o in schedule("car_t_standard") if o.kind == "follow_up_visit"]
    expected = [INFUSION + timedelta(days=28), INFUSION + timedelta(days=100)]
    expected += [INFUSION + relativedelta(months=m) for m in (6, 12)]
    expected += [INFUSION + relativedelta(years=y) for y in range(2, 16)]
    assert due == expected


def test_car_t_standard_rcv_tests_and_malignancy_screens():
    occurrences = schedule("car_t_standard")
    rcv = [o.due_at for o in occurrences if o.kind == "rcv_test"]
    assert rcv == [INFUSION + relativedelta(months=m) for m in (3, 6, 12)] + [
        INFUSION + relativedelta(years=y) for y in range(2, 16)
    ]
    screens = [o.due_at for o in occurrences if o.kind == "malignancy_screen"]
    assert screens == [INFUSION + relativedelta(years=y) for y in range(1, 16)]


def test_msc_standard():
    occurrences = schedule("msc_standard")
    assert offsets(occurrences, "infusion_reaction_check") == [timedelta(hours=1), timedelta(hours=24)]
    assert offsets(occurrences, "infection_check") == [timedelta(days=d) for d in range(1, 8)]
    assert offsets(occurrences, "toxicity_check") == [timedelta(days=d) for d in range(1, 8)]
    visits = [o.due_at for o in occurrences if o.kind == "follow_up_visit"]
    assert visits == [INFUSION + timedelta(days=28), INFUSION + timedelta(days=100)] + [
        INFUSION + relativedelta(months=m) for m in (6, 12, 24)
    ]


def test_schedule_sizes():
    assert Counter(o.kind for o in schedule("car_t_standard")) == {
        "toxicity_check": 14,
        "labs": 5,
        "follow_up_visit": 18,
        "rcv_test": 17,
        "malignancy_screen": 15,
    }
