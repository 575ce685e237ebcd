"""Electronic signatures: wrong passwords stay on record although the signed change is refused (11.300(d))."""

import pytest

from products.choices import BatchStatus
from products.errors import InvalidSignature, PermissionDeniedError, SigningLocked
from products.models import Batch, Signature, SignatureFailure
from products.services.batches import batch_release
from tests import journey

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
