"""Allogeneic donors on the product side: a code, screening, infectious-disease tests and QA's e-signed eligibility
determination (21 CFR 1271 subpart C). The donor's identity is on the patient side (tracker.services.donors)."""

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from products.choices import (
    DiseaseTest,
    DiseaseTestResult,
    EligibilityDecision,
    FacilityKind,
    Role,
    ScreeningKind,
    ScreeningOutcome,
    SignatureMeaning,
)
from products.errors import EligibilityIncomplete, PermissionDeniedError, ReactiveTest, ScreeningRisk
from products.models import Donor, DonorDetermination, DonorScreening, DonorTest, Facility
from products.rules import donors as donor_rules
from products.rules.hla import InvalidTyping, parse_typing
from products.selectors import donor_eligibility_records, donors_visible_to
from products.services.collections import not_in_future
from products.services.guards import require_member, require_role
from products.services.signatures import require_signing_role, signature_capture, signature_verify

# Who registers and screens donors: the staff of the collection site (and integrations of its systems).
DONOR_ROLES = (Role.COORDINATOR, Role.CLINICIAN, Role.INTEGRATION)
# Test results come from the laboratory (an integration), a coordinator, or QA transcribing a report.
TEST_ROLES = (Role.COORDINATOR, Role.INTEGRATION, Role.QA)

# Crockford's base 32 (no I, L, O, U): read aloud and typed without confusion.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_ATTEMPTS = 5

_REFUSED = {
    donor_rules.INCOMPLETE: EligibilityIncomplete,
    donor_rules.REACTIVE: ReactiveTest,
    donor_rules.SCREENING_RISK: ScreeningRisk,
}


def hla_clean(value: object, *, field: str = "hla") -> dict[str, list[str]]:
    """An HLA typing in allele notation as stored (loci -> alleles), or a 400 on `field`."""
    try:
        typing = parse_typing(value)
    except InvalidTyping as exc:
        raise ValidationError({field: [str(exc)]}) from exc
    return {locus: list(alleles) for locus, alleles in typing.items()}


def new_donor_code() -> str:
    """`DN-` and 8 random characters: no name, birth date, SSN or MRN can be read from it (21 CFR 1271.290)."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"DN-{body[:4]}-{body[4:]}"


@transaction.atomic
def donor_create(
    *, actor: User, facility: Facility, hla: Mapping[str, Any] | None = None, now: datetime | None = None
) -> Donor:
    """A new donor on the product side, known by a server-generated code from now on."""
    require_role(actor, *DONOR_ROLES, action="register donors")
    require_member(actor, facility)
    if facility.kind == FacilityKind.MANUFACTURING:
        raise ValidationError({"facility": ["Donors are screened at a collection or treatment facility."]})
    typing = hla_clean(hla)
    for _ in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Donor.objects.create(donor_code=new_donor_code(), facility=facility, hla=typing)
        except IntegrityError:  # the one chance in 10^12 that the code exists: draw again
            continue
    raise IntegrityError("Could not draw an unused donor code.")


def _visible_donor(actor: User, donor_id: int, *, lock: bool = False) -> Donor:
    """The donor, if the actor works where the donor's records are kept (products.selectors.donors_visible_to)."""
    if not donors_visible_to(actor).filter(pk=donor_id).exists():
        raise PermissionDeniedError("You are not a member of a facility that holds this donor's records.")
    donors = Donor.objects.select_related("facility")
    return (donors.select_for_update(of=("self",)) if lock else donors).get(pk=donor_id)


@transaction.atomic
def donor_hla_update(*, actor: User, donor_id: int, hla: Mapping[str, Any] | None) -> Donor:
    require_role(actor, *DONOR_ROLES, action="record donors' HLA typing")
    donor = _visible_donor(actor, donor_id, lock=True)
    require_member(actor, donor.facility)
    typing = hla_clean(hla)
    if typing != donor.hla:
        donor.hla = typing
        donor.save(update_fields=["hla", "updated_at"])
    return donor


@transaction.atomic
def donor_screening_record(
    *,
    actor: User,
    donor_id: int,
    kind: str,
    outcome: str,
    performed_at: datetime,
    findings: str = "",
    now: datetime | None = None,
) -> DonorScreening:
    """A screening (21 CFR 1271.75) at the donor's facility, by the person recording it."""
    require_role(actor, *DONOR_ROLES, action="record donor screening")
    donor = _visible_donor(actor, donor_id, lock=True)
    require_member(actor, donor.facility)
    if kind not in ScreeningKind.values:
        raise ValidationError({"kind": [f"One of {', '.join(ScreeningKind.values)}."]})
    if outcome not in ScreeningOutcome.values:
        raise ValidationError({"outcome": [f"One of {', '.join(ScreeningOutcome.values)}."]})
    not_in_future(performed_at, "performed_at", now=now)
    if outcome == ScreeningOutcome.RISK_FOUND and not findings.strip():
        raise ValidationError({"findings": ["Say what was found."]})
    return DonorScreening.objects.create(
        donor=donor, kind=kind, outcome=outcome, performed_at=performed_at, performed_by=actor, findings=findings
    )


@transaction.atomic
def donor_test_record(
    *,
    actor: User,
    donor_id: int,
    test: str,
    result: str,
    sampled_at: datetime,
    note: str = "",
    now: datetime | None = None,
) -> DonorTest:
    """A test result with its specimen's date; a repeat adds a result, it never replaces one."""
    require_role(actor, *TEST_ROLES, action="record donor test results")
    donor = _visible_donor(actor, donor_id, lock=True)
    if test not in DiseaseTest.values:
        raise ValidationError({"test": [f"One of {', '.join(DiseaseTest.values)}."]})
    if result not in DiseaseTestResult.values:
        raise ValidationError({"result": [f"One of {', '.join(DiseaseTestResult.values)}."]})
    not_in_future(sampled_at, "sampled_at", now=now)
    return DonorTest.objects.create(
        donor=donor, test=test, result=result, sampled_at=sampled_at, recorded_by=actor, note=note
    )


def determination_review(donor: Donor) -> dict[str, Any]:
    """What QA judges to determine a donor: the required tests, the screenings, every test result and every
    recovery, as the signature keeps them."""
    records = donor_eligibility_records(donor)
    return {
        "donor": donor.donor_code,
        "required_tests": list(records.required),
        "screenings": [
            {"kind": s.kind, "outcome": s.outcome, "performed_at": s.performed_at, "by": s.performed_by_id}
            for s in donor.screenings.order_by("performed_at", "id")
        ],
        "tests": [
            {"test": t.test, "result": t.result, "sampled_at": t.sampled_at}
            for t in donor.tests.order_by("sampled_at", "id")
        ],
        "recoveries": [{"din": r.name, "collected_at": r.collected_at, "method": r.method} for r in records.recoveries],
    }


def _check_determination(donor: Donor, determination: str) -> None:
    """An `eligible` determination needs every record in order (products.rules.donors); `ineligible` is always
    possible: it only restricts use."""
    if determination not in EligibilityDecision.values:
        raise ValidationError({"determination": [f"Determine {' or '.join(EligibilityDecision.values)}."]})
    if determination != EligibilityDecision.ELIGIBLE:
        return
    records = donor_eligibility_records(donor)
    refusal = donor_rules.eligibility_refusal(
        required=records.required, tests=records.tests, screenings=records.screenings, recoveries=records.recoveries
    )
    if refusal is not None:
        raise _REFUSED[refusal.code](f"Donor {donor.donor_code}: {refusal.reason}", tests=list(refusal.tests))


def donor_determine(
    *,
    donor_id: int,
    signer: User,
    determination: str,
    password: str,
    meaning: str,
    now: datetime | None = None,
) -> DonorDetermination:
    """QA determines the donor eligible or ineligible with an electronic signature (21 CFR 1271.50, 11.50).

    `eligible` is refused, before any password is tried, when a screening or a required test is missing or was
    taken outside its window (409 eligibility_incomplete), a test is not negative (409 reactive_test) or screening
    found a risk (409 screening_risk). The signature keeps what it judged (`determination_review`)."""
    require_signing_role(signer, action="determine donor eligibility")
    _check_determination(_visible_donor(signer, donor_id), determination)
    signature_verify(signer=signer, password=password, record=f"donor:{donor_id}", now=now)
    return _donor_determine(
        donor_id=donor_id, signer=signer, determination=determination, password=password, meaning=meaning, now=now
    )


@transaction.atomic
def _donor_determine(
    *,
    donor_id: int,
    signer: User,
    determination: str,
    password: str,
    meaning: str,
    now: datetime | None,
) -> DonorDetermination:
    # The donor's row lock orders the determination with a test result recorded at the same moment.
    donor = _visible_donor(signer, donor_id, lock=True)
    _check_determination(donor, determination)
    signature = signature_capture(
        signer=signer,
        password=password,
        meaning=SignatureMeaning.DONOR_ELIGIBILITY,
        statement=meaning or f"Donor {donor.donor_code} determined {determination}",
        record=f"donor:{donor.pk}:{donor.donor_code}:{determination}",
        reviewed=determination_review(donor),
        now=now,
    )
    record = DonorDetermination.objects.create(
        donor=donor,
        determination=determination,
        signature=signature,
        determined_at=signature.signed_at,
    )
    donor.eligibility = determination
    donor.save(update_fields=["eligibility", "updated_at"])
    return record
