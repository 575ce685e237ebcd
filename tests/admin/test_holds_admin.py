"""Holds in the admin: opened from the unit and batch pages, decided by QA on a signature page; QC results
invalidated from the batch page; the thaw use-by required on a product's page."""

import pytest
from django.urls import reverse
from django.utils import timezone

from products.choices import HoldStatus, Role
from products.models import Batch, Hold, Product, QCResult, Signature, SignatureFailure, Unit
from tests import holds
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import split_dt, url
from tests.admin.test_catalog_and_access import product_post
from tests.factories import UserFactory
from tests.journey import PASSING_QC, deliver, make_unit, record_qc, release, released_unit, started_batch

pytestmark = pytest.mark.django_db


def decide_url(hold: Hold) -> str:
    return reverse("admin:products_hold_decide", args=[hold.pk])


def invalidate_url(result: QCResult) -> str:
    return reverse("admin:products_batch_invalidate_qc", args=[result.batch_id, result.pk])


def add_hold(client, query: str = "", **fields):
    data = form_data(client.get(url(Hold, "add") + query), "hold_form")
    data.update(fields)
    return client.post(url(Hold, "add"), data, follow=True)


def sign(client, hold: Hold, password: str, decision: str = "release", rationale: str = "Logger data reviewed"):
    body = {"decision": decision, "rationale": rationale, "password": password, "meaning": "Decided after review"}
    return client.post(decide_url(hold), body, follow=True)


# --- opening ---------------------------------------------------------------------------------------------


def test_a_unit_is_held_from_its_page_through_the_service(client_for, world):
    unit = deliver(world, released_unit(world), thaw=False)
    client = client_for(world.coordinator)
    page = client.get(url(Unit, "change", unit.pk))
    link = f"{url(Hold, 'add')}?unit_ref={unit.unit_id}"
    assert link.encode() in page.content

    response = add_hold(client, f"?unit_ref={unit.unit_id}", kind="deviation", reason="Dewar alarm overnight")

    hold = Hold.objects.get()
    assert (hold.unit, hold.opened_by, hold.kind, hold.reason) == (
        unit,
        world.coordinator,
        "deviation",
        "Dewar alarm overnight",
    )
    assert response.redirect_chain[-1][0] == url(Hold, "change", hold.pk)
    assert any("nothing it covers may be shipped" in m for m in messages_of(response))


def test_a_batch_is_held_from_its_page(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    release(world, batch)
    client = client_for(world.qa)
    page = client.get(url(Batch, "change", batch.pk))
    assert b"Hold the batch" in page.content

    add_hold(client, f"?batch_ref={batch.lot_number}", kind="recall", reason="Supplier recall")

    hold = Hold.objects.get()
    assert (hold.batch, hold.unit, hold.kind) == (batch, None, "recall")
    holds_inline = client.get(url(Batch, "change", batch.pk)).context["inline_admin_formsets"][-1]
    assert [form.original for form in holds_inline] == [hold]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"unit_ref": "", "batch_ref": ""}, "exactly one"),
        ({"unit_ref": "UNIT-1", "batch_ref": "LOT-UNIT-1"}, "exactly one"),
        ({"unit_ref": "NO-SUCH-BAG", "batch_ref": ""}, "No unit NO-SUCH-BAG that you may see"),
        ({"unit_ref": "UNIT-1", "batch_ref": "", "reason": ""}, "This field is required"),
    ],
)
def test_the_hold_form_says_what_is_wrong_and_writes_nothing(client_for, world, fields, error):
    released_unit(world)

    response = add_hold(client_for(world.qa), **({"kind": "other", "reason": "x"} | fields))

    assert response.status_code == 200 and error in response.content.decode()
    assert not Hold.objects.exists()


def test_a_refusal_of_the_service_comes_back_on_the_form(client_for, world):
    batch = started_batch(world)  # the coordinator sees it (their hospital's chain) but does not work at the factory

    response = add_hold(client_for(world.coordinator), batch_ref=batch.lot_number, kind="other", reason="x")

    assert response.status_code == 200 and "not a member of factory" in response.content.decode()
    assert not Hold.objects.exists()


def test_holds_are_listed_for_those_who_may_see_them(client_for, world):
    hold = holds.hold(world, unit=released_unit(world))
    outsider = UserFactory(username="qa-far", roles=[Role.QA], facilities=[world.other_hospital])

    listed = client_for(world.qa).get(url(Hold, "changelist"))
    assert [h.pk for h in listed.context["cl"].result_list] == [hold.pk]
    assert list(client_for(outsider).get(url(Hold, "changelist")).context["cl"].result_list) == []
    assert client_for(outsider).get(url(Hold, "change", hold.pk)).status_code == 302  # "does not exist"


# --- the unit page shows what holds it ------------------------------------------------------------------


def test_the_unit_page_says_it_is_on_hold_with_its_batchs_holds_too(client_for, world):
    unit = released_unit(world)
    on_unit = holds.hold(world, unit=unit, kind="other", reason="Overwrap torn")
    on_batch = holds.hold(world, batch=unit.batch, kind="recall", reason="Recall of the lot")

    page = client_for(world.qa).get(url(Unit, "change", unit.pk))

    content = page.content.decode()
    assert "ON HOLD" in content and "Overwrap torn" in content and "Recall of the lot" in content
    assert decide_url(on_unit) in content and decide_url(on_batch) in content
    listed = client_for(world.qa).get(url(Unit, "changelist")).context["cl"].result_list
    assert [(u.unit_id, bool(u.open_hold_ids)) for u in listed] == [(unit.unit_id, True)]


# --- QA's decision --------------------------------------------------------------------------------------


def test_qa_releases_a_hold_on_the_signature_page(client_for, world):
    unit = released_unit(world)
    hold = holds.hold(world, unit=unit)
    client = client_for(world.qa)
    assert decide_url(hold).encode() in client.get(url(Hold, "change", hold.pk)).content
    page = client.get(decide_url(hold))
    assert page.status_code == 200 and b'type="password"' in page.content and unit.unit_id.encode() in page.content

    response = sign(client, hold, world.password)

    hold.refresh_from_db()
    assert hold.status == HoldStatus.RELEASED and hold.decision_signature.signer == world.qa
    assert hold.rationale == "Logger data reviewed"
    assert response.redirect_chain[-1][0] == url(Hold, "change", hold.pk)
    assert any("released for use" in m for m in messages_of(response))
    assert b"ON HOLD" not in client.get(url(Unit, "change", unit.pk)).content


def test_qa_discards_a_batch_hold_and_its_units_are_discarded(client_for, world):
    batch = started_batch(world)
    make_unit(world, batch, unit_id="BAG-1")
    make_unit(world, batch, unit_id="BAG-2")
    record_qc(world, batch)
    release(world, batch)
    hold = holds.hold(world, batch=batch, kind="recall")

    sign(client_for(world.qa), hold, world.password, decision="discard", rationale="Recalled lot")

    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.DISCARDED
    assert set(Unit.objects.filter(batch=batch).values_list("status", flat=True)) == {"discarded"}


def test_a_wrong_password_decides_nothing_and_says_so(client_for, world):
    hold = holds.hold(world, unit=released_unit(world))

    response = sign(client_for(world.qa), hold, "guess")

    assert any("invalid_signature" in m for m in messages_of(response))
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.OPEN
    assert SignatureFailure.objects.filter(signer=world.qa).count() == 1


def test_a_superuser_without_the_qa_role_is_refused_on_the_signature_page(client_for, world, superuser):
    hold = holds.hold(world, unit=released_unit(world))

    response = sign(client_for(superuser), hold, world.password)

    assert any("permission_denied" in m and "qa role itself" in m for m in messages_of(response))
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.OPEN and not Signature.objects.filter(
        record__startswith="hold"
    )


def test_a_coordinator_has_no_signature_page(client_for, world, factory_coordinator):
    hold = holds.hold(world, unit=released_unit(world))
    client = client_for(factory_coordinator)

    assert decide_url(hold).encode() not in client.get(url(Hold, "change", hold.pk)).content
    assert client.post(decide_url(hold), {"decision": "release"}).status_code == 403


def test_the_decision_needs_a_rationale(client_for, world):
    hold = holds.hold(world, unit=released_unit(world))

    response = sign(client_for(world.qa), hold, world.password, rationale="")

    assert response.status_code == 200 and response.context["form"].errors["rationale"]
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.OPEN


def test_a_decided_hold_offers_no_second_decision(client_for, world):
    hold = holds.decide(world, holds.hold(world, unit=released_unit(world)))
    client = client_for(world.qa)

    assert decide_url(hold).encode() not in client.get(url(Hold, "change", hold.pk)).content
    response = sign(client, hold, world.password, decision="discard")

    assert any("decided already" in m for m in messages_of(response))
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED


# --- QC invalidation from the batch page ----------------------------------------------------------------


def failed_batch(world) -> tuple[Batch, QCResult]:
    batch = started_batch(world)
    record_qc(world, batch, {**PASSING_QC, "sterility": "positive"})
    return batch, QCResult.objects.get(batch=batch, spec__test="sterility")


def test_qa_invalidates_a_result_from_the_batch_page_and_it_is_struck_through(client_for, world):
    batch, result = failed_batch(world)
    client = client_for(world.qa)
    assert invalidate_url(result).encode() in client.get(url(Batch, "change", batch.pk)).content
    form = client.get(invalidate_url(result))
    assert form.status_code == 200 and b'type="password"' in form.content and b"Failed: sterility" in form.content

    response = client.post(
        invalidate_url(result),
        {"reason": "Positive control grew", "password": world.password, "meaning": "Laboratory error"},
        follow=True,
    )

    result.refresh_from_db()
    assert result.invalidated and result.invalidated_by == world.qa and result.invalidation_signature is not None
    assert response.redirect_chain[-1][0] == url(Batch, "change", batch.pk)
    content = response.content.decode()
    assert '<s title="invalidated">positive</s>' in content
    assert "Invalidated by" in content and "Positive control grew" in content
    assert "No result yet: sterility" in content  # its only result set aside, sterility has no result


def test_an_invalidation_with_a_wrong_password_or_by_manufacturing_changes_nothing(client_for, world):
    _batch, result = failed_batch(world)
    body = {"reason": "Control failed", "password": "guess", "meaning": "x"}

    wrong = client_for(world.qa).post(invalidate_url(result), body, follow=True)
    not_qa = client_for(world.manufacturing).post(
        invalidate_url(result), body | {"password": world.password}, follow=True
    )

    assert any("invalid_signature" in m for m in messages_of(wrong))
    assert any("permission_denied" in m for m in messages_of(not_qa))
    assert not QCResult.objects.filter(invalidated=True).exists()


def test_an_invalidation_needs_a_reason(client_for, world):
    _batch, result = failed_batch(world)

    response = client_for(world.qa).post(
        invalidate_url(result), {"reason": "", "password": world.password, "meaning": "x"}
    )

    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert not QCResult.objects.filter(invalidated=True).exists()


# --- the product: a thaw use-by is required -------------------------------------------------------------


def test_a_cryopreserved_product_without_its_thaw_use_by_is_a_form_error(client_for, world):
    response = product_post(client_for(world.coordinator), shelf_life_after_thaw_minutes="")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "use-by time after thaw" in str(errors["shelf_life_after_thaw_minutes"])
    assert not Product.objects.filter(code="cart-new").exists()


def test_the_thaw_use_by_cannot_be_emptied_on_the_product_page(client_for, world):
    from tests.journey import make_product

    product = make_product(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Product, "change", product.pk)), "product_form")
    data.update(shelf_life_after_thaw_minutes="")

    response = client.post(url(Product, "change", product.pk), data)

    assert response.status_code == 200 and "shelf_life_after_thaw_minutes" in response.context["adminform"].form.errors
    assert Product.objects.get(pk=product.pk).shelf_life_after_thaw_minutes == 90


def test_a_failing_result_recorded_on_a_released_batchs_page_holds_the_batch(client_for, world):
    batch = started_batch(world)
    record_qc(world, batch)
    release(world, batch)
    client = client_for(world.manufacturing)
    data = form_data(client.get(url(Batch, "change", batch.pk)), "batch_form")
    data.update({"qc_results-2-0-test": "endotoxin", "qc_results-2-0-value": "12", "qc_results-2-0-unit": "EU/mL"})
    data.update(split_dt("qc_results-2-0-tested_at", timezone.now()))

    assert client.post(url(Batch, "change", batch.pk), data).status_code == 302

    hold = Hold.objects.get()
    assert (hold.batch, hold.kind, hold.opened_by) == (batch, "oos", None)
    page = client.get(url(Batch, "change", batch.pk))
    assert [form.original for form in page.context["inline_admin_formsets"][-1]] == [hold]
