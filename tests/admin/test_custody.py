"""The unit page: its custody log (read-only) and new custody events through custody_record."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.choices import UnitStatus
from products.models import CustodyRecord, Unit
from tests.admin.conftest import form_data, page_errors
from tests.admin.helpers import split_dt, url
from tests.holds import decide
from tests.journey import deliver, make_unit, released_unit, ship, started_batch

pytestmark = pytest.mark.django_db


def add_custody_on_unit_page(client, unit: Unit, **row: object):
    data = form_data(client.get(url(Unit, "change", unit.pk)), "unit_form")
    at = row.pop("at")
    data.update({f"custody-2-0-{k}": str(v) for k, v in row.items()})
    data.update(split_dt("custody-2-0-at", at))
    return client.post(url(Unit, "change", unit.pk), data)


def test_shipping_a_released_unit_from_the_unit_page(client_for, world, factory_coordinator):
    unit = released_unit(world)
    response = add_custody_on_unit_page(
        client_for(factory_coordinator),
        unit,
        event="shipped",
        at=timezone.now() - timedelta(hours=1),
        facility=world.hospital.pk,
        temperature_c="-150",
        note="Courier 123",
    )

    assert response.status_code == 302
    record = CustodyRecord.objects.get(unit=unit)
    assert (record.seq, record.event, record.recorded_by) == (1, "shipped", factory_coordinator)
    assert record.from_facility == world.factory_site and record.facility == world.hospital
    unit.refresh_from_db()
    assert unit.status == UnitStatus.SHIPPED and unit.destination == world.hospital


def test_an_illegal_custody_event_shows_the_reason_and_writes_nothing(client_for, world):
    unit = released_unit(world)
    # Received at the hospital before anyone shipped it: the service says no.
    response = add_custody_on_unit_page(
        client_for(world.coordinator), unit, event="received", at=timezone.now(), facility=world.hospital.pk
    )

    assert response.status_code == 200
    assert "illegal_transition" in page_errors(response)
    assert not CustodyRecord.objects.filter(unit=unit).exists()
    unit.refresh_from_db()
    assert unit.status == UnitStatus.MANUFACTURED and unit.custody_seq == 0


def test_an_unreleased_unit_cannot_be_shipped_from_the_admin(client_for, world, factory_coordinator):
    unit = make_unit(world, started_batch(world))
    response = add_custody_on_unit_page(
        client_for(factory_coordinator), unit, event="shipped", at=timezone.now(), facility=world.hospital.pk
    )
    assert response.status_code == 200
    assert "unit_not_released" in page_errors(response)
    assert not CustodyRecord.objects.exists()


def test_the_unit_page_shows_status_use_by_and_excursion(client_for, world):
    unit = released_unit(world)
    ship(world, unit, temperature_c=Decimal("-80"))  # warmer than -120 C: an excursion
    client = client_for(world.coordinator)
    add_custody_on_unit_page(
        client, unit, event="received", at=timezone.now() - timedelta(hours=2), facility=world.hospital.pk
    )
    decide(world, unit.holds.get())  # QA assessed the excursion and released the bag for use
    response = add_custody_on_unit_page(
        client, unit, event="thawed", at=timezone.now() - timedelta(minutes=5), facility=world.hospital.pk
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == UnitStatus.THAWED and unit.use_by is not None and unit.temperature_excursion

    page = client.get(url(Unit, "change", unit.pk))
    content = page.content.decode()
    assert "TEMPERATURE EXCURSION" in content
    assert "use by" in content and "minutes left" in content
    log = next(f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "custody")
    assert [form.original.event for form in log] == ["shipped", "received", "thawed"]


def test_custody_records_are_append_only_in_the_admin(client_for, world, superuser):
    unit = deliver(world, released_unit(world))
    record = CustodyRecord.objects.filter(unit=unit).first()
    client = client_for(superuser)

    assert client.get(url(CustodyRecord, "change", record.pk)).context["has_change_permission"] is False
    assert client.post(url(CustodyRecord, "change", record.pk), {"event": "discarded"}).status_code == 403
    assert client.post(url(CustodyRecord, "delete", record.pk), {"post": "yes"}).status_code == 403
    log = next(
        f
        for f in client.get(url(Unit, "change", unit.pk)).context["inline_admin_formsets"]
        if f.formset.prefix == "custody"
    )
    assert not log.has_change_permission and not log.has_delete_permission and not log.has_add_permission
    record.refresh_from_db()
    assert record.event == "shipped"


def test_a_nurse_records_a_custody_event_on_its_own_page(client_for, world):
    unit = ship(world, released_unit(world))
    nurse = world.clinician
    nurse.is_staff = True
    nurse.save()
    client = client_for(nurse)

    page = client.get(url(CustodyRecord, "add") + f"?unit={unit.unit_id}")
    data = form_data(page, "custodyrecord_form")
    assert data["unit_ref"] == unit.unit_id
    data.update(
        event="received",
        facility=str(world.hospital.pk),
        temperature_c="-155",
        **split_dt("at", timezone.now() - timedelta(minutes=30)),
    )
    response = client.post(url(CustodyRecord, "add"), data)

    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == UnitStatus.RECEIVED and unit.current_facility == world.hospital

    # A bag the nurse may not see is not found at all.
    data["unit_ref"] = "NO-SUCH-BAG"
    response = client.post(url(CustodyRecord, "add"), data)
    assert "unit_ref" in response.context["adminform"].form.errors


def test_a_unit_is_created_on_its_own_page_with_the_default_expiry(client_for, world):
    batch = started_batch(world)
    client = client_for(world.manufacturing)
    data = form_data(client.get(url(Unit, "add") + f"?batch={batch.pk}"), "unit_form")
    data.update(unit_id="BAG-Z", dose_cells="50000000", volume_ml="20")
    response = client.post(url(Unit, "add"), data)
    assert response.status_code == 302
    unit = Unit.objects.get(unit_id="BAG-Z")
    assert unit.expires_at > timezone.now() + timedelta(days=170)  # the product's 180-day shelf life

    response = client.post(url(Unit, "add"), data)  # the same bag id again
    assert "unit_id" in response.context["adminform"].form.errors
    assert Unit.objects.filter(unit_id="BAG-Z").count() == 1
