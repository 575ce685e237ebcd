"""Catalogue, facilities, tokens, role permissions and the audit trail in the admin."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from products.choices import Role
from products.models import ApiToken, Facility, MonitoringProtocol, Product, ProtocolStep, ReleaseTest, Unit
from products.services.tokens import token_issue
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import url
from tests.factories import UserFactory
from tests.journey import make_patient, make_product, released_unit
from tracker.models import Patient

pytestmark = pytest.mark.django_db


def product_post(client, **overrides):
    protocol = MonitoringProtocol.objects.get(code="car_t_standard")
    data = form_data(client.get(url(Product, "add")), "product_form")
    data.update(
        code="cart-new",
        name="New CAR-T",
        modality="car_t",
        source="autologous",
        gene_modified="on",
        cryopreserved="on",
        shelf_life_days="365",
        shelf_life_after_thaw_minutes="60",
        storage_max_temp_c="-120",
        dose_unit="cells_per_kg",
        monitoring_protocol=str(protocol.pk),
        **{
            "release_spec-0-test": "viability",
            "release_spec-0-unit": "%",
            "release_spec-0-min_value": "70",
            "release_spec-1-test": "sterility",
            "release_spec-1-expected": "negative",
        },
    )
    data.update(overrides)
    return client.post(url(Product, "add"), data)


def test_a_product_is_added_with_its_release_specification_through_the_service(client_for, world):
    response = product_post(client_for(world.coordinator))

    assert response.status_code == 302
    product = Product.objects.get(code="cart-new")
    assert product.monitoring_protocol.code == "car_t_standard"
    spec = {t.test: t for t in product.release_spec.all()}
    assert set(spec) == {"viability", "sterility"}
    assert spec["viability"].min_value == Decimal("70") and spec["sterility"].expected == "negative"


def test_a_release_test_with_both_limits_and_an_expected_value_is_refused(client_for, world):
    response = product_post(client_for(world.coordinator), **{"release_spec-1-min_value": "1"})
    assert response.status_code == 200
    assert not Product.objects.filter(code="cart-new").exists()
    assert not ReleaseTest.objects.filter(test="sterility").exists()


def test_a_products_identity_and_specification_are_fixed_after_creation(client_for, world):
    product = make_product(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Product, "change", product.pk)), "product_form")
    assert "code" not in data and "source" not in data
    assert "release_spec-0-min_value" not in data
    data.update(name="Renamed", code="hacked", source="allogeneic", **{"release_spec-0-min_value": "0"})
    assert client.post(url(Product, "change", product.pk), data).status_code == 302

    product.refresh_from_db()
    assert product.name == "Renamed" and product.code == "cart-x" and product.source == "autologous"
    assert product.release_spec.get(test="viability").min_value == Decimal("70")


def test_protocol_steps_are_edited_as_data(client_for, world):
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    client = client_for(world.coordinator)
    data = form_data(client.get(url(MonitoringProtocol, "change", protocol.pk)), "monitoringprotocol_form")
    first = ProtocolStep.objects.filter(protocol=protocol).order_by("position", "id").first()
    index = next(k for k, v in data.items() if k.endswith("-id") and v == str(first.pk)).removesuffix("-id")
    data[f"{index}-grace_hours"] = "3"
    assert client.post(url(MonitoringProtocol, "change", protocol.pk), data).status_code == 302
    first.refresh_from_db()
    assert first.grace_hours == 3

    # A repeat without a unit breaks the model's constraint: a form error, not a 500.
    data[f"{index}-repeat_every_value"] = "1"
    data[f"{index}-repeat_every_unit"] = ""
    response = client.post(url(MonitoringProtocol, "change", protocol.pk), data)
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.repeat_every_value is None


def test_a_facility_code_is_fixed_and_other_facilities_are_not_editable(client_for, world):
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Facility, "change", world.hospital.pk)), "facility_form")
    assert "code" not in data
    data.update(name="City Hospital (renamed)", code="hacked")
    assert client.post(url(Facility, "change", world.hospital.pk), data).status_code == 302
    world.hospital.refresh_from_db()
    assert world.hospital.name == "City Hospital (renamed)" and world.hospital.code == "hospital"

    assert client.get(url(Facility, "change", world.factory_site.pk)).context["has_change_permission"] is False
    assert client.post(url(Facility, "change", world.factory_site.pk), {"name": "x"}).status_code == 403


def test_tokens_are_listed_and_revoked_never_shown(client_for, world, superuser):
    issued = token_issue(user=world.integration, name="EHR")
    client = client_for(superuser)
    listing = client.get(url(ApiToken, "changelist"))
    assert issued.token.prefix.encode() in listing.content
    assert issued.token.key_hash.encode() not in listing.content
    assert client.get(url(ApiToken, "add")).status_code == 403
    page = client.get(url(ApiToken, "change", issued.token.pk))
    assert issued.token.key_hash.encode() not in page.content

    response = client.post(
        url(ApiToken, "changelist"),
        {"action": "revoke", "_selected_action": [str(issued.token.pk)], "index": "0"},
        follow=True,
    )
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert any("Revoked 1 token" in m for m in messages_of(response))


def test_role_groups_have_the_permissions_the_admin_needs():
    def perms(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    coordinator, qa, manufacturing, clinician = (perms(r) for r in ("coordinator", "qa", "manufacturing", "clinician"))
    for model in ("batch", "unit", "collection", "patient", "therapyorder", "custodyrecord", "qcresult", "product"):
        assert {f"add_{model}", f"change_{model}", f"view_{model}"} <= coordinator
    assert "view_signature" in coordinator and "add_signature" not in coordinator
    assert {"view_batch", "change_batch", "view_unit", "view_signature"} <= qa and "add_unit" not in qa
    assert {"add_batch", "add_unit", "add_custodyrecord", "view_product"} <= manufacturing
    assert not {p for p in manufacturing if p.endswith(("_patient", "_therapyorder"))}
    assert {"view_patient", "view_therapyorder", "add_custodyrecord"} <= clinician
    assert not perms("integration")


def test_qa_sees_the_product_side_but_cannot_add_units(client_for, world):
    client = client_for(world.qa)
    assert client.get(url(Unit, "changelist")).status_code == 200
    assert client.get(url(Unit, "add")).status_code == 403
    assert client.get(url(Patient, "changelist")).status_code == 403


def test_the_audit_trail_shows_who_changed_what_through_the_admin(client_for, world):
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Facility, "change", world.hospital.pk)), "facility_form")
    data["name"] = "Renamed Hospital"
    client.post(url(Facility, "change", world.hospital.pk), data)

    history = client.get(url(Facility, "history", world.hospital.pk))
    update = next(e for e in history.context["events"] if e.label == "update")
    assert update.user == world.coordinator.get_full_name()
    assert update.channel == "admin"
    assert ("name", "City Hospital", "Renamed Hospital") in update.changes


def test_the_audit_trail_of_a_record_one_may_not_see_is_not_shown(client_for, world):
    patient = make_patient(world, mrn="SEEN-1")
    assert client_for(world.coordinator).get(url(Patient, "history", patient.pk)).status_code == 200
    # Patient data does not exist for the manufacturing role, even by its id.
    assert client_for(world.manufacturing).get(url(Patient, "history", patient.pk)).status_code == 302
    unit = released_unit(world)
    other = Facility.objects.create(code="far", name="Far Away", kind="treatment")
    stranger = UserFactory(username="stranger", roles=[Role.COORDINATOR], facilities=[other])
    assert client_for(stranger).get(url(Unit, "history", unit.pk)).status_code == 302
