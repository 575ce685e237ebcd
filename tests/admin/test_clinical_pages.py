"""Every page of the clinical and monitoring admin renders for a superuser and a coordinator, with a bounded
number of queries however many records there are."""

import pytest

from tests.admin.clinic import clinic
from tests.admin.helpers import url
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    Conditioning,
    FollowUpVisit,
    Intervention,
    Notification,
    Reminder,
    ScheduledCheck,
    Webhook,
)

pytestmark = pytest.mark.django_db

MODELS = [
    Administration,
    Conditioning,
    Assessment,
    Intervention,
    AdverseEvent,
    FollowUpVisit,
    ScheduledCheck,
    Reminder,
    Notification,
    Webhook,
]
ADDS = [Administration, Conditioning, Assessment, Intervention, AdverseEvent, FollowUpVisit, Webhook]
MAX_CHANGELIST_QUERIES = 15


@pytest.fixture
def records(world):
    return clinic(world)


@pytest.mark.parametrize("model", ADDS, ids=lambda m: m.__name__)
def test_add_pages_render(client_for, superuser, world, model):
    for user in (superuser, world.coordinator):
        response = client_for(user).get(url(model, "add"))
        assert response.status_code == 200, user


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelists_render_with_bounded_queries(
    client_for, superuser, world, records, model, django_assert_max_num_queries
):
    for user in (superuser, world.coordinator):
        client = client_for(user)
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
            response = client.get(url(model, "changelist"))
        assert response.status_code == 200, user
        assert response.context["cl"].result_count > 0, (model, user)


def test_changelist_queries_do_not_grow_with_rows(client_for, world, records, django_assert_max_num_queries):
    client = client_for(world.coordinator)
    counts = {}
    for model in MODELS:
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES) as captured:
            client.get(url(model, "changelist"))
        counts[model] = len(captured)
    clinic(world, days_ago=4)
    clinic(world, days_ago=5)
    for model in MODELS:
        with django_assert_max_num_queries(counts[model]):
            client.get(url(model, "changelist"))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_and_history_pages_render(client_for, superuser, world, records, model):
    obj = model.objects.order_by("pk").last()
    for user in (superuser, world.coordinator):
        client = client_for(user)
        assert client.get(url(model, "change", obj.pk)).status_code == 200, user
        assert client.get(url(model, "history", obj.pk)).status_code == 200, user


def test_the_patient_and_order_pages_link_to_the_clinical_records(client_for, world, records):
    client = client_for(world.coordinator)
    patient_page = client.get(url(records.order.patient, "change", records.order.patient_id))
    links = dict(patient_page.context["object_links"])
    assert links["Record an assessment"] == f"{url(Assessment, 'add')}?patient={records.order.patient_id}"
    assert "Record an adverse event" in links and "Scheduled checks" in links and "Reminders" in links
    checks = client.get(links["Scheduled checks"])
    assert checks.status_code == 200
    assert {c.patient_id for c in checks.context["cl"].result_list} == {records.order.patient_id}

    order_page = client.get(url(records.order, "change", records.order.pk))
    links = dict(order_page.context["object_links"])
    assert links["Record the administration"] == f"{url(Administration, 'add')}?coi={records.order.coi}"
