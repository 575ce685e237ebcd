"""The bedside hard stops through the service: two people, two identifiers, and the order of the checks (nobody who
may not record the administration can test or lock anyone's signing password)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import Role, UnitStatus
from products.errors import InvalidSignature, PermissionDeniedError, SigningLocked, UnitExpired, UnitNotReleased
from products.models import FacilityMembership, Signature, SignatureFailure, Unit
from tests import journey
from tests.factories import UserFactory
from tracker.errors import IdentityMismatch, UnitNotAtSite
from tracker.models import Administration, ScheduledCheck
from tracker.services.administrations import administration_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def ready(world):
    order, unit = journey.bedside(world)
    return order, unit


@pytest.fixture
def qa_signer(world):
    """A QA user at the hospital too: the one whose signing an attacker would like to lock (batch release)."""
    FacilityMembership.objects.create(user=world.qa, facility=world.hospital)
    return world.qa


def administer(world, order, unit, **overrides):
    fields = {
        "actor": world.clinician,
        "coi": order.coi,
        "unit_id": unit.unit_id,
        "administered_at": timezone.now() - timedelta(minutes=1),
        "route": "iv_infusion",
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        **journey.bedside_check(world, order, world.clinician),
    }
    fields.update(overrides)
    return administration_record(**fields)


def outcome(call):
    """The exception class and message a call ends with (None when it succeeds)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        detail = exc.message_dict if isinstance(exc, ValidationError) else str(exc)
        return type(exc), detail


def answer(call):
    """`outcome`, hashable: the exception class and its message as text."""
    result = outcome(call)
    return None if result is None else (result[0], repr(result[1]))
    return None


def assert_nothing_written(unit):
    assert not Administration.objects.exists()
    assert not ScheduledCheck.objects.exists()
    assert not Signature.objects.filter(meaning="verification").exists()
    assert Unit.objects.get(id=unit.id).status != UnitStatus.ADMINISTERED


# Two people, two identifiers --------------------------------------------------------------------------------------


def test_an_administration_is_signed_by_the_second_person_and_keeps_the_scanned_birth_date(world, ready):
    order, unit = ready

    administration = administer(world, order, unit)

    assert administration.verification_signature.signer == world.coordinator
    assert administration.scanned_birth_date == order.patient.birth_date
    assert not SignatureFailure.objects.exists()


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ({"verifier_username": ""}, "verifier_username"),
        ({"verifier_username": "", "verifier_password": ""}, "verifier_username"),
        ({"verifier_password": ""}, "verifier_password"),
        ({"scanned_birth_date": None}, "scanned_birth_date"),
    ],
)
def test_an_administration_without_a_second_person_or_the_birth_date_is_refused(world, ready, missing, field):
    order, unit = ready
    with pytest.raises(ValidationError) as error:
        administer(world, order, unit, **missing)
    assert field in error.value.message_dict
    assert_nothing_written(unit)


def test_a_wristband_birth_date_that_is_not_the_patients_is_identity_mismatch(world, ready):
    order, unit = ready
    with pytest.raises(IdentityMismatch, match="birth date"):
        administer(world, order, unit, scanned_birth_date=order.patient.birth_date - timedelta(days=1))
    assert_nothing_written(unit)
    assert not SignatureFailure.objects.exists()


@pytest.mark.parametrize("who", ["qa", "manufacturing", "integration", "other_clinician", "inactive", "nobody"])
def test_a_verifier_who_is_not_a_clinician_or_coordinator_of_the_patients_facility_is_refused(world, ready, who):
    order, unit = ready
    FacilityMembership.objects.create(user=world.qa, facility=world.hospital)
    FacilityMembership.objects.create(user=world.manufacturing, facility=world.hospital)
    inactive = UserFactory(username="gone", roles=[Role.CLINICIAN], facilities=[world.hospital], is_active=False)
    username = {"inactive": inactive.username, "nobody": "no-such-user"}.get(who) or getattr(world, who).username

    right = outcome(lambda: administer(world, order, unit, verifier_username=username))
    wrong = outcome(lambda: administer(world, order, unit, verifier_username=username, verifier_password="guess"))

    # Refused on the name, before any password is tried: the same answer for the right and a wrong password,
    # the same words whoever the name is, and nothing on anyone's record.
    assert right == wrong
    assert right[0] is ValidationError and list(right[1]) == ["verifier_username"]
    assert "another active clinician or coordinator of City Hospital" in right[1]["verifier_username"][0]
    assert not SignatureFailure.objects.exists()
    assert_nothing_written(unit)


def test_the_administering_user_cannot_be_their_own_second_person(world, ready):
    order, unit = ready
    with pytest.raises(ValidationError) as error:
        administer(world, order, unit, verifier_username=world.clinician.username.upper())
    assert "second person" in error.value.message_dict["verifier_username"][0]
    assert not SignatureFailure.objects.exists()
    assert_nothing_written(unit)


def test_a_superuser_is_no_second_person_without_the_role_and_the_membership(world, ready):
    order, unit = ready
    UserFactory(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(ValidationError):
        administer(world, order, unit, verifier_username="root")
    assert not SignatureFailure.objects.exists()


# The order of the checks: nobody who may not record it learns or locks anything ----------------------------------


def test_a_wrong_verifier_password_of_an_allowed_check_is_refused_and_stays_on_record(world, ready):
    order, unit = ready
    with pytest.raises(InvalidSignature):
        administer(world, order, unit, verifier_password="not-theirs")
    assert_nothing_written(unit)
    # 21 CFR 11.300(d): the failed attempt is kept although the administration is refused.
    assert SignatureFailure.objects.filter(signer=world.coordinator).count() == 1


def test_five_wrong_verifier_passwords_lock_that_persons_signing(world, ready):
    order, unit = ready
    for _ in range(5):
        with pytest.raises(InvalidSignature):
            administer(world, order, unit, verifier_password="not-theirs")

    with pytest.raises(SigningLocked):
        administer(world, order, unit)  # even with the right password now

    assert SignatureFailure.objects.filter(signer=world.coordinator).count() == 5
    assert_nothing_written(unit)


def qa_can_still_release(world):
    batch = journey.started_batch(world)
    journey.make_unit(world, batch, unit_id="BAG-RELEASE")
    journey.record_qc(world, batch)
    return journey.release(world, batch)


def _tries_qa_passwords(world, qa_signer, call):
    """Five attempts with the QA user's name and wrong passwords, then one with the right one: the answers."""
    answers = {answer(lambda: call(verifier_username=qa_signer.username, verifier_password="guess")) for _ in range(5)}
    answers.add(answer(lambda: call(verifier_username=qa_signer.username, verifier_password=world.password)))
    return answers


def test_a_role_that_may_not_record_administrations_cannot_test_or_lock_a_qa_users_password(world, ready, qa_signer):
    order, unit = ready
    FacilityMembership.objects.create(user=world.manufacturing, facility=world.hospital)

    answers = _tries_qa_passwords(
        world, qa_signer, lambda **v: administer(world, order, unit, actor=world.manufacturing, **v)
    )

    assert len(answers) == 1 and next(iter(answers))[0] is PermissionDeniedError
    assert not SignatureFailure.objects.exists()
    # The QA user can still sign a release.
    assert qa_can_still_release(world).status == "released"


def test_a_user_of_another_hospital_cannot_test_or_lock_a_qa_users_password(world, ready, qa_signer):
    order, unit = ready
    answers = _tries_qa_passwords(
        world, qa_signer, lambda **v: administer(world, order, unit, actor=world.other_clinician, **v)
    )
    # Another hospital's order answers as one that does not exist (it tells nothing about other facilities).
    assert answers == {(ValidationError, str({"coi": [f"No order with COI {order.coi}."]}))}
    assert not SignatureFailure.objects.exists()


def test_a_wrong_patient_scan_learns_nothing_about_a_password(world, ready, qa_signer):
    order, unit = ready
    answers = _tries_qa_passwords(
        world, qa_signer, lambda **v: administer(world, order, unit, scanned_patient="MRN-SOMEONE-ELSE", **v)
    )
    assert len(answers) == 1 and next(iter(answers))[0] is IdentityMismatch
    assert not SignatureFailure.objects.exists()


@pytest.mark.parametrize("state", ["not_released", "not_at_site", "expired"])
def test_a_unit_that_may_not_be_given_learns_nothing_about_a_password(world, qa_signer, state):
    if state == "not_released":
        order = journey.make_order(world, product=journey.product_of(world))
        journey.collect(world, order)
        unit, refusal = journey.make_unit(world, journey.start_batch(world, order), unit_id="BAG-Q"), UnitNotReleased
    elif state == "not_at_site":
        order = journey.make_order(world, product=journey.product_of(world))
        unit = journey.ship(world, journey.released_unit(world, order, unit_id="BAG-T"))
        refusal = UnitNotAtSite
    else:
        order, unit = journey.bedside(world)
        Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() - timedelta(minutes=5))
        refusal = UnitExpired

    answers = _tries_qa_passwords(world, qa_signer, lambda **v: administer(world, order, unit, **v))

    assert len(answers) == 1 and next(iter(answers))[0] is refusal
    assert not SignatureFailure.objects.exists()


def test_a_qa_verifier_is_refused_on_the_name_before_the_password(world, ready, qa_signer):
    order, unit = ready
    answers = _tries_qa_passwords(world, qa_signer, lambda **v: administer(world, order, unit, **v))
    assert len(answers) == 1 and next(iter(answers))[0] is ValidationError
    assert not SignatureFailure.objects.exists()
    assert_nothing_written(unit)
