"""A coordinator logs a whole batch from the batch page: steps, QC results and units, each through its service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.choices import BatchStatus, UnitStatus
from products.models import Batch, ProcessingStep, QCResult, Unit
from tests.admin.conftest import form_data, page_errors
from tests.admin.helpers import split_dt, url
from tests.journey import PASSING_QC, collect, make_order, make_unit, record_qc, release, started_batch

pytestmark = pytest.mark.django_db


def batch_page_data(client, batch: Batch) -> dict:
    return form_data(client.get(url(Batch, "change", batch.pk)), "batch_form")


def qc_rows(data: dict) -> dict[str, str]:
    """test code -> the prefix of the blank QC row the page prepared for it."""
    return {
        value: key.removesuffix("-test")
        for key, value in data.items()
        if key.startswith("qc_results-2-") and key.endswith("-test") and value
    }


def test_a_batch_is_started_in_the_admin_through_the_service(client_for, world, factory_coordinator):
    order = make_order(world)
    collect(world, order)
    client = client_for(factory_coordinator)
    data = form_data(client.get(url(Batch, "add")), "batch_form")
    data.update(
        coi=order.chain.coi.lower(),  # scanners send lower case sometimes
        lot_number="LOT-ADMIN-1",
        facility=str(world.factory_site.pk),
        **split_dt("started_at", timezone.now() - timedelta(days=1)),
    )
    response = client.post(url(Batch, "add"), data)

    batch = Batch.objects.get(lot_number="LOT-ADMIN-1")
    assert response.status_code == 302
    assert response["Location"] == url(Batch, "change", batch.pk)
    assert batch.chain == order.chain and batch.status == BatchStatus.IN_PROCESS


def test_a_second_batch_for_an_autologous_chain_is_refused_with_the_reason(client_for, world, factory_coordinator):
    batch = started_batch(world)
    client = client_for(factory_coordinator)
    data = form_data(client.get(url(Batch, "add")), "batch_form")
    data.update(
        coi=batch.chain.coi,
        lot_number="LOT-ADMIN-2",
        facility=str(world.factory_site.pk),
        **split_dt("started_at", timezone.now() - timedelta(days=1)),
    )
    response = client.post(url(Batch, "add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "already has a batch" in str(errors) and "illegal_transition" in str(errors)
    assert not Batch.objects.filter(lot_number="LOT-ADMIN-2").exists()


def test_logging_a_whole_batch_from_the_batch_page(client_for, world):
    batch = started_batch(world)
    client = client_for(world.manufacturing)
    data = batch_page_data(client, batch)
    started = timezone.now() - timedelta(days=2)
    data.update(
        {
            "steps-2-0-kind": "selection",
            "steps-2-0-note": "CD4/CD8 selection",
            "steps-2-0-parameters": '{"yield_pct": 61}',
            **split_dt("steps-2-0-started_at", started),
            **split_dt("steps-2-0-ended_at", started + timedelta(hours=3)),
            "units-2-0-unit_id": "BAG-A1",
            "units-2-0-dose_cells": "120000000",
            "units-2-0-volume_ml": "68",
            **split_dt("units-2-0-expires_at", timezone.now() + timedelta(days=100)),
        }
    )
    rows = qc_rows(data)
    assert sorted(rows) == sorted(PASSING_QC)  # one blank row ready per test of the specification
    for test, value in PASSING_QC.items():
        data[f"{rows[test]}-value"] = str(value)
        data.update(split_dt(f"{rows[test]}-tested_at", timezone.now() - timedelta(hours=5)))

    response = client.post(url(Batch, "change", batch.pk), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    step = ProcessingStep.objects.get(batch=batch)
    assert step.operator == world.manufacturing and step.parameters == {"yield_pct": 61}
    results = QCResult.objects.filter(batch=batch)
    assert results.count() == 4 and all(r.passed for r in results)
    assert {r.recorded_by for r in results} == {world.manufacturing}
    unit = Unit.objects.get(unit_id="BAG-A1")
    assert unit.batch == batch and unit.chain == batch.chain and unit.status == UnitStatus.MANUFACTURED
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE  # set by qc_result_record, not by the form

    page = client.get(url(Batch, "change", batch.pk))
    assert "Every test of the release specification passed" in page.content.decode()


def test_a_refused_row_writes_nothing_of_the_whole_page(client_for, world):
    batch = started_batch(world)
    client = client_for(world.manufacturing)
    data = batch_page_data(client, batch)
    rows = qc_rows(data)
    data.update(
        {
            "steps-2-0-kind": "activation",
            **split_dt("steps-2-0-started_at", timezone.now() - timedelta(days=1)),
            f"{rows['viability']}-value": "88",
            f"{rows['sterility']}-value": "negative",
            # A number where the specification wants one: the service refuses this row.
            f"{rows['endotoxin']}-value": "lots",
            **split_dt(f"{rows['viability']}-tested_at", timezone.now() - timedelta(hours=1)),
            **split_dt(f"{rows['sterility']}-tested_at", timezone.now() - timedelta(hours=1)),
            **split_dt(f"{rows['endotoxin']}-tested_at", timezone.now() - timedelta(hours=1)),
        }
    )
    response = client.post(url(Batch, "change", batch.pk), data)

    assert response.status_code == 200
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "qc_results-2")
    row = int(rows["endotoxin"].rsplit("-", 1)[1])
    assert "needs a number" in str(formset.formset.forms[row].errors)
    assert "Nothing was saved" in page_errors(response) and "needs a number" in page_errors(response)
    assert not ProcessingStep.objects.filter(batch=batch).exists()
    assert not QCResult.objects.filter(batch=batch).exists()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IN_PROCESS


def test_a_failed_qc_result_shows_as_failed_with_the_verdict(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch, {**PASSING_QC, "sterility": "positive"})
    page = client_for(world.manufacturing).get(url(Batch, "change", batch.pk))
    content = page.content.decode()
    assert "Failed: sterility" in content
    assert 'alt="False"' in content  # the failed result's icon in the QC log
    assert "<p>0.5</p>" in content  # values as typed, not 0.500000


def test_status_and_recorded_values_cannot_be_changed_by_posting_them(client_for, world, factory_coordinator):
    batch = started_batch(world)
    record_qc(world, batch, {**PASSING_QC, "viability": 10})
    unit = make_unit(world, batch)
    client = client_for(factory_coordinator)
    data = batch_page_data(client, batch)
    assert "status" not in data
    data.update(status="released", lot_number="HACKED", **{"qc_results-0-passed": "on"})
    client.post(url(Batch, "change", batch.pk), data)

    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE and batch.lot_number.startswith("LOT-")
    assert QCResult.objects.get(batch=batch, spec__test="viability").passed is False

    unit_data = form_data(client.get(url(Unit, "change", unit.pk)), "unit_form")
    unit_data.update(status="thawed", temperature_excursion="", custody_seq="9", dose_cells="1")
    client.post(url(Unit, "change", unit.pk), unit_data)
    unit.refresh_from_db()
    assert unit.status == UnitStatus.MANUFACTURED and unit.custody_seq == 0 and unit.dose_cells == 100_000_000


def test_a_released_batch_offers_only_qc_rows_to_add(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    release(world, batch)
    page = client_for(world.manufacturing).get(url(Batch, "change", batch.pk))
    prefixes = {f.formset.prefix for f in page.context["inline_admin_formsets"]}
    # QC results may still come after release (a late or repeated test); steps and units are closed.
    assert prefixes == {"steps", "qc_results", "qc_results-2", "units", "holds"}
    assert b"Release (e-signature)" not in page.content


def test_a_rejected_batch_offers_no_rows_to_add(client_for, world):
    from products.services.batches import batch_reject

    batch = started_batch(world)
    record_qc(world, batch)
    batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Spill")
    page = client_for(world.manufacturing).get(url(Batch, "change", batch.pk))
    prefixes = {f.formset.prefix for f in page.context["inline_admin_formsets"]}
    assert prefixes == {"steps", "qc_results", "units", "holds"}
    assert b"Hold the batch" not in page.content and b"Invalidate (e-signature)" not in page.content


def test_qc_results_and_steps_cannot_be_edited_or_deleted_on_their_own_pages(client_for, world, factory_coordinator):
    batch = started_batch(world)
    record_qc(world, batch)
    result = QCResult.objects.filter(batch=batch).first()
    client = client_for(factory_coordinator)
    assert client.get(url(QCResult, "change", result.pk)).context["has_change_permission"] is False
    assert client.post(url(QCResult, "change", result.pk), {"passed": ""}).status_code == 403
    assert client.post(url(QCResult, "delete", result.pk), {"post": "yes"}).status_code == 403
    assert QCResult.objects.filter(pk=result.pk).exists()


def test_a_qc_result_added_on_its_own_page_is_judged_by_the_service(client_for, world):
    batch = started_batch(world)
    client = client_for(world.qa)
    data = form_data(client.get(url(QCResult, "add") + f"?batch={batch.pk}"), "qcresult_form")
    assert data["batch"] == str(batch.pk)
    data.update(test="viability", value="55", unit="%", **split_dt("tested_at", timezone.now()))
    assert client.post(url(QCResult, "add"), data).status_code == 302
    assert QCResult.objects.get(batch=batch).passed is False

    data.update(test="potency", value="1")
    response = client.post(url(QCResult, "add"), data)
    assert response.status_code == 200
    assert "Not in the release specification" in str(response.context["adminform"].form.errors["test"])
    assert QCResult.objects.filter(batch=batch).count() == 1


def test_a_value_the_database_would_refuse_is_a_form_error_not_a_crash(client_for, world):
    batch = started_batch(world)
    client = client_for(world.manufacturing)
    data = batch_page_data(client, batch)
    data.update(
        {
            "units-2-0-unit_id": "BAG-ZERO",
            "units-2-0-dose_cells": "0",
            "units-2-0-volume_ml": "68",
            **split_dt("units-2-0-expires_at", timezone.now() + timedelta(days=100)),
        }
    )
    response = client.post(url(Batch, "change", batch.pk), data)
    assert response.status_code == 200
    assert "unit_dose_positive" in page_errors(response)
    assert not Unit.objects.filter(unit_id="BAG-ZERO").exists()
