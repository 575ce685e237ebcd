"""Signing under concurrency, in real concurrent transactions: the lockout cannot be raced, the signature
chain cannot fork."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from products.choices import Role
from products.errors import InvalidSignature, SigningLocked
from products.models import Batch, Signature, SignatureFailure
from products.rules.hashchain import GENESIS
from products.services.batches import batch_release
from products.services.signatures import LOCK_AFTER_FAILURES, signature_verify
from products.tamper import signature_breaks
from tests import journey
from tests.concurrency import race, stampede
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class SlowHasher(PBKDF2PasswordHasher):
    """Slow enough that every concurrent attempt is between its count and its insert at once (the race),
    fast enough for a test."""

    iterations = 60_000


@pytest.fixture
def slow_passwords(settings):
    settings.PASSWORD_HASHERS = ["tests.products.test_signature_races.SlowHasher"]


def quarantined_batch(world: journey.World) -> Batch:
    batch = journey.started_batch(world)
    journey.record_qc(world, batch)
    return batch


def test_concurrent_wrong_passwords_never_get_more_than_the_allowed_attempts(slow_passwords):
    world = journey.build_world()
    world.qa.set_password(world.password)  # hashed with the slow hasher
    world.qa.save()

    def guess() -> None:
        signature_verify(signer=world.qa, password="a-guess", record="batch:1")

    outcomes = stampede(guess, 8)

    # The signer's row lock puts the attempts in turn: five are tried and kept on record, the rest are
    # refused without trying. Without it, all eight would count no failures and try.
    assert sorted(type(o).__name__ for o in outcomes) == ["InvalidSignature"] * 5 + ["SigningLocked"] * 3
    assert SignatureFailure.objects.filter(signer=world.qa).count() == LOCK_AFTER_FAILURES
    # And the right password after them is refused too.
    with pytest.raises(SigningLocked):
        signature_verify(signer=world.qa, password=world.password, record="batch:1")
    with pytest.raises(SigningLocked):
        batch_release(
            batch_id=quarantined_batch(world).id, signer=world.qa, password=world.password, meaning="Released"
        )
    assert not Signature.objects.exists()


def test_the_failure_stays_on_record_although_the_signing_is_refused(slow_passwords):
    world = journey.build_world()
    batch = quarantined_batch(world)
    with pytest.raises(InvalidSignature):
        batch_release(batch_id=batch.id, signer=world.qa, password="wrong", meaning="Released")
    # No test transaction here: what is read was committed.
    assert SignatureFailure.objects.filter(signer=world.qa, record=f"batch:{batch.id}").count() == 1
    assert Batch.objects.get(id=batch.id).release_signature_id is None


def test_a_signature_written_while_another_is_open_links_to_it():
    world = journey.build_world()
    one, two = quarantined_batch(world), quarantined_batch(world)
    # Another signer: the first signer's own row lock must not be what puts them in turn.
    other_qa = UserFactory(username="qa-2", roles=[Role.QA], facilities=[world.factory_site])

    def release(batch: Batch, signer):
        return lambda: batch_release(batch_id=batch.id, signer=signer, password=world.password, meaning="Released")

    # The first keeps its transaction open after signing; the second waits for the chain, then links to it.
    first, second = race(release(one, world.qa), release(two, other_qa))

    assert isinstance(first, Batch) and isinstance(second, Batch), (first, second)
    signatures = list(Signature.objects.order_by("id"))
    assert [s.prev_hash for s in signatures] == [GENESIS, signatures[0].hash]
    assert signatures[0].signed_at <= signatures[1].signed_at
    assert list(signature_breaks()) == []


def test_many_signatures_at_once_make_one_unforked_chain():
    world = journey.build_world()
    # Five signers, so that nothing but the chain's own lock puts them in turn.
    signers = [UserFactory(username=f"qa-{n}", roles=[Role.QA], facilities=[world.factory_site]) for n in range(5)]
    turn = iter([(quarantined_batch(world).id, signer) for signer in signers])  # a list iterator: thread-safe

    def release_next() -> Batch:
        batch_id, signer = next(turn)
        return batch_release(batch_id=batch_id, signer=signer, password=world.password, meaning="Released")

    outcomes = stampede(release_next, 5)

    assert all(isinstance(o, Batch) for o in outcomes), outcomes
    signatures = list(Signature.objects.order_by("id"))
    assert len(signatures) == 5
    assert [s.prev_hash for s in signatures] == [GENESIS, *(s.hash for s in signatures[:-1])]
    assert list(signature_breaks()) == []
