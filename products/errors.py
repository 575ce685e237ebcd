"""Domain errors: a valid request that breaks a rule. The API turns them into 409 {code, detail}."""

from typing import Any


class DomainError(Exception):
    code = "rule_violation"
    default_detail = "The request breaks a rule."
    status_code = 409

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    default_detail = "You may not do this."
    status_code = 403


class InvalidSignature(DomainError):
    code = "invalid_signature"
    default_detail = "The password given for the electronic signature is not correct."
    status_code = 403


class IllegalTransition(DomainError):
    code = "illegal_transition"
    default_detail = "This change is not allowed in the record's current state."


class ChainClosed(DomainError):
    code = "chain_closed"
    default_detail = "This chain of identity is cancelled or already administered."


class QCIncomplete(DomainError):
    code = "qc_incomplete"
    default_detail = "Not every test of the release specification has a result."


class QCFailed(DomainError):
    code = "qc_failed"
    default_detail = "A test of the release specification failed."


class NotReleasable(DomainError):
    code = "not_releasable"
    default_detail = "The batch is already released or rejected."


class BatchClosed(DomainError):
    code = "batch_closed"
    default_detail = "The batch is released or rejected: its records are closed."


class UnitNotReleased(DomainError):
    code = "unit_not_released"
    default_detail = "The unit's batch is not released."


class UnitExpired(DomainError):
    code = "unit_expired"
    default_detail = "The unit is past its expiry or its use-by time after thaw."


class WrongFacility(DomainError):
    code = "wrong_facility"
    default_detail = "The unit is not at, or not bound for, this facility."


class OutOfSequence(DomainError):
    code = "out_of_sequence"
    default_detail = "The event is dated before the unit's previous event."


class NotCollected(DomainError):
    code = "not_collected"
    default_detail = "No cells have been collected for this chain yet."


class SigningLocked(DomainError):
    code = "signing_locked"
    default_detail = "Too many wrong signature passwords: signing is locked for a while and the attempts are reported."
    status_code = 403


class ReviewChanged(DomainError):
    code = "review_changed"
    default_detail = (
        "The QC results or the release specification changed after the page the signer reviewed: review again."
    )


class UnitOnHold(DomainError):
    code = "unit_on_hold"
    default_detail = "The unit is on hold: QA must release the hold before it is shipped, thawed, dispensed or given."


class HoldClosed(DomainError):
    code = "hold_closed"
    default_detail = "QA has already decided this hold."


class AlreadyInvalidated(DomainError):
    code = "already_invalidated"
    default_detail = "This QC result is already invalidated."


class ExportTooLarge(DomainError):
    code = "export_too_large"
    default_detail = "The export is larger than this server gives in one answer: narrow it."


class BatchOnHold(DomainError):
    code = "batch_on_hold"
    default_detail = "The batch is under an open hold: QA decides the hold before the batch is released."


# --- Allogeneic donors and allocation (21 CFR 1271 subpart C) ----------------------------------------------------


class EligibilityIncomplete(DomainError):
    code = "eligibility_incomplete"
    default_detail = "The donor's screening or required tests are not complete: the donor cannot be found eligible."


class ReactiveTest(DomainError):
    code = "reactive_test"
    default_detail = "A test of the donor is not negative: the donor cannot be found eligible."


class ScreeningRisk(DomainError):
    code = "screening_risk"
    default_detail = "The donor's screening found a risk factor: the donor cannot be found eligible."


class NoEligibleUnit(DomainError):
    code = "no_eligible_unit"
    default_detail = "No unit in inventory may be allocated to this order."


class UnitNotAvailable(DomainError):
    code = "unit_not_available"
    default_detail = "The unit may not be allocated: it is held, expired, not released, allocated or not in stock."


class DonorIneligible(DomainError):
    code = "donor_ineligible"
    default_detail = "The unit's donor is not determined eligible, and no documented exception was given."


class HlaMismatch(DomainError):
    code = "hla_mismatch"
    default_detail = "The unit's donor matches the patient at fewer HLA alleles than the product requires."
