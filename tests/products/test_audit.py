"""The audit foundation: history rows for every change, with who and how, and nobody can edit them."""

import time

import pytest
from django.db import DatabaseError, transaction

from config.celery_app import app as celery_app
from products.audit import audit_context
from products.models import Facility, FacilityEvent, UserEvent
from tests.factories import FacilityFactory


@pytest.mark.django_db
def test_api_change_records_user_url_and_channel(make_user, api_client_for):
    coordinator = make_user("coordinator")

    response = api_client_for(coordinator).post(
        "/api/v1/facilities/", {"code": "audited", "name": "Audited", "kind": "collection"}
    )

    assert response.status_code == 201
    event = FacilityEvent.objects.select_related("pgh_context").get(code="audited", pgh_label="insert")
    assert event.pgh_context.metadata["user"] == coordinator.pk
    assert event.pgh_context.metadata["url"] == "/api/v1/facilities/"
    assert event.pgh_context.metadata["method"] == "POST"
    assert event.pgh_context.metadata["channel"] == "api"


@pytest.mark.django_db
def test_bulk_update_and_delete_are_recorded_with_old_values():
    facility = FacilityFactory(code="bulk", name="Before")

    with audit_context(actor="test", reason="renamed by the test"):
        Facility.objects.filter(code="bulk").update(name="After")
        Facility.objects.filter(code="bulk").delete()

    events = list(FacilityEvent.objects.filter(pgh_obj_id=facility.id).order_by("pgh_id"))
    assert [e.pgh_label for e in events] == ["insert", "update", "delete"]
    assert [e.name for e in events] == ["Before", "After", "After"]
    assert events[1].pgh_context.metadata["reason"] == "renamed by the test"


@pytest.mark.django_db
def test_history_rows_cannot_be_edited_or_deleted():
    FacilityFactory(code="locked")
    event = FacilityEvent.objects.get(code="locked")

    with pytest.raises(DatabaseError), transaction.atomic():
        FacilityEvent.objects.filter(pk=event.pk).update(name="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        FacilityEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db
def test_user_accounts_are_tracked_without_password_hashes(make_user):
    user = make_user()
    user.is_active = False
    user.save()

    events = UserEvent.objects.filter(pgh_obj_id=user.pk)
    assert events.filter(pgh_label="update", is_active=False).exists()
    assert not hasattr(events.first(), "password")


@celery_app.task(name="tests.rename_facility")
def rename_facility(facility_id: int, name: str) -> None:
    Facility.objects.filter(id=facility_id).update(name=name)


@pytest.mark.celery_worker
def test_changes_made_by_a_celery_task_name_the_task(celery_worker):
    facility = FacilityFactory(code="by-task", name="Before")

    result = rename_facility.apply_async(args=[facility.id, "Renamed by worker"])

    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline and not Facility.objects.filter(id=facility.id, name="Renamed by worker").exists()
    ):
        time.sleep(0.1)
    event = FacilityEvent.objects.select_related("pgh_context").get(pgh_obj_id=facility.id, pgh_label="update")
    assert event.pgh_context.metadata["channel"] == "celery:tests.rename_facility"
    assert event.pgh_context.metadata["task_id"] == result.id
