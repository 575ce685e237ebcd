"""QC over HTTP: release judges every valid result; batches/{id}/qc-results/{result_id}/invalidate/ (QA, signed);
results after release, a failing one holding the batch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.choices import Role
from products.models import Batch, Hold, QCResult, Signature, SignatureFailure
from products.services.batches import batch_reject
from tests import holds, journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def quarantined(world, results: dict | None = None) -> Batch:
    batch = journey.started_batch(world)
    journey.make_unit(world, batch, unit_id=f"U-{batch.lot_number}")
    journey.record_qc(world, batch, results)
    return batch


def failed_sterility(world) -> tuple[Batch, QCResult]:
    batch = quarantined(world, {**journey.PASSING_QC, "sterility": "positive"})
    return batch, QCResult.objects.get(batch=batch, spec__test="sterility")


def invalidate_url(batch: Batch, result: QCResult) -> str:
    return f"/api/v1/batches/{batch.id}/qc-results/{result.id}/invalidate/"


def signed(**extra: object) -> dict:
    return {
        "reason": "Positive control grew: the run is invalid (lab investigation LI-0042)",
        "password": journey.World.password,
        "meaning": "Set aside: laboratory error",
    } | extra


def release(client, batch: Batch):
    return client.post(f"/api/v1/batches/{batch.id}/release/", {"password": journey.World.password, "meaning": "OK"})


def test_a_passing_retest_leaves_the_batch_failed_until_qa_invalidates_the_failure(world, client_for):
    batch, failure = failed_sterility(world)
    qa = client_for(world.qa)
    results_url = f"/api/v1/batches/{batch.id}/qc-results/"
    retest = client_for(world.manufacturing).post(
        results_url, {"test": "sterility", "value": "negative", "tested_at": ago(hours=1)}
    )
    assert retest.status_code == 201

    refused = release(qa, batch)
    assert refused.status_code == 409 and refused.json()["code"] == "qc_failed"
    assert refused.json()["tests"] == ["sterility"]

    response = qa.post(invalidate_url(batch, failure), signed())

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == failure.id and body["invalidated"] is True and body["passed"] is False
    assert body["invalidated_by"] == "qa" and body["invalidated_at"] is not None
    assert body["invalidation_reason"].startswith("Positive control grew")
    assert body["invalidation_signature"]["meaning"] == "invalidation"
    assert body["invalidation_signature"]["statement"] == "Set aside: laboratory error"
    listed = qa.get(results_url).json()["results"]
    assert [(r["test"], r["passed"], r["invalidated"]) for r in listed if r["test"] == "sterility"] == [
        ("sterility", False, True),
        ("sterility", True, False),
    ]
    assert release(qa, batch).status_code == 200


def test_a_test_left_with_only_invalidated_results_is_qc_incomplete(world, client_for):
    batch = quarantined(world)
    result = QCResult.objects.get(batch=batch, spec__test="endotoxin")
    qa = client_for(world.qa)

    assert qa.post(invalidate_url(batch, result), signed(reason="Sample from another lot")).status_code == 200
    refused = release(qa, batch)

    assert refused.status_code == 409 and refused.json()["code"] == "qc_incomplete"
    assert refused.json()["tests"] == ["endotoxin"]


def test_invalidating_twice_is_409_already_invalidated(world, client_for):
    batch, failure = failed_sterility(world)
    qa = client_for(world.qa)
    qa.post(invalidate_url(batch, failure), signed())

    response = qa.post(invalidate_url(batch, failure), signed(reason="Once more"))

    assert response.status_code == 409 and response.json()["code"] == "already_invalidated"
    assert QCResult.objects.get(id=failure.id).invalidation_reason.startswith("Positive control")
    assert Signature.objects.filter(meaning="invalidation").count() == 1


def test_a_result_of_a_rejected_batch_is_409_batch_closed(world, client_for):
    batch, failure = failed_sterility(world)
    batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Sterility")

    response = client_for(world.qa).post(invalidate_url(batch, failure), signed())

    assert response.status_code == 409 and response.json()["code"] == "batch_closed"
    assert not QCResult.objects.filter(invalidated=True).exists()


@pytest.mark.parametrize("who", ["superuser", "manufacturing", "coordinator"])
def test_only_the_qa_role_itself_invalidates(world, client_for, who):
    signer = {
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "manufacturing": world.manufacturing,
        "coordinator": UserFactory(username="coord-f", roles=[Role.COORDINATOR], facilities=[world.factory_site]),
    }[who]
    batch, failure = failed_sterility(world)

    response = client_for(signer).post(invalidate_url(batch, failure), signed())

    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not QCResult.objects.filter(invalidated=True).exists() and not SignatureFailure.objects.exists()


def test_a_wrong_password_is_a_403_and_invalidates_nothing(world, client_for):
    batch, failure = failed_sterility(world)

    response = client_for(world.qa).post(invalidate_url(batch, failure), signed(password="guess"))

    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    assert not QCResult.objects.filter(invalidated=True).exists()
    assert SignatureFailure.objects.filter(signer=world.qa).count() == 1


@pytest.mark.parametrize(("field", "value"), [("reason", ""), ("password", "")])
def test_a_missing_reason_or_password_is_a_400_naming_the_field(world, client_for, field, value):
    batch, failure = failed_sterility(world)

    response = client_for(world.qa).post(invalidate_url(batch, failure), signed(**{field: value}))

    assert response.status_code == 400 and field in response.json()
    assert not QCResult.objects.filter(invalidated=True).exists()


def test_a_result_of_another_batch_or_of_an_unseen_batch_is_a_404(world, client_for):
    batch, failure = failed_sterility(world)
    other = quarantined(world)
    unseen = journey.elsewhere(world, journey.product_of(world)).batch

    assert client_for(world.qa).post(invalidate_url(other, failure), signed()).status_code == 404
    assert client_for(world.qa).post(invalidate_url(unseen, failure), signed()).status_code == 404
    assert client_for(world.other_clinician).post(invalidate_url(batch, failure), signed()).status_code == 404
    assert not QCResult.objects.filter(invalidated=True).exists()


def test_a_failing_result_after_release_holds_the_batch_and_its_units(world, client_for):
    batch = quarantined(world)
    journey.release(world, batch)
    unit = batch.units.get()

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "endotoxin", "value": 9, "tested_at": ago(hours=1)}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["passed"] is False
    held = client_for(world.qa).get(f"/api/v1/holds/?batch={batch.id}").json()["results"]
    assert [(h["kind"], h["status"], h["opened_by"], h["qc_result"]) for h in held] == [
        ("oos", "open", "system", response.json()["id"])
    ]
    bag = client_for(world.qa).get(f"/api/v1/units/{unit.unit_id}/").json()
    assert bag["on_hold"] is True and bag["holds"] == [held[0]["id"]]
    assert Batch.objects.get(id=batch.id).status == "released"


def test_a_passing_result_after_release_is_recorded_without_a_hold(world, client_for):
    batch = quarantined(world)
    journey.release(world, batch)

    response = client_for(world.manufacturing).post(
        f"/api/v1/batches/{batch.id}/qc-results/", {"test": "viability", "value": 90, "tested_at": ago(hours=1)}
    )

    assert response.status_code == 201 and response.json()["passed"] is True
    assert not Hold.objects.exists()


def test_release_of_a_batch_under_an_open_hold_is_409_batch_on_hold(world, client_for):
    batch = quarantined(world)
    deviation = holds.hold(world, batch=batch)

    response = release(client_for(world.qa), batch)

    assert response.status_code == 409 and response.json()["code"] == "batch_on_hold"
    assert response.json()["holds"] == [deviation.id]
    assert Batch.objects.get(id=batch.id).status == "quarantine"


@pytest.mark.parametrize("rows", [1, 10])
def test_qc_results_with_invalidations_take_the_same_number_of_queries_for_1_or_10(
    rows, world, client_for, django_assert_max_num_queries
):
    batch = journey.started_batch(world)
    journey.record_qc(world, batch, {"viability": 10})
    for n in range(rows):
        journey.record_qc(world, batch, {"viability": 20 + n})
    for result in QCResult.objects.filter(batch=batch):
        client_for(world.qa).post(invalidate_url(batch, result), signed())
    client = client_for(world.qa)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/batches/{batch.id}/qc-results/")

    assert [r["invalidated"] for r in response.json()["results"]] == [True] * (rows + 1)
    assert {r["invalidation_signature"]["signer"] for r in response.json()["results"]} == {"qa"}
