"""Patients, orders and collections added in the admin go through the services; refusals write nothing."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from products.choices import CoiStatus
from products.models import ChainOfIdentity, Collection
from products.rules.isbt128 import check_character, is_valid_coi
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import split_dt, url
from tests.journey import make_order, make_patient, make_product
from tracker.models import Patient, TherapyOrder
from tracker.services.orders import patient_create

pytestmark = pytest.mark.django_db


def collection_post(client, coi: str, din: str, facility) -> object:
    data = form_data(client.get(url(Collection, "add")), "collection_form")
    data.update(
        coi=coi,
        din=din,
        facility=str(facility.pk),
        method="apheresis",
        volume_ml="250",
        **split_dt("collected_at", timezone.now() - timedelta(hours=2)),
    )
    return client.post(url(Collection, "add"), data)


def test_adding_a_collection_records_it_through_the_service(client_for, world):
    order = make_order(world)
    number = "W123426000777"
    din = number + check_character(number)

    response = collection_post(client_for(world.coordinator), order.chain.coi, din, world.collection_site)

    assert response.status_code == 302
    collection = Collection.objects.get()
    assert collection.full_din == din
    assert collection.collected_by == world.coordinator
    order.chain.refresh_from_db()
    assert order.chain.status == CoiStatus.COLLECTED


def test_a_wrong_din_check_character_is_shown_on_the_din_field_and_nothing_is_written(client_for, world):
    order = make_order(world)
    number = "W123426000778"
    wrong = "A" if check_character(number) != "A" else "B"

    response = collection_post(client_for(world.coordinator), order.chain.coi, number + wrong, world.collection_site)

    assert response.status_code == 200
    assert "din" in response.context["adminform"].form.errors
    assert "Wrong check character" in str(response.context["adminform"].form.errors["din"])
    assert not Collection.objects.exists()
    order.chain.refresh_from_db()
    assert order.chain.status == CoiStatus.ORDERED


def test_an_unknown_coi_is_a_field_error(client_for, world):
    number = "W123426000779"
    response = collection_post(
        client_for(world.coordinator), "W999926999999X", number + check_character(number), world.collection_site
    )
    assert response.status_code == 200
    assert "coi" in response.context["adminform"].form.errors
    assert not Collection.objects.exists()


def test_a_collection_at_a_facility_the_user_does_not_belong_to_is_refused(client_for, world):
    order = make_order(world)
    number = "W123426000780"
    # The coordinator may not even pick the factory (not theirs): the choice itself is invalid.
    response = collection_post(
        client_for(world.coordinator), order.chain.coi, number + check_character(number), world.factory_site
    )
    assert response.status_code == 200
    assert "facility" in response.context["adminform"].form.errors
    assert not Collection.objects.exists()


def test_a_collection_is_read_only_once_recorded(client_for, world):
    order = make_order(world)
    number = "W123426000781"
    collection_post(client_for(world.coordinator), order.chain.coi, number + check_character(number), world.hospital)
    collection = Collection.objects.get()
    client = client_for(world.coordinator)

    page = client.get(url(Collection, "change", collection.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.post(url(Collection, "change", collection.pk), {"volume_ml": "1"}).status_code == 403
    assert client.post(url(Collection, "delete", collection.pk), {"post": "yes"}).status_code == 403
    collection.refresh_from_db()
    assert collection.volume_ml == 250


def patient_post(client, facility, mrn: str, birth_date: date) -> object:
    data = form_data(client.get(url(Patient, "add")), "patient_form")
    data.update(
        facility=str(facility.pk),
        mrn=mrn,
        given_name="Grace",
        family_name="Hopper",
        birth_date=birth_date.isoformat(),
        sex="female",
        weight_kg="61.5",
    )
    return client.post(url(Patient, "add"), data)


def test_adding_a_patient_and_an_order_generates_the_coi(client_for, world):
    product = make_product(world)
    client = client_for(world.coordinator)

    response = patient_post(client, world.hospital, "MRN-42", date(1960, 12, 9))
    assert response.status_code == 302
    patient = Patient.objects.get(mrn="MRN-42")
    assert patient.facility == world.hospital

    add_order = client.get(url(TherapyOrder, "add") + f"?patient={patient.pk}")
    data = form_data(add_order, "therapyorder_form")
    assert data["patient"] == str(patient.pk)
    data.update(product=str(product.pk))
    response = client.post(url(TherapyOrder, "add"), data, follow=True)

    order = TherapyOrder.objects.get(patient=patient)
    assert order.ordered_by == world.coordinator
    assert is_valid_coi(order.chain.coi)
    assert order.chain.coi.startswith("COI" + world.hospital.fin)
    assert "MRN-42" not in order.chain.coi
    assert any(order.chain.coi in m for m in messages_of(response))


def test_a_patient_refused_by_the_service_shows_the_error_and_writes_nothing(client_for, world):
    client = client_for(world.coordinator)
    response = patient_post(client, world.hospital, "MRN-43", timezone.now().date() + timedelta(days=3))
    assert response.status_code == 200
    assert "birth_date" in response.context["adminform"].form.errors
    assert not Patient.objects.filter(mrn="MRN-43").exists()

    # A patient is registered at a treatment facility, not at the collection centre.
    response = patient_post(client, world.collection_site, "MRN-44", date(1970, 1, 1))
    assert response.status_code == 200
    assert "facility" in response.context["adminform"].form.errors
    assert not Patient.objects.filter(mrn="MRN-44").exists()


def test_a_coordinator_sees_only_their_facilities_patients(client_for, world):
    mine = make_patient(world, mrn="MINE-1")
    theirs = patient_create(
        actor=world.other_clinician,
        facility=world.other_hospital,
        mrn="THEIRS-1",
        given_name="Other",
        family_name="Person",
        birth_date=date(1980, 5, 5),
        sex="male",
    )
    client = client_for(world.coordinator)

    listing = client.get(url(Patient, "changelist"))
    assert b"MINE-1" in listing.content
    assert b"THEIRS-1" not in listing.content
    assert client.get(url(Patient, "changelist") + "?q=THEIRS-1").context["cl"].result_count == 0

    # Their page is as good as missing: back to the admin with "doesn't exist".
    response = client.get(url(Patient, "change", theirs.pk))
    assert response.status_code == 302
    assert client.get(url(Patient, "history", theirs.pk)).status_code == 302
    assert client.get(url(Patient, "change", mine.pk)).status_code == 200

    # Nor can an order be placed for them by posting their id.
    product = make_product(world)
    data = form_data(client.get(url(TherapyOrder, "add")), "therapyorder_form")
    data.update(patient=str(theirs.pk), product=str(product.pk))
    response = client.post(url(TherapyOrder, "add"), data)
    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert not TherapyOrder.objects.exists()


def test_manufacturing_cannot_open_patient_data(client_for, world):
    patient = make_patient(world, mrn="MRN-SECRET")
    order = make_order(world, patient=make_patient(world, mrn="MRN-SECRET-2"))
    client = client_for(world.manufacturing)

    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"Patients" not in index.content and b"Therapy orders" not in index.content
    assert client.get(url(Patient, "changelist")).status_code == 403
    assert client.get(url(Patient, "change", patient.pk)).status_code == 403
    assert client.get(url(Patient, "add")).status_code == 403
    assert client.get(url(TherapyOrder, "changelist")).status_code == 403
    assert client.get(url(TherapyOrder, "change", order.pk)).status_code == 403
    # The patient side's app page lists only the product-side reminders they may see (no patient in them).
    tracker_app = client.get("/admin/tracker/")
    assert [m["object_name"] for m in tracker_app.context["app_list"][0]["models"]] == ["Reminder"]
    # The product side of the same chain is theirs to see once they make its batch; no name or MRN on it.
    assert client.get(url(ChainOfIdentity, "changelist")).status_code == 200


def test_cancelling_an_order_cancels_its_chain(client_for, world):
    order = make_order(world)
    client = client_for(world.coordinator)
    response = client.post(
        url(TherapyOrder, "changelist"),
        {"action": "cancel", "_selected_action": [str(order.pk)], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    order.chain.refresh_from_db()
    assert order.chain.status == CoiStatus.CANCELLED
    # Twice is refused by the service, shown as a message.
    response = client.post(
        url(TherapyOrder, "changelist"),
        {"action": "cancel", "_selected_action": [str(order.pk)], "index": "0"},
        follow=True,
    )
    assert any("chain_closed" in m for m in messages_of(response))


def test_an_impossible_weight_is_refused_without_a_crash(client_for, world):
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Patient, "add")), "patient_form")
    data.update(
        facility=str(world.hospital.pk),
        mrn="MRN-W",
        given_name="A",
        family_name="B",
        birth_date="1970-01-01",
        sex="male",
        weight_kg="-5",
    )
    response = client.post(url(Patient, "add"), data)
    assert response.status_code == 200
    assert "A weight is between 0.1 and 999.9 kg." in str(response.context["errors"])
    assert not Patient.objects.filter(mrn="MRN-W").exists()
