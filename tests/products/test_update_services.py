"""Update services write what their allow-list names, and only the fields given; a field a service does not take
is a 400 on that field, with nothing written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.errors import PermissionDeniedError
from products.models import Facility, Product
from products.services.catalog import PRODUCT_EDITABLE, product_update
from products.services.common import model_update
from tests import journey
from tracker.models import AdverseEvent, Intervention
from tracker.services.clinical import adverse_event_record, adverse_event_update, intervention_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def test_model_update_sets_what_the_allow_list_names_and_says_what_changed():
    facility = Facility(code="x", name="Old", kind="treatment")

    changed = model_update(instance=facility, fields=("name", "fin"), data={"name": "New", "fin": ""})

    assert changed == ["name"]  # fin was already empty
    assert facility.name == "New"


def test_model_update_refuses_every_field_outside_the_allow_list_and_sets_none():
    facility = Facility(code="x", name="Old", kind="treatment")

    with pytest.raises(ValidationError) as error:
        model_update(instance=facility, fields=("name",), data={"name": "New", "code": "y", "kind": "collection"})

    assert error.value.message_dict == {"code": ["Not editable."], "kind": ["Not editable."]}
    assert (facility.name, facility.code, facility.kind) == ("Old", "x", "treatment")


def test_a_product_changes_what_its_allow_list_names(world):
    product = journey.make_product(world)

    product_update(actor=world.coordinator, product_id=product.id, name="Renamed", shelf_life_days=200)

    product.refresh_from_db()
    assert (product.name, product.shelf_life_days, product.code) == ("Renamed", 200, "cart-x")
    assert "code" not in PRODUCT_EDITABLE and "cryopreserved" not in PRODUCT_EDITABLE


def test_what_a_product_is_does_not_change_and_nothing_is_written(world):
    product = journey.make_product(world)

    with pytest.raises(ValidationError) as error:
        product_update(actor=world.coordinator, product_id=product.id, name="Renamed", cryopreserved=False)

    assert error.value.message_dict == {"cryopreserved": ["Not editable."]}
    assert Product.objects.get(id=product.id).name == product.name


def test_a_product_update_keeps_the_models_rules(world):
    """Second-worst path: an allowed field set to a value the product's rules refuse (a cryopreserved product
    without its use-by time after thaw) is a 400, and nothing is saved."""
    product = journey.make_product(world)

    with pytest.raises(ValidationError) as error:
        product_update(actor=world.coordinator, product_id=product.id, shelf_life_after_thaw_minutes=None)

    assert "shelf_life_after_thaw_minutes" in error.value.message_dict
    assert Product.objects.get(id=product.id).shelf_life_after_thaw_minutes == 90


def test_only_catalogue_roles_change_products(world):
    product = journey.make_product(world)
    with pytest.raises(PermissionDeniedError):
        product_update(actor=world.clinician, product_id=product.id, name="Mine now")
    assert Product.objects.get(id=product.id).name == product.name


def test_an_unchanged_product_is_not_written(world):
    product = journey.make_product(world)
    before = Product.objects.get(id=product.id).updated_at

    product_update(
        actor=world.coordinator, product_id=product.id, name=product.name, storage_max_temp_c=Decimal("-120")
    )

    assert Product.objects.get(id=product.id).updated_at == before


def test_a_products_expected_days_per_stage_are_set_at_creation_and_changed_through_its_service(world):
    """The board's lateness is product data: named parameters of product_create and product_update, in the
    allow-list, and checked like every other field (a negative number of days is a 400, nothing written)."""
    product = journey.make_product(world, stage_days_quarantine=10)
    assert (product.stage_days_quarantine, product.stage_days_shipped) == (10, 2)  # 2: the default

    product_update(actor=world.coordinator, product_id=product.id, stage_days_shipped=1)
    with pytest.raises(ValidationError) as error:
        product_update(actor=world.coordinator, product_id=product.id, stage_days_shipped=-1, name="Renamed")

    assert "stage_days_shipped" in error.value.message_dict
    product.refresh_from_db()
    assert (product.stage_days_quarantine, product.stage_days_shipped, product.name) == (10, 1, "Product cart-x")


def test_a_create_service_refuses_a_field_it_does_not_take(world):
    """A form or serializer carrying an extra field (here who gave it, which the service sets) gets a 400 on it."""
    patient = journey.make_patient(world)

    with pytest.raises(ValidationError) as error:
        intervention_record(
            actor=world.clinician,
            patient=patient,
            given_at=timezone.now(),
            kind="tocilizumab",
            drug="tocilizumab",
            given_by=world.coordinator,
        )

    assert error.value.message_dict == {"given_by": ["Not editable."]}
    assert not Intervention.objects.exists()


def test_an_adverse_event_update_sets_only_the_fields_given_and_none_clears_a_time(world):
    patient = journey.make_patient(world)
    onset = timezone.now() - timedelta(days=2)
    event = adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="infection",
        grade=2,
        onset_at=onset,
        aware_at=onset,
        serious=False,
        expected=True,
        resolved_at=onset + timedelta(days=1),
        description="Fever and cough.",
    )

    adverse_event_update(actor=world.clinician, event_id=event.id, resolved_at=None)

    event = AdverseEvent.objects.get(id=event.id)
    assert event.resolved_at is None  # None is a value: the resolution was entered in error
    assert (event.grade, event.description, event.term) == (2, "Fever and cough.", "infection")
