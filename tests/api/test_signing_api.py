"""Signing through the API: the qa role itself, what a signature judged and its digest, the hash chains."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from products.choices import Role
from products.models import Batch, CustodyRecord, Signature, SignatureFailure
from products.rules.hashchain import GENESIS, digest
from products.services.batches import release_review
from tests import journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def quarantined_batch(world: journey.World, results: dict | None = None) -> Batch:
    batch = journey.started_batch(world)
    journey.record_qc(world, batch, results)
    return batch


@pytest.fixture
def root():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_a_superuser_without_the_qa_role_is_refused_release_and_rejection(world, client_for, root):
    batch = quarantined_batch(world)
    client = client_for(root)

    release = client.post(f"/api/v1/batches/{batch.id}/release/", {"password": world.password, "meaning": "x"})
    reject = client.post(
        f"/api/v1/batches/{batch.id}/reject/", {"password": world.password, "meaning": "x", "reason": "y"}
    )

    for response in (release, reject):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert "qa role" in response.json()["detail"]
    batch.refresh_from_db()
    assert batch.status == "quarantine"
    assert not Signature.objects.exists() and not SignatureFailure.objects.exists()


def test_a_superuser_with_the_qa_role_may_release(world, client_for, root):
    root.groups.add(Group.objects.get(name=Role.QA))
    batch = quarantined_batch(world)
    response = client_for(root).post(
        f"/api/v1/batches/{batch.id}/release/", {"password": world.password, "meaning": "Released"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["release_signature"]["signer"] == "root"


def test_the_release_signature_shows_what_it_judged_its_digest_and_its_chain_link(world, client_for):
    first = quarantined_batch(world)
    second = quarantined_batch(world)
    client = client_for(world.qa)
    one = client.post(f"/api/v1/batches/{first.id}/release/", {"password": world.password, "meaning": "a"}).json()
    two = client.post(f"/api/v1/batches/{second.id}/release/", {"password": world.password, "meaning": "b"}).json()

    signature = two["release_signature"]
    assert SHA256.match(signature["reviewed_digest"]) and SHA256.match(signature["hash"])
    # Anyone can recompute the digest from what the API shows.
    assert signature["reviewed_digest"] == digest(signature["reviewed"])
    assert signature["reviewed"]["batch"]["lot_number"] == second.lot_number
    assert {r["test"] for r in signature["reviewed"]["qc_results"]} == set(journey.PASSING_QC)
    assert one["release_signature"]["prev_hash"] == GENESIS
    assert signature["prev_hash"] == one["release_signature"]["hash"]
    assert client.get(f"/api/v1/batches/{second.id}/").json()["release_signature"] == signature


def test_the_review_endpoint_gives_the_digest_a_release_binds_to(world, client_for, django_assert_max_num_queries):
    batch = quarantined_batch(world)
    client = client_for(world.qa)

    with django_assert_max_num_queries(8):
        review = client.get(f"/api/v1/batches/{batch.id}/review/")
    assert review.status_code == 200
    seen = review.json()
    assert seen["digest"] == digest(seen["reviewed"]) == digest(release_review(batch))

    journey.record_qc(world, batch, {"viability": 88})  # a retest, after the page was read
    stale = client.post(
        f"/api/v1/batches/{batch.id}/release/",
        {"password": world.password, "meaning": "Released", "reviewed_digest": seen["digest"]},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "review_changed"
    assert not Signature.objects.exists()

    fresh = client.get(f"/api/v1/batches/{batch.id}/review/").json()
    assert fresh["digest"] != seen["digest"] and len(fresh["reviewed"]["qc_results"]) == 5
    done = client.post(
        f"/api/v1/batches/{batch.id}/release/",
        {"password": world.password, "meaning": "Released", "reviewed_digest": fresh["digest"]},
    )
    assert done.status_code == 200, done.json()
    assert done.json()["release_signature"]["reviewed_digest"] == fresh["digest"]
    assert done.json()["release_signature"]["reviewed"] == fresh["reviewed"]


def test_a_malformed_reviewed_digest_is_a_400(world, client_for):
    batch = quarantined_batch(world)
    response = client_for(world.qa).post(
        f"/api/v1/batches/{batch.id}/release/",
        {"password": world.password, "meaning": "Released", "reviewed_digest": "not-a-digest"},
    )
    assert response.status_code == 400 and "reviewed_digest" in response.json()
    assert not Signature.objects.exists()


def test_the_review_of_a_batch_the_caller_cannot_see_is_a_404(world, client_for):
    batch = quarantined_batch(world)
    outsider = UserFactory(username="doc-else", roles=[Role.CLINICIAN], facilities=[world.other_hospital])
    assert client_for(outsider).get(f"/api/v1/batches/{batch.id}/review/").status_code == 404


def test_custody_records_show_their_chain(world, client_for):
    unit = journey.deliver(world, journey.released_unit(world))

    log = client_for(world.clinician).get(f"/api/v1/units/{unit.unit_id}/custody/").json()["results"]

    assert [r["seq"] for r in log] == [1, 2, 3, 4]
    assert log[0]["prev_hash"] == GENESIS
    assert [r["prev_hash"] for r in log[1:]] == [r["hash"] for r in log[:-1]]
    stored = dict(CustodyRecord.objects.filter(unit=unit).values_list("seq", "hash"))
    assert [r["hash"] for r in log] == [stored[n] for n in (1, 2, 3, 4)]


def test_hash_fields_are_read_only(world, client_for):
    unit = journey.released_unit(world)
    response = client_for(world.integration).post(
        f"/api/v1/units/{unit.unit_id}/custody/",
        {
            "event": "shipped",
            "at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "facility": "hospital",
            "temperature_c": "-150",
            "hash": "f" * 64,
            "prev_hash": "e" * 64,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["prev_hash"] == GENESIS and response.json()["hash"] != "f" * 64
    record = CustodyRecord.objects.get(unit=unit)
    assert (record.prev_hash, record.hash) == (GENESIS, response.json()["hash"])


def test_the_schema_documents_the_chain_and_the_digest(world, client_for):
    schema = client_for(world.qa).get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for name in ("CustodyRecord", "Signature"):
        for field in ("hash", "prev_hash"):
            assert components[name]["properties"][field]["readOnly"] is True, (name, field)
            assert "SHA-256" in components[name]["properties"][field]["description"]
    assert components["Signature"]["properties"]["reviewed_digest"]["readOnly"] is True
    request = schema["paths"]["/api/v1/batches/{id}/release/"]["post"]["requestBody"]["content"]["application/json"]
    release_input = components[request["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "review_changed" in release_input["properties"]["reviewed_digest"]["description"]
    assert "/api/v1/batches/{id}/review/" in schema["paths"]
    release = schema["paths"]["/api/v1/batches/{id}/release/"]["post"]
    assert "review_changed" in release["description"] and "superuser" in release["description"]


def test_the_bedside_verification_joins_the_signature_chain(world, client_for):
    order, unit = journey.bedside(world)
    release = Signature.objects.get()

    response = client_for(world.clinician).post(
        "/api/v1/administrations/",
        {
            "coi": order.coi,
            "unit": unit.unit_id,
            "administered_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
            "route": "iv_infusion",
            "scanned_unit": unit.unit_id,
            "scanned_patient": order.patient.mrn,
            "scanned_birth_date": order.patient.birth_date.isoformat(),
            "verifier_username": world.coordinator.username,
            "verifier_password": world.password,
        },
    )

    assert response.status_code == 201, response.json()
    verified = response.json()["verified_by"]
    assert verified["prev_hash"] == release.hash and SHA256.match(verified["hash"])
    assert verified["reviewed"] == {} and verified["reviewed_digest"] == ""
