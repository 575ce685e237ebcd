"""Every admin page renders for a superuser and for a coordinator, with a bounded number of queries."""

import pytest
from django.urls import reverse

from products.models import (
    ApiToken,
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyRecord,
    Facility,
    FacilityMembership,
    MonitoringProtocol,
    ProcessingStep,
    Product,
    QCResult,
    Signature,
    Unit,
)
from products.services.batches import batch_step_record
from products.services.tokens import token_issue
from tests.journey import deliver, make_order, make_patient, released_unit, started_batch
from tracker.models import Patient, TherapyOrder

pytestmark = pytest.mark.django_db

MODELS = [
    Facility,
    FacilityMembership,
    ApiToken,
    MonitoringProtocol,
    Product,
    ChainOfIdentity,
    Collection,
    Batch,
    ProcessingStep,
    QCResult,
    Signature,
    Unit,
    CustodyRecord,
    Patient,
    TherapyOrder,
]
# What a coordinator may add (the rest is created elsewhere: chains by orders, signatures by signing...).
COORDINATOR_ADDS = [
    Facility,
    MonitoringProtocol,
    Product,
    Collection,
    Batch,
    ProcessingStep,
    QCResult,
    Unit,
    CustodyRecord,
    Patient,
    TherapyOrder,
]
# Changelists stay flat however many rows there are (a page of 100 rows, the filters, the permissions).
MAX_CHANGELIST_QUERIES = 15


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def journey(world, superuser):
    """Several chains at different stages, so every list has rows and every column has something to show."""
    unit = released_unit(world, unit_id="UNIT-1")
    deliver(world, unit)
    for _ in range(3):
        batch = started_batch(world)
        batch_step_record(actor=world.manufacturing, batch_id=batch.id, kind="selection", started_at=batch.started_at)
    make_order(world, patient=make_patient(world, mrn="MRN-ORDERED"), product=Product.objects.get(code="cart-x"))
    token_issue(user=world.integration)
    return unit


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelists_render_for_a_superuser(client_for, superuser, journey, model, django_assert_max_num_queries):
    client = client_for(superuser)
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "model", [m for m in MODELS if m not in (FacilityMembership, ApiToken)], ids=lambda m: m.__name__
)
def test_changelists_render_for_a_coordinator(client_for, world, journey, model, django_assert_max_num_queries):
    client = client_for(world.coordinator)
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200


def test_changelist_queries_do_not_grow_with_rows(client_for, world, journey, django_assert_max_num_queries):
    client = client_for(world.coordinator)
    paths = [url(m, "changelist") for m in (Unit, Batch, CustodyRecord, Patient, TherapyOrder, Collection)]
    counts = {}
    for path in paths:
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES) as captured:
            client.get(path)
        counts[path] = len(captured)
    product = Product.objects.get(code="cart-x")
    for n in range(3):
        order = make_order(world, patient=make_patient(world, mrn=f"MRN-X{n}"), product=product)
        deliver(world, released_unit(world, order=order, unit_id=f"UNIT-X{n}"))
    for path in paths:
        with django_assert_max_num_queries(counts[path]):
            client.get(path)


@pytest.mark.parametrize("model", COORDINATOR_ADDS, ids=lambda m: m.__name__)
def test_add_pages_render(client_for, superuser, world, model):
    for user in (superuser, world.coordinator):
        response = client_for(user).get(url(model, "add"))
        assert response.status_code == 200, user


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_and_history_pages_render_for_a_superuser(client_for, superuser, journey, model):
    client = client_for(superuser)
    obj = model.objects.order_by("pk").last()
    assert obj is not None
    change = client.get(url(model, "change", obj.pk))
    assert change.status_code == 200
    history = client.get(url(model, "history", obj.pk))
    assert history.status_code == 200


def test_the_change_page_links_to_the_records_audit_trail(client_for, superuser, journey):
    batch = Batch.objects.get(lot_number="LOT-UNIT-1")
    page = client_for(superuser).get(url(Batch, "change", batch.pk))
    assert url(Batch, "history", batch.pk).encode() in page.content

    history = client_for(superuser).get(url(Batch, "history", batch.pk))
    assert b"quarantine" in history.content and b"released" in history.content


def test_the_admin_index_lists_the_coordinators_models(client_for, world):
    response = client_for(world.coordinator).get(reverse("admin:index"))
    assert response.status_code == 200
    for name in (b"Batches", b"Units", b"Patients", b"Therapy orders", b"Custody records", b"Collections"):
        assert name in response.content


def test_the_user_page_shows_the_users_facilities(client_for, superuser, world):
    client = client_for(superuser)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    page = client.get(reverse("admin:auth_user_change", args=[world.coordinator.pk]))
    assert page.status_code == 200
    memberships = next(f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "memberships")
    facilities = {form.original.facility for form in memberships if form.original is not None}
    assert facilities == {world.collection_site, world.hospital}
