"""Donors through the services: a code without identity, screening, tests, and QA's e-signed determination with
each of its refusals (which write nothing)."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import Eligibility
from products.errors import EligibilityIncomplete, PermissionDeniedError, ReactiveTest, ScreeningRisk
from products.models import Donor, DonorDetermination, Signature, SignatureFailure
from products.services.donors import donor_create, donor_determine, donor_test_record
from tests.allogeneic import (
    ALL_TESTS,
    determine,
    donor_batch,
    donor_collection,
    donor_qa,
    msc_product,
    record_tests,
    register_donor,
    screen,
)
from tests.factories import UserFactory
from tests.journey import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world()


def test_a_donor_is_known_on_the_product_side_by_a_code_without_identity(world):
    identity = register_donor(world)
    donor = identity.donor

    assert re.fullmatch(r"DN-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", donor.donor_code)
    for personal in (identity.given_name, identity.family_name, identity.birth_date.strftime("%Y%m%d"), "555"):
        assert personal.upper() not in donor.donor_code
    assert {f.name for f in Donor._meta.concrete_fields} == {
        "id",
        "donor_code",
        "facility",
        "eligibility",
        "hla",
        "created_at",
        "updated_at",
    }
    assert donor.eligibility == Eligibility.PENDING
    assert donor.hla["A"] == ["A*02:01", "A*01:01"]


def test_donor_codes_are_distinct(world):
    codes = {donor_create(actor=world.coordinator, facility=world.collection_site).donor_code for _ in range(20)}
    assert len(codes) == 20


def test_an_hla_typing_not_in_allele_notation_is_a_400_and_writes_nothing(world):
    with pytest.raises(ValidationError) as refused:
        register_donor(world, hla={"A": ["A2", "A*01:01"]})
    assert "hla" in refused.value.message_dict
    assert not Donor.objects.exists()


def test_donors_are_registered_by_the_collection_sites_staff_only(world):
    with pytest.raises(PermissionDeniedError):
        donor_create(actor=world.manufacturing, facility=world.collection_site)
    with pytest.raises(PermissionDeniedError):  # a clinician of another facility
        donor_create(actor=world.clinician, facility=world.collection_site)
    with pytest.raises(ValidationError):
        donor_create(actor=world.integration, facility=world.factory_site)


def _ready(world):
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor)
    return donor


def test_qa_determines_a_donor_eligible_with_a_signature_that_keeps_what_it_judged(world):
    donor = _ready(world)

    determine(world, donor)

    donor.refresh_from_db()
    record = DonorDetermination.objects.get()
    assert (donor.eligibility, record.determination) == ("eligible", "eligible")
    signature = record.signature
    assert (signature.signer.username, signature.meaning) == ("qa-donors", "eligibility")
    assert {t["test"] for t in signature.reviewed["tests"]} == set(ALL_TESTS)
    assert len(signature.reviewed["screenings"]) == 2 and signature.reviewed_digest


def test_eligible_with_a_required_test_missing_is_incomplete_and_writes_nothing(world):
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor, tests=["hiv_1_2", "hbv", "hcv"])

    with pytest.raises(EligibilityIncomplete) as refused:
        determine(world, donor)

    assert refused.value.extra["tests"] == ["syphilis"]
    donor.refresh_from_db()
    assert donor.eligibility == "pending"
    assert not DonorDetermination.objects.exists() and not Signature.objects.exists()


def test_a_test_required_by_the_donors_product_is_needed_once_the_donor_gave_for_it(world):
    product = msc_product(world)  # requires all seven
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor, tests=["hiv_1_2", "hbv", "hcv", "syphilis"])
    determine(world, donor)  # the base tests suffice while the donor has given for no product
    donor_collection(world, donor, product)

    with pytest.raises(EligibilityIncomplete) as refused:
        determine(world, donor)

    assert refused.value.extra["tests"] == ["htlv_1_2", "cmv", "wnv"]


def test_eligible_with_a_reactive_test_is_refused_and_writes_nothing(world):
    donor = _ready(world)
    donor_test_record(
        actor=world.integration, donor_id=donor.pk, test="hcv", result="reactive", sampled_at=timezone.now()
    )

    with pytest.raises(ReactiveTest) as refused:
        determine(world, donor)

    assert refused.value.extra["tests"] == ["hcv"]
    assert not DonorDetermination.objects.exists()
    # ineligible may always be determined
    determine(world, donor, "ineligible")
    donor.refresh_from_db()
    assert donor.eligibility == "ineligible"


def test_a_specimen_outside_the_recoverys_window_is_incomplete(world):
    product = msc_product(world)
    donor = register_donor(world).donor
    screen(world, donor)
    record_tests(world, donor, sampled_at=timezone.now() - timedelta(days=10))
    donor_collection(world, donor, product, method="peripheral_blood")  # 7 days before at most

    with pytest.raises(EligibilityIncomplete, match=r"1271\.80"):
        determine(world, donor)


def test_a_risk_found_at_screening_refuses_eligibility(world):
    from products.services.donors import donor_screening_record

    donor = _ready(world)
    donor_screening_record(
        actor=world.coordinator,
        donor_id=donor.pk,
        kind="history",
        outcome="risk_found",
        performed_at=timezone.now(),
        findings="Travel to a WNV area",
    )
    with pytest.raises(ScreeningRisk):
        determine(world, donor)


def test_no_screening_is_incomplete(world):
    donor = register_donor(world).donor
    record_tests(world, donor)
    with pytest.raises(EligibilityIncomplete, match="Screening"):
        determine(world, donor)


def test_only_qa_itself_determines_and_no_password_is_tried_before_the_records_are_checked(world):
    donor = register_donor(world).donor
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(PermissionDeniedError):
        donor_determine(donor_id=donor.pk, signer=root, determination="eligible", password=world.password, meaning="")
    # QA of a site that holds none of the donor's records
    outsider = UserFactory(username="qa-out", roles=["qa"], facilities=[world.hospital])
    with pytest.raises(PermissionDeniedError):
        donor_determine(donor_id=donor.pk, signer=outsider, determination="ineligible", password="x", meaning="")
    # incomplete records: refused before the (wrong) password counts against anyone
    with pytest.raises(EligibilityIncomplete):
        donor_determine(
            donor_id=donor.pk, signer=donor_qa(world), determination="eligible", password="wrong", meaning=""
        )
    assert not SignatureFailure.objects.exists()


def test_qa_at_the_manufacturing_site_sees_the_donor_once_cells_come_its_way(world):
    product = msc_product(world, manufacturing_facility=None)
    donor = _ready(world)
    with pytest.raises(PermissionDeniedError):  # the donor's records are at the collection site only
        determine(world, donor, signer=world.qa)
    collection = donor_collection(world, donor, product)
    donor_batch(world, collection, units=1, release=False)

    determine(world, donor, signer=world.qa)
    donor.refresh_from_db()
    assert donor.eligibility == "eligible"
