"""Protocol step bounds (products.rules.schedules) where steps are written: the model's validation (the admin's
inline form) and the database's constraints (whatever writes). The admin page: tests/admin/."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from products.models import MonitoringProtocol, ProtocolStep

pytestmark = pytest.mark.django_db


def step(**fields: object) -> ProtocolStep:
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    defaults: dict = {
        "protocol": protocol,
        "kind": "labs",
        "label": "Labs",
        "first_due_value": 1,
        "first_due_unit": "days",
    }
    return ProtocolStep(**(defaults | fields))


def test_the_model_refuses_a_step_past_the_horizon_on_its_field():
    with pytest.raises(ValidationError) as refused:
        step(first_due_value=40, first_due_unit="years").full_clean()

    assert "first_due_value" in refused.value.message_dict


def test_the_model_refuses_a_step_that_would_schedule_too_many_checks():
    with pytest.raises(ValidationError) as refused:
        step(
            repeat_every_value=1, repeat_every_unit="hours", repeat_until_value=15, repeat_until_unit="years"
        ).full_clean()

    assert "1000" in refused.value.message_dict["repeat_every_value"][0]


@pytest.mark.parametrize(
    "fields",
    [
        {"first_due_value": 31, "first_due_unit": "years"},
        {"first_due_value": 2_000_000, "first_due_unit": "hours"},
        {"repeat_every_value": 0, "repeat_every_unit": "days", "repeat_count": 3},
        {"repeat_every_value": 1, "repeat_every_unit": "days", "repeat_count": 5000},
        {
            "repeat_every_value": 1,
            "repeat_every_unit": "days",
            "repeat_until_value": 400,
            "repeat_until_unit": "months",
        },
        {"grace_hours": 100_000},
    ],
)
def test_the_database_refuses_an_out_of_bounds_step_whatever_writes_it(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        step(**fields).save()


def test_the_standard_protocols_are_within_the_bounds():
    for existing in ProtocolStep.objects.all():
        existing.full_clean()
