"""The admin's own add and record pages: a popup add answers its opener, the record pages stay flat in queries as
their logs grow, and what a page wrote is in the admin's log."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from products.models import Batch, Unit
from products.services.batches import batch_step_record
from tests import journey
from tests.admin.conftest import form_data
from tests.admin.helpers import split_dt, url
from tracker.models import Patient

pytestmark = pytest.mark.django_db


def test_a_patient_added_in_a_popup_answers_the_page_that_opened_it(client_for, world):
    client = client_for(world.coordinator)
    popup = client.get(url(Patient, "add"), {"_popup": "1", "_to_field": "id"})
    assert popup.status_code == 200 and popup.context["is_popup"] and popup.context["to_field"] == "id"
    data = form_data(popup, "patient_form")
    assert data["_popup"] == "1" and data["_to_field"] == "id"
    data.update(
        facility=str(world.hospital.pk),
        mrn="MRN-POPUP",
        given_name="Ada",
        family_name="Byron",
        birth_date="1980-12-10",
        sex="female",
    )

    response = client.post(url(Patient, "add"), data)

    patient = Patient.objects.get(mrn="MRN-POPUP")
    assert response.status_code == 200 and response.templates[0].name == "admin/popup_response.html"
    assert f'"value": "{patient.pk}"' in response.context["popup_response_data"]


def test_a_popup_may_not_answer_with_a_field_it_may_not_reference(client_for, world):
    response = client_for(world.coordinator).get(url(Patient, "add"), {"_popup": "1", "_to_field": "mrn"})
    assert response.status_code == 400


def batch_page_queries(client, batch: Batch, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(60) as captured:
        assert client.get(url(Batch, "change", batch.pk)).status_code == 200
    return len(captured)


def test_the_batch_page_takes_as_many_queries_with_a_long_log(client_for, world, django_assert_max_num_queries):
    batch = journey.started_batch(world)
    client = client_for(world.manufacturing)
    batch_step_record(actor=world.manufacturing, batch_id=batch.id, kind="selection", started_at=batch.started_at)
    journey.record_qc(world, batch, {"viability": 90})
    journey.make_unit(world, batch, unit_id="BAG-1")
    short = batch_page_queries(client, batch, django_assert_max_num_queries)

    for kind in ("activation", "transduction", "expansion", "harvest"):
        batch_step_record(actor=world.manufacturing, batch_id=batch.id, kind=kind, started_at=batch.started_at)
    journey.record_qc(world, batch)
    journey.record_qc(world, batch, {"viability": 91, "sterility": "negative"})
    for n in range(2, 6):
        journey.make_unit(world, batch, unit_id=f"BAG-{n}")

    assert batch_page_queries(client, batch, django_assert_max_num_queries) <= short


def test_the_unit_page_takes_as_many_queries_with_a_long_custody_log(
    client_for, world, factory_coordinator, django_assert_max_num_queries
):
    short_log = journey.released_unit(world, unit_id="BAG-SHORT")
    second = journey.make_order(
        world, patient=journey.make_patient(world, mrn="MRN-LONG"), product=short_log.batch.product
    )
    long_log = journey.released_unit(world, order=second, unit_id="BAG-LONG")
    client = client_for(factory_coordinator)
    journey.ship(world, short_log)
    journey.deliver(world, long_log)  # shipped, received, stored and thawed
    with django_assert_max_num_queries(60) as short:
        assert client.get(url(Unit, "change", short_log.pk)).status_code == 200

    with django_assert_max_num_queries(len(short)):
        assert client.get(url(Unit, "change", long_log.pk)).status_code == 200


def test_the_rows_a_batch_page_wrote_are_in_the_admin_log(client_for, world):
    batch = journey.started_batch(world)
    client = client_for(world.manufacturing)
    data = form_data(client.get(url(Batch, "change", batch.pk)), "batch_form")
    data.update(
        {"steps-2-0-kind": "selection", **split_dt("steps-2-0-started_at", timezone.now() - timedelta(hours=2))}
    )

    assert client.post(url(Batch, "change", batch.pk), data).status_code == 302

    entry = LogEntry.objects.get(object_id=str(batch.pk))
    assert entry.user == world.manufacturing and "Added processing step" in entry.get_change_message()
