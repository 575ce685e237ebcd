"""Free text written about a patient (why an administration was voided or its time corrected) is PHI: the
patient side's history shows it, the product side's never does, although the same request changed both."""

from datetime import timedelta

import pytest

from products.models import ChainOfIdentity, Unit
from tests import journey
from tests.admin.helpers import split_dt, url
from tracker.models import Administration

pytestmark = pytest.mark.django_db

VOID_REASON = "Given to Mrs Noether in bed 4 by mistake (MRN-4711)"
TIME_REASON = "Nurse Ada typed the time of the infusion of Mr Turing wrong"


@pytest.fixture
def voided(world, client_for):
    """Corrected, then voided, in the admin by a coordinator of the hospital (the reasons travel in the
    request's audit context, with the product-side rows the same requests change)."""
    order, administration = journey.infused_patient(world, days_ago=1)
    client = client_for(world.coordinator)
    corrected = client.post(
        url(Administration, "correct_time", administration.pk),
        {**split_dt("administered_at", administration.administered_at + timedelta(minutes=5)), "reason": TIME_REASON},
    )
    voided = client.post(url(Administration, "void", administration.pk), {"reason": VOID_REASON})
    assert (corrected.status_code, voided.status_code) == (302, 302)
    assert Administration.objects.get(id=administration.id).voided_at is not None
    return order, administration


def history(client, obj) -> str:
    response = client.get(url(obj, "history", obj.pk))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["superuser", "factory_coordinator"])
def test_product_side_history_never_shows_a_patients_reason(client_for, voided, request, who):
    order, administration = voided
    client = client_for(request.getfixturevalue(who))
    unit = Unit.objects.get(id=administration.unit_id)
    chain = ChainOfIdentity.objects.get(id=order.chain_id)

    for page in (history(client, unit), history(client, chain)):
        assert "administered" in page  # the change itself is on record (the unit came back from "administered")
        assert VOID_REASON not in page and TIME_REASON not in page
        assert "Noether" not in page and "MRN-4711" not in page


def test_the_patient_sides_history_shows_the_reasons(client_for, voided, superuser):
    _order, administration = voided
    page = history(client_for(superuser), Administration.objects.get(id=administration.id))
    assert VOID_REASON in page and TIME_REASON in page


def test_product_side_users_cannot_open_the_raw_events_admin(client_for, world):
    # pghistory's own Events admin shows every context value: superusers only.
    for user in (world.coordinator, world.qa, world.manufacturing):
        response = client_for(user).get("/admin/pghistory/events/")
        assert response.status_code in (302, 403, 404)
