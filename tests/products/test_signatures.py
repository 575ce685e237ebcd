"""Electronic signatures: wrong passwords stay on record although the signed change is refused (11.300(d))."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from products.choices import BatchStatus, Role, SignatureMeaning
from products.errors import InvalidSignature, PermissionDeniedError, ReviewChanged, SigningLocked
from products.models import Batch, QCResult, ReleaseTest, Signature, SignatureFailure
from products.rules.hashchain import digest
from products.services.batches import batch_reject, batch_release, release_review
from products.services.signatures import require_signing_role, signature_capture
from tests import journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_batch():
    world = journey.build_world()
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order)
    journey.record_qc(world, batch)
    return world, batch


def test_release_signature_records_printed_name_time_and_meaning(ready_batch):
    world, batch = ready_batch
    batch = batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released for use")
    signature = batch.release_signature
    assert signature.signer == world.qa
    assert signature.printed_name == world.qa.get_full_name()
    assert signature.meaning == "release" and signature.statement == "Released for use"
    assert signature.record == f"batch:{batch.id}:{batch.lot_number}"


def test_a_wrong_password_is_refused_writes_nothing_and_is_kept_on_record(ready_batch):
    world, batch = ready_batch
    with pytest.raises(InvalidSignature):
        batch_release(batch_id=batch.id, signer=world.qa, password="not-my-password", meaning="Released")
    assert Batch.objects.get(id=batch.id).status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists()
    assert SignatureFailure.objects.filter(signer=world.qa, record=f"batch:{batch.id}").count() == 1


def test_five_wrong_passwords_lock_signing_even_with_the_right_one(ready_batch, mailoutbox, settings):
    settings.ADMINS = ["security@example.org"]
    world, batch = ready_batch
    for _ in range(5):
        with pytest.raises(InvalidSignature):
            batch_release(batch_id=batch.id, signer=world.qa, password="guess", meaning="Released")
    with pytest.raises(SigningLocked):
        batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released")
    assert Batch.objects.get(id=batch.id).status == BatchStatus.QUARANTINE
    assert [m.to for m in mailoutbox] == [["security@example.org"]]


def test_only_qa_may_sign_a_release(ready_batch):
    world, batch = ready_batch
    with pytest.raises(PermissionDeniedError):
        batch_release(batch_id=batch.id, signer=world.manufacturing, password=world.password, meaning="Released")
    assert not SignatureFailure.objects.exists()


# Signing needs the qa role itself -------------------------------------------------------------------------


@pytest.fixture
def root():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_a_superuser_without_the_qa_role_may_not_release_or_reject(ready_batch, root):
    world, batch = ready_batch
    with pytest.raises(PermissionDeniedError, match="qa role"):
        batch_release(batch_id=batch.id, signer=root, password=world.password, meaning="Released")
    with pytest.raises(PermissionDeniedError, match="qa role"):
        batch_reject(batch_id=batch.id, signer=root, password=world.password, meaning="Rejected", reason="x")
    # Refused before any password is tried: nothing is signed, nothing counts towards a lock.
    with pytest.raises(PermissionDeniedError):
        batch_release(batch_id=batch.id, signer=root, password="wrong", meaning="Released")
    assert Batch.objects.get(id=batch.id).status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists() and not SignatureFailure.objects.exists()


def test_a_superuser_with_the_qa_role_may_release(ready_batch, root):
    world, batch = ready_batch
    root.groups.add(Group.objects.get(name=Role.QA))
    batch = batch_release(batch_id=batch.id, signer=root, password=world.password, meaning="Released")
    assert batch.status == BatchStatus.RELEASED and batch.release_signature.signer == root


def test_the_signature_itself_refuses_a_quality_decision_without_the_qa_role(ready_batch, root):
    world, _ = ready_batch
    for meaning in (SignatureMeaning.RELEASE, SignatureMeaning.REJECTION, "hold_decision"):
        with pytest.raises(PermissionDeniedError):
            signature_capture(signer=root, password=world.password, meaning=meaning, statement="x", record="batch:1")
    # A bedside verification is the clinical staff's signature, not a quality decision.
    signature = signature_capture(
        signer=world.clinician,
        password=world.password,
        meaning=SignatureMeaning.VERIFICATION,
        statement="Bedside identity check verified",
        record="unit:U-1",
    )
    assert signature.signer == world.clinician and signature.reviewed == {} and signature.reviewed_digest == ""


def test_an_inactive_qa_user_may_not_sign(ready_batch):
    world, _ = ready_batch
    world.qa.is_active = False
    world.qa.save()
    with pytest.raises(PermissionDeniedError):
        require_signing_role(world.qa, action="release batches")


# A release signature binds to what was reviewed ---------------------------------------------------------


def test_the_release_signature_keeps_the_specification_and_results_it_judged(ready_batch):
    world, batch = ready_batch
    signature = batch_release(
        batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released"
    ).release_signature

    reviewed = signature.reviewed
    assert reviewed["batch"] == {"id": batch.id, "lot_number": batch.lot_number, "product": "cart-x"}
    assert [t["test"] for t in reviewed["specification"]] == ["cd3_purity", "endotoxin", "sterility", "viability"]
    viability = next(t for t in reviewed["specification"] if t["test"] == "viability")
    assert viability == {"test": "viability", "name": "", "unit": "%", "min": "70", "max": None, "expected": ""}
    results = {r["test"]: r for r in reviewed["qc_results"]}
    assert results["viability"]["value"] == "92" and results["viability"]["passed"] is True
    assert results["sterility"]["value"] == "negative"
    assert set(results) == {"viability", "cd3_purity", "sterility", "endotoxin"}
    # The digest, recomputed from the stored document (SHA-256 of its canonical JSON).
    assert signature.reviewed_digest == digest(reviewed) == digest(release_review(batch))


def test_a_later_specification_change_or_result_leaves_the_signed_digest_as_it_was(ready_batch):
    world, batch = ready_batch
    signature = batch_release(
        batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released"
    ).release_signature
    signed = signature.reviewed_digest

    ReleaseTest.objects.filter(product=batch.product, test="viability").update(min_value=Decimal("95"))
    spec = ReleaseTest.objects.get(product=batch.product, test="endotoxin")
    QCResult.objects.create(
        batch=batch, spec=spec, value_numeric=Decimal("4.9"), unit="EU/mL", tested_at=timezone.now(), passed=True
    )

    signature.refresh_from_db()
    assert signature.reviewed_digest == signed == digest(signature.reviewed)
    assert next(t for t in signature.reviewed["specification"] if t["test"] == "viability")["min"] == "70"
    assert len(signature.reviewed["qc_results"]) == 4
    # What the batch would be judged on now is another document.
    assert digest(release_review(batch)) != signed


def test_a_release_against_a_review_that_has_changed_since_is_refused(ready_batch):
    world, batch = ready_batch
    seen = digest(release_review(batch))
    journey.record_qc(world, batch, {"viability": 71})  # a retest comes in while QA reads the page

    with pytest.raises(ReviewChanged):
        batch_release(batch_id=batch.id, signer=world.qa, password=world.password, meaning="x", reviewed_digest=seen)
    with pytest.raises(ReviewChanged):
        batch_reject(
            batch_id=batch.id, signer=world.qa, password=world.password, meaning="x", reason="y", reviewed_digest=seen
        )
    assert Batch.objects.get(id=batch.id).status == BatchStatus.QUARANTINE
    assert not Signature.objects.exists()

    fresh = digest(release_review(batch))
    batch = batch_release(
        batch_id=batch.id, signer=world.qa, password=world.password, meaning="Released", reviewed_digest=fresh
    )
    assert batch.release_signature.reviewed_digest == fresh
    assert len(batch.release_signature.reviewed["qc_results"]) == 5


def test_a_rejection_keeps_what_it_judged_too(ready_batch):
    world, batch = ready_batch
    batch = batch_reject(batch_id=batch.id, signer=world.qa, password=world.password, meaning="x", reason="Low yield")
    signature = batch.rejection_signature
    assert signature.reviewed_digest == digest(signature.reviewed) == digest(release_review(batch))
