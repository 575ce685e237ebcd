"""batches/, with their steps, QC results, completion and signed release or rejection."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import Batch, ProcessingStep, QCResult, Signature
from products.services.batches import batch_reject
from tests import journey
from tests.factories import FacilityFactory, UserFactory

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def quarantined_batch(world: journey.World, results: dict | None = None) -> Batch:
    """A batch with a unit and the given QC results (default: all four passing), waiting for release."""
    batch = journey.started_batch(world)
    journey.make_unit(world, batch, unit_id=f"U-{batch.lot_number}")
    journey.record_qc(world, batch, results)
    batch.refresh_from_db()
    return batch


def assert_not_released(batch: Batch, status: str = "quarantine") -> None:
    batch.refresh_from_db()
    assert batch.status == status
    assert batch.release_signature_id is None and batch.rejection_signature_id is None
    assert not Signature.objects.exists()


# Batches ---------------------------------------------------------------------------------------------------


def test_a_batch_is_started_for_a_chain_at_a_manufacturing_site(world, client_for):
    order = journey.make_order(world)
    journey.collect(world, order)

    response = client_for(world.integration).post(
        "/api/v1/batches/", {"coi": order.coi, "lot_number": "LOT-9", "facility": "factory", "started_at": ago(days=2)}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["coi"] == order.coi and body["product"] == "cart-x" and body["facility"] == "factory"
    assert body["status"] == "in_process" and body["release_signature"] is None
    assert client_for(world.manufacturing).get(f"/api/v1/batches/{body['id']}/").json()["lot_number"] == "LOT-9"
    order.chain.refresh_from_db()
    assert order.chain.status == "manufacturing"


def test_a_batch_at_a_treatment_facility_is_a_400_on_facility(world, client_for):
    order = journey.make_order(world)

    response = client_for(world.integration).post(
        "/api/v1/batches/", {"coi": order.coi, "lot_number": "LOT-9", "facility": "hospital", "started_at": ago(days=2)}
    )

    assert response.status_code == 400
    assert "facility" in response.json()
    assert not Batch.objects.exists()


def test_a_second_batch_for_an_autologous_chain_is_refused(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.integration).post(
        "/api/v1/batches/",
        {"coi": batch.chain.coi, "lot_number": "LOT-2ND", "facility": "factory", "started_at": ago(days=1)},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert Batch.objects.count() == 1


def test_a_batch_for_a_coi_the_caller_cannot_see_is_a_400_on_coi(world, client_for):
    order = journey.make_order(world)
    elsewhere = FacilityFactory(code="factory-2", kind="manufacturing", fin="W9999")
    outsider = UserFactory(username="mfg2", roles=["integration"], facilities=[elsewhere])

    response = client_for(outsider).post(
        "/api/v1/batches/",
        {"coi": order.coi, "lot_number": "LOT-X", "facility": "factory-2", "started_at": ago(days=1)},
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["coi"][0]
    assert not Batch.objects.exists()


def test_manufacturing_sees_the_batches_of_its_facility_and_no_other(world, client_for):
    ours = journey.started_batch(world)
    theirs = journey.elsewhere(world, ours.product)

    client = client_for(world.manufacturing)
    listed = [b["id"] for b in client.get("/api/v1/batches/").json()["results"]]

    assert listed == [ours.id]
    assert client.get(f"/api/v1/batches/{ours.id}/").status_code == 200
    assert client.get(f"/api/v1/batches/{theirs.batch.id}/").status_code == 404
    assert [b["id"] for b in client_for(theirs.user).get("/api/v1/batches/").json()["results"]] == [theirs.batch.id]


def test_batches_filter_by_coi_status_and_facility(world, client_for):
    first, second = journey.started_batch(world), journey.started_batch(world)
    journey.record_qc(world, second)  # -> quarantine
    client = client_for(world.integration)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/batches/?{query}")
        assert response.status_code == 200, response.json()
        return [b["id"] for b in response.json()["results"]]

    assert ids(f"coi={first.chain.coi}") == [first.id]
    assert ids("status=quarantine") == [second.id]
    assert sorted(ids("facility=factory")) == sorted([first.id, second.id])
    assert ids("facility=hospital") == []
    assert client.get("/api/v1/batches/?status=bogus").status_code == 400


@pytest.mark.parametrize("rows", [1, 10])
def test_batch_list_takes_the_same_number_of_queries_for_1_or_10_batches(
    rows, world, client_for, django_assert_max_num_queries
):
    for _ in range(rows):
        batch = journey.started_batch(world)
    journey.record_qc(world, batch)
    journey.release(world, batch)
    client = client_for(world.manufacturing)
    client.get("/api/v1/me/")  # the token's first use writes last_used_at; measure a steady request

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/batches/")

    assert len(response.json()["results"]) == rows


def test_batch_detail_takes_a_bounded_number_of_queries(world, client_for, django_assert_max_num_queries):
    batch = quarantined_batch(world)
    journey.release(world, batch)
    client = client_for(world.qa)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(3):
        response = client.get(f"/api/v1/batches/{batch.id}/")

    assert response.json()["release_signature"]["signer"] == "qa"


# Processing steps ------------------------------------------------------------------------------------------


def test_processing_steps_are_recorded_with_their_operator(world, client_for):
    batch = journey.started_batch(world)
    client = client_for(world.manufacturing)

    response = client.post(
        f"/api/v1/batches/{batch.id}/steps/",
        {"kind": "transduction", "started_at": ago(days=10), "ended_at": ago(days=9), "parameters": {"moi": 5}},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["operator"] == "mfg" and response.json()["parameters"] == {"moi": 5}
    assert [s["kind"] for s in client.get(f"/api/v1/batches/{batch.id}/steps/").json()["results"]] == ["transduction"]


def test_a_step_that_ends_before_it_starts_is_a_400_on_ended_at(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/steps/", {"kind": "expansion", "started_at": ago(days=2), "ended_at": ago(days=3)}
    )

    assert response.status_code == 400
    assert "ended_at" in response.json()
    assert not ProcessingStep.objects.exists()


def test_an_unknown_step_kind_is_a_400_on_kind(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/steps/", {"kind": "baking", "started_at": ago(days=2)}
    )

    assert response.status_code == 400
    assert "kind" in response.json()
    assert not ProcessingStep.objects.exists()


def test_a_step_on_a_released_batch_is_refused_batch_closed(world, client_for):
    batch = quarantined_batch(world)
    journey.release(world, batch)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/steps/", {"kind": "harvest", "started_at": ago(days=1)}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "batch_closed"
    assert not ProcessingStep.objects.exists()


@pytest.mark.parametrize("rows", [1, 10])
def test_step_list_takes_the_same_number_of_queries_for_1_or_10_steps(
    rows, world, client_for, django_assert_max_num_queries
):
    batch = journey.started_batch(world)
    client = client_for(world.manufacturing)
    for day in range(rows):
        client.post(f"/api/v1/batches/{batch.id}/steps/", {"kind": "expansion", "started_at": ago(days=14 - day)})

    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/batches/{batch.id}/steps/")

    assert len(response.json()["results"]) == rows


# Completion ------------------------------------------------------------------------------------------------


def test_completing_a_batch_puts_it_in_quarantine_once(world, client_for):
    batch = journey.started_batch(world)
    client = client_for(world.manufacturing)

    assert client.post(f"/api/v1/batches/{batch.id}/complete/").json()["status"] == "quarantine"
    again = client.post(f"/api/v1/batches/{batch.id}/complete/")

    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


# QC results ------------------------------------------------------------------------------------------------


def test_qc_results_are_judged_against_the_specification(world, client_for):
    batch = journey.started_batch(world)
    client = client_for(world.manufacturing)
    url = f"/api/v1/batches/{batch.id}/qc-results/"

    low = client.post(url, {"test": "viability", "value": 55.5, "tested_at": ago(days=1)})
    clean = client.post(url, {"test": "sterility", "value": "Negative", "tested_at": ago(days=1)})

    assert low.status_code == 201 and clean.status_code == 201
    assert low.json() | {"id": None, "created_at": None, "tested_at": None} == {
        "id": None,
        "test": "viability",
        "value": 55.5,
        "unit": "%",
        "tested_at": None,
        "passed": False,
        "recorded_by": "mfg",
        "created_at": None,
        "invalidated": False,
        "invalidated_by": None,
        "invalidated_at": None,
        "invalidation_reason": "",
        "invalidation_signature": None,
    }
    assert clean.json()["value"] == "Negative" and clean.json()["passed"] is True
    assert [r["test"] for r in client.get(url).json()["results"]] == ["viability", "sterility"]
    batch.refresh_from_db()
    assert batch.status == "quarantine"


def test_a_qc_result_for_a_test_not_in_the_specification_is_a_400_on_test(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "mycoplasma", "value": "negative", "tested_at": ago(days=1)}
    )

    assert response.status_code == 400
    assert "test" in response.json()
    assert not QCResult.objects.exists()
    batch.refresh_from_db()
    assert batch.status == "in_process"


def test_text_for_a_numeric_test_is_a_400_on_value(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "viability", "value": "high", "tested_at": ago(days=1)}
    )

    assert response.status_code == 400
    assert "value" in response.json()
    assert not QCResult.objects.exists()


@pytest.mark.parametrize("value", [True, None, [90], {"v": 90}, "", "1e30"])
def test_a_value_that_is_neither_a_number_nor_text_is_a_400_on_value(value, world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "viability", "value": value, "tested_at": ago(days=1)}
    )

    assert response.status_code == 400
    assert "value" in response.json()
    assert not QCResult.objects.exists()


def test_a_qc_result_dated_in_the_future_is_a_400_on_tested_at(world, client_for):
    batch = journey.started_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "viability", "value": 90, "tested_at": ago(hours=-2)}
    )

    assert response.status_code == 400
    assert "tested_at" in response.json()
    assert not QCResult.objects.exists()


def test_a_qc_result_on_a_rejected_batch_is_refused_batch_closed(world, client_for):
    batch = quarantined_batch(world)
    batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Spill")
    before = QCResult.objects.count()

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "viability", "value": 90, "tested_at": ago(hours=1)}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "batch_closed"
    assert QCResult.objects.count() == before


def test_qc_results_of_a_batch_the_caller_cannot_see_are_a_404(world, client_for):
    batch = journey.started_batch(world)

    client = client_for(world.other_clinician)
    assert client.get(f"/api/v1/batches/{batch.id}/qc-results/").status_code == 404
    response = client.post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "viability", "value": 90, "tested_at": ago(hours=1)}
    )
    assert response.status_code == 404
    assert not QCResult.objects.exists()


@pytest.mark.parametrize("rows", [1, 10])
def test_qc_result_list_takes_the_same_number_of_queries_for_1_or_10_results(
    rows, world, client_for, django_assert_max_num_queries
):
    batch = journey.started_batch(world)
    for n in range(rows):
        journey.record_qc(world, batch, {"viability": 80 + n})
    client = client_for(world.qa)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/batches/{batch.id}/qc-results/")

    assert len(response.json()["results"]) == rows


# Release and rejection -------------------------------------------------------------------------------------


def test_qa_releases_a_batch_with_a_signature(world, client_for):
    batch = quarantined_batch(world)

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": world.password, "meaning": "Meets specification"}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "released"
    assert body["release_signature"]["signer"] == "qa"
    assert body["release_signature"]["printed_name"] == world.qa.get_full_name()
    assert body["release_signature"]["meaning"] == "release"
    assert body["release_signature"]["statement"] == "Meets specification"
    batch.chain.refresh_from_db()
    assert batch.chain.status == "released"


def test_release_by_a_user_who_is_not_qa_is_a_403(world, client_for):
    batch = quarantined_batch(world)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": world.password, "meaning": "Released"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert_not_released(batch)


def test_release_with_a_wrong_password_is_a_403_invalid_signature(world, client_for):
    batch = quarantined_batch(world)

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": "not-my-password", "meaning": "Released"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert_not_released(batch)


def test_release_without_a_password_is_a_400_on_password(world, client_for):
    batch = quarantined_batch(world)

    response = client_for(world.qa).post(f"/api/v1/batches/{batch.id}/release/", {"meaning": "Released"})

    assert response.status_code == 400
    assert "password" in response.json()
    assert_not_released(batch)


def test_release_before_every_test_has_a_result_is_refused_qc_incomplete_naming_the_tests(world, client_for):
    batch = quarantined_batch(world, {"viability": 92, "sterility": "negative"})

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": world.password, "meaning": "Released"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "qc_incomplete"
    assert response.json()["tests"] == ["cd3_purity", "endotoxin"]
    assert_not_released(batch)


def test_release_with_a_failed_test_is_refused_qc_failed_naming_the_tests(world, client_for):
    batch = quarantined_batch(world, {**journey.PASSING_QC, "viability": 50, "sterility": "positive"})

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": world.password, "meaning": "Released"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "qc_failed"
    assert response.json()["tests"] == ["sterility", "viability"]
    assert_not_released(batch)


def test_releasing_twice_is_refused_not_releasable(world, client_for):
    batch = quarantined_batch(world)
    client = client_for(world.qa)
    url = f"/api/v1/batches/{batch.id}/release/"
    assert client.post(url, {"password": world.password, "meaning": "Released"}).status_code == 200

    again = client.post(url, {"password": world.password, "meaning": "Released again"})

    assert again.status_code == 409
    assert again.json()["code"] == "not_releasable"
    assert Signature.objects.count() == 1


def test_qa_of_another_site_cannot_see_the_batch(world, client_for):
    batch = quarantined_batch(world)
    elsewhere = FacilityFactory(code="factory-2", kind="manufacturing", fin="W9999")
    other_qa = UserFactory(username="qa2", roles=["qa"], facilities=[elsewhere])

    response = client_for(other_qa).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": journey.TEST_PASSWORD, "meaning": "Released"}
    )

    assert response.status_code == 404
    assert_not_released(batch)


def test_qa_rejects_a_batch_with_a_signature_and_a_reason(world, client_for):
    batch = quarantined_batch(world, {**journey.PASSING_QC, "sterility": "positive"})

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/reject/",
        {"password": world.password, "meaning": "Rejected", "reason": "Sterility failure"},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "rejected" and body["rejection_reason"] == "Sterility failure"
    assert body["rejection_signature"]["meaning"] == "rejection" and body["release_signature"] is None


def test_rejection_without_a_reason_is_a_400_on_reason(world, client_for):
    batch = quarantined_batch(world)

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/reject/", {"password": world.password, "meaning": "Rejected", "reason": " "}
    )

    assert response.status_code == 400
    assert "reason" in response.json()
    assert_not_released(batch)


def test_rejecting_a_released_batch_is_refused_not_releasable(world, client_for):
    batch = quarantined_batch(world)
    journey.release(world, batch)

    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/reject/", {"password": world.password, "meaning": "Rejected", "reason": "Late"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_releasable"
    batch.refresh_from_db()
    assert batch.status == "released" and batch.rejection_signature_id is None
