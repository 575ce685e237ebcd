"""Access is decided once: the admin lists exactly what the API lists to the same user (both ask the selectors),
whatever the user's role and facilities."""

import pytest

from products.choices import Role
from products.models import Unit
from tests import journey
from tests.admin.clinic import grade_2, quarantine_reminder
from tests.admin.helpers import url
from tests.factories import UserFactory
from tracker.models import Patient, Reminder

pytestmark = pytest.mark.django_db

USERS = ["coordinator", "clinician", "qa", "manufacturing", "other_clinician", "qa_at_the_ward", "factory_coordinator"]
# The reminders each sees (by kind), where the rule is settled: their facilities', and no patient's for
# manufacturing. (QA at a ward is left to the rule, whatever it says: the admin must only agree with the API.)
SEES = {
    "coordinator": {"toxicity_grade"},
    "clinician": {"toxicity_grade"},
    "qa": {"batch_quarantine"},
    "manufacturing": {"batch_quarantine"},
    "other_clinician": set(),
    "factory_coordinator": {"toxicity_grade", "batch_quarantine"},
}


@pytest.fixture
def user_of(world, factory_coordinator):
    qa_at_the_ward = UserFactory(username="qa-ward", roles=[Role.QA], facilities=[world.hospital, world.factory_site])

    def user(name: str):
        found = {"qa_at_the_ward": qa_at_the_ward, "factory_coordinator": factory_coordinator}.get(name)
        found = found or getattr(world, name)
        found.is_staff = True  # a nurse or doctor given the admin too: the same records as in the API
        found.save()
        return found

    return user


def admin_listed(client, model, query: str = "") -> set | None:
    """What the admin's list shows; None where the user's permissions keep the list closed to them."""
    response = client.get(f"{url(model, 'changelist')}?{query}")
    if response.status_code == 403:
        return None
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def api_listed(client, path: str, key: str = "id") -> set:
    response = client.get(path)
    if response.status_code == 403:
        return set()
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None  # one page holds them all
    return {row[key] for row in body["results"]}


@pytest.mark.parametrize("who", USERS)
def test_the_admin_lists_the_reminders_the_api_lists(client_for, world, user_of, settings, who):
    grade_2(world, journey.make_patient(world))  # about a patient of the hospital
    quarantine_reminder(world, settings)  # product-side, at the factory
    client = client_for(user_of(who))

    in_admin = admin_listed(client, Reminder, "status=all")

    assert in_admin is not None and in_admin == api_listed(client, "/api/v1/reminders/")
    if who in SEES:
        assert set(Reminder.objects.filter(id__in=in_admin).values_list("kind", flat=True)) == SEES[who]


@pytest.mark.parametrize("who", USERS)
def test_the_admin_lists_the_patients_and_units_the_api_lists(client_for, world, user_of, who):
    journey.deliver(world, journey.released_unit(world))  # a bag made at the factory, now at the hospital
    journey.make_patient(world, mrn="MRN-ONE-RULE")
    client = client_for(user_of(who))

    # Where the user's permissions open the admin's list at all (the patient list is closed to QA and
    # manufacturing), it holds what the API gives the same user.
    patients = admin_listed(client, Patient)
    assert patients is None or patients == api_listed(client, "/api/v1/patients/")
    units = admin_listed(client, Unit)
    assert units is not None
    assert set(Unit.objects.filter(pk__in=units).values_list("unit_id", flat=True)) == api_listed(
        client, "/api/v1/units/", key="unit_id"
    )
