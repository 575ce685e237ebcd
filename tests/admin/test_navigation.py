"""Getting around: from an order to its chain, collection and batch; pickers show only what one may see."""

from datetime import date

import pytest
from django.urls import reverse

from products.models import Batch, ChainOfIdentity, Collection
from tests.admin.conftest import form_data
from tests.admin.helpers import url
from tests.journey import make_order, make_patient
from tracker.models import Patient, TherapyOrder
from tracker.services.orders import patient_create

pytestmark = pytest.mark.django_db


def test_the_chain_page_leads_to_recording_a_collection_and_starting_a_batch(client_for, world, factory_coordinator):
    order = make_order(world)
    client = client_for(factory_coordinator)
    page = client.get(url(ChainOfIdentity, "change", order.chain.pk))
    collect_url = f"{url(Collection, 'add')}?coi={order.chain.coi}"
    batch_url = f"{url(Batch, 'add')}?coi={order.chain.coi}"
    assert collect_url.encode() in page.content and batch_url.encode() in page.content

    assert form_data(client.get(collect_url), "collection_form")["coi"] == order.chain.coi
    assert form_data(client.get(batch_url), "batch_form")["coi"] == order.chain.coi


def test_the_patient_page_leads_to_ordering_a_therapy(client_for, world):
    patient = make_patient(world)
    page = client_for(world.coordinator).get(url(Patient, "change", patient.pk))
    assert f"{url(TherapyOrder, 'add')}?patient={patient.pk}".encode() in page.content


def test_the_patient_picker_offers_only_the_users_patients(client_for, world):
    make_patient(world, mrn="NEAR-1")
    patient_create(
        actor=world.other_clinician,
        facility=world.other_hospital,
        mrn="FAR-1",
        given_name="Far",
        family_name="Away",
        birth_date=date(1970, 1, 1),
        sex="unknown",
    )
    client = client_for(world.coordinator)
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "tracker", "model_name": "therapyorder", "field_name": "patient", "term": ""},
    ).json()["results"]
    mrns = {Patient.objects.get(pk=row["id"]).mrn for row in found}
    assert mrns == {"NEAR-1"}


def test_superusers_can_open_pghistorys_events_admin_from_the_audit_trail(client_for, superuser, world):
    order = make_order(world)
    history = client_for(superuser).get(url(Patient, "history", order.patient.pk))
    events_url = history.context["events_admin_url"]
    assert events_url.startswith(reverse("admin:pghistory_events_changelist"))
    assert client_for(superuser).get(events_url).status_code == 200
    # Not for anyone else: that admin is not scoped by facility.
    assert (
        client_for(world.coordinator).get(url(Patient, "history", order.patient.pk)).context["events_admin_url"] is None
    )
