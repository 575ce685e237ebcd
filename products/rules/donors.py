"""Donor eligibility (21 CFR 1271 subpart C): screening, testing, sample timing, the determination, what a unit of
a donor may be used for and the labelling it then carries. Pure: no database.

The services give these functions the records (tests, screenings, recoveries) and act on the answer: QA's
determination (products.services.donors) and the allocation of a unit to an order (products.services.allocations)
ask the same questions here, so the rule is written once.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from products.choices import (
    CollectionMethod,
    DiseaseTest,
    DiseaseTestResult,
    DonorException,
    Eligibility,
    ScreeningKind,
    ScreeningOutcome,
)
from products.rules.labelling import AUTOLOGOUS_ONLY  # 21 CFR 1271.90(c)(1): no determination, so labelled

# 21 CFR 1271.85(a): every donor is tested for HIV-1/2, HBV, HCV and Treponema pallidum.
BASE_TESTS: tuple[str, ...] = (DiseaseTest.HIV_1_2, DiseaseTest.HBV, DiseaseTest.HCV, DiseaseTest.SYPHILIS)
# 21 CFR 1271.85(b): donors of viable, leukocyte-rich cells are also tested for HTLV-I/II and CMV.
LEUKOCYTE_RICH_TESTS: tuple[str, ...] = (DiseaseTest.HTLV_1_2, DiseaseTest.CMV)
# 21 CFR 1271.85(b)(2): a CMV-reactive donor is not thereby ineligible; release follows the establishment's SOP.
REACTIVE_ALLOWED = frozenset({DiseaseTest.CMV})

# 21 CFR 1271.80(b): the specimen is taken at recovery, or up to 7 days before or after it; for peripheral blood
# stem cells (collected by apheresis) and bone marrow, up to 30 days before recovery.
SAMPLE_WINDOW = timedelta(days=7)
SAMPLE_WINDOW_BEFORE_STEM_CELLS = timedelta(days=30)
STEM_CELL_METHODS = frozenset({CollectionMethod.APHERESIS, CollectionMethod.BONE_MARROW})

# 21 CFR 1271.60(d)(2) and 1271.65(b)(2): what the label of such a unit says.
BIOHAZARD = "BIOHAZARD"  # the Biohazard legend of 21 CFR 1271.3(h)
ADVISE_PATIENT = "WARNING: Advise patient of communicable disease risks"
NOT_EVALUATED = "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"

# 21 CFR 1271.60(d)(1): before the determination, only under documented urgent medical need; 1271.65(b)(1)(i),
# (iii): an ineligible donor's cells for a first- or second-degree blood relative, or under urgent medical need.
ALLOWED_EXCEPTIONS: dict[str, frozenset[str]] = {
    Eligibility.PENDING: frozenset({DonorException.URGENT_MEDICAL_NEED}),
    Eligibility.INELIGIBLE: frozenset({DonorException.URGENT_MEDICAL_NEED, DonorException.RELATED_DONOR}),
}

INCOMPLETE = "eligibility_incomplete"
REACTIVE = "reactive_test"
SCREENING_RISK = "screening_risk"


@dataclass(frozen=True)
class SpecimenResult:
    test: str
    result: str
    sampled_at: datetime


@dataclass(frozen=True)
class ScreeningRecord:
    kind: str
    outcome: str


@dataclass(frozen=True)
class Recovery:
    """A collection (recovery) of the donor's cells: when, how, and what to call it in a message."""

    collected_at: datetime
    method: str
    name: str


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str
    tests: tuple[str, ...] = ()


@dataclass(frozen=True)
class DonationStatus:
    """What a donation (one recovery of one donor) may be used for now, and why."""

    eligibility: Eligibility
    reasons: tuple[str, ...] = ()
    reactive: tuple[str, ...] = field(default=())  # tests with a disqualifying result on record

    @property
    def eligible(self) -> bool:
        return self.eligibility == Eligibility.ELIGIBLE


def label(test: str) -> str:
    return str(DiseaseTest(test).label)


def required_tests(*product_sets: Iterable[str]) -> tuple[str, ...]:
    """The tests a donor needs: the base tests for every donor and those the products of the donations name."""
    wanted = set(BASE_TESTS).union(*product_sets)
    return tuple(test for test in DiseaseTest.values if test in wanted)


def sample_window(method: str) -> tuple[timedelta, timedelta]:
    """(how long before, how long after) a recovery its donor's specimen may be taken."""
    before = SAMPLE_WINDOW_BEFORE_STEM_CELLS if method in STEM_CELL_METHODS else SAMPLE_WINDOW
    return before, SAMPLE_WINDOW


def sampled_in_window(*, sampled_at: datetime, recovery: Recovery) -> bool:
    before, after = sample_window(recovery.method)
    return recovery.collected_at - before <= sampled_at <= recovery.collected_at + after


def disqualifying(tests: Iterable[SpecimenResult]) -> tuple[str, ...]:
    """Tests with a result that makes the donor ineligible (reactive or indeterminate; CMV excepted)."""
    bad = {t.test for t in tests if t.result != DiseaseTestResult.NEGATIVE and t.test not in REACTIVE_ALLOWED}
    return tuple(test for test in DiseaseTest.values if test in bad)


def _missing(required: Iterable[str], tests: Iterable[SpecimenResult], recovery: Recovery | None) -> tuple[str, ...]:
    """Required tests without a negative result (taken within the recovery's window, when a recovery is given)."""
    covered = {
        t.test
        for t in tests
        if t.result == DiseaseTestResult.NEGATIVE
        and (recovery is None or sampled_in_window(sampled_at=t.sampled_at, recovery=recovery))
    }
    return tuple(test for test in required if test not in covered)


def _window_text(recovery: Recovery) -> str:
    before, after = sample_window(recovery.method)
    return (
        f"sampled from {before.days} days before to {after.days} days after recovery {recovery.name} "
        f"({recovery.collected_at:%Y-%m-%d}; 21 CFR 1271.80(b))"
    )


def eligibility_refusal(
    *,
    required: Iterable[str],
    tests: Iterable[SpecimenResult],
    screenings: Iterable[ScreeningRecord],
    recoveries: Iterable[Recovery],
) -> Refusal | None:
    """Why QA may not determine the donor eligible now, or None when every record supports it (21 CFR 1271.50)."""
    tests, screenings, required = list(tests), list(screenings), tuple(required)
    reactive = disqualifying(tests)
    if reactive:
        return Refusal(
            REACTIVE,
            f"Not negative: {', '.join(label(t) for t in reactive)}. The donor is ineligible (21 CFR 1271.80(d)).",
            reactive,
        )
    risks = sorted({str(ScreeningKind(s.kind).label) for s in screenings if s.outcome == ScreeningOutcome.RISK_FOUND})
    if risks:
        return Refusal(SCREENING_RISK, f"Screening found a risk factor or clinical evidence: {', '.join(risks)}.")
    done = {s.kind for s in screenings}
    unscreened = [str(kind.label) for kind in ScreeningKind if kind not in done]
    if unscreened:
        return Refusal(INCOMPLETE, f"Screening not recorded (21 CFR 1271.75): {', '.join(unscreened)}.")
    missing = _missing(required, tests, None)
    if missing:
        return Refusal(INCOMPLETE, f"No negative result yet for: {', '.join(label(t) for t in missing)}.", missing)
    for recovery in recoveries:
        untimed = _missing(required, tests, recovery)
        if untimed:
            return Refusal(
                INCOMPLETE,
                f"No negative result {_window_text(recovery)} for: {', '.join(label(t) for t in untimed)}.",
                untimed,
            )
    return None


def donation_status(
    *, determination: str, required: Iterable[str], tests: Iterable[SpecimenResult], recovery: Recovery | None
) -> DonationStatus:
    """What one donation may be used for: eligible only with QA's eligible determination, no disqualifying result on
    record (one found later overrides the determination) and every required test taken in the recovery's window."""
    tests = list(tests)
    reactive = disqualifying(tests)
    if determination == Eligibility.INELIGIBLE:
        return DonationStatus(Eligibility.INELIGIBLE, ("QA determined the donor ineligible.",), reactive)
    if reactive:
        reason = f"Not negative: {', '.join(label(t) for t in reactive)}."
        return DonationStatus(Eligibility.INELIGIBLE, (reason,), reactive)
    if determination != Eligibility.ELIGIBLE:
        return DonationStatus(Eligibility.PENDING, ("No eligibility determination yet (21 CFR 1271.60).",))
    untimed = _missing(tuple(required), tests, recovery)
    if untimed:
        where = _window_text(recovery) if recovery is not None else "on record"
        reason = f"No negative result {where} for: {', '.join(label(t) for t in untimed)}; determine again."
        return DonationStatus(Eligibility.PENDING, (reason,))
    return DonationStatus(Eligibility.ELIGIBLE)


def unknown_donor() -> DonationStatus:
    """A unit of an allogeneic batch with no donor on record: nobody determined its donor eligible."""
    return DonationStatus(Eligibility.PENDING, ("No donor on record for this unit's batch.",))


def exception_allowed(eligibility: str, exception: str) -> bool:
    return exception in ALLOWED_EXCEPTIONS.get(eligibility, frozenset())


def label_warnings(status: DonationStatus | None) -> tuple[str, ...]:
    """The statements a unit's label must carry because of its donor: none for an eligible donor; `None` (no donor:
    the patient's own cells) is an autologous unit."""
    if status is None:
        return (AUTOLOGOUS_ONLY,)
    if status.eligibility == Eligibility.INELIGIBLE:
        # 21 CFR 1271.65(b)(2): the Biohazard legend, the warning, and each reactive test by name.
        reactive = tuple(f"WARNING: Reactive test results for {label(t)}" for t in status.reactive)
        return (BIOHAZARD, ADVISE_PATIENT, *reactive)
    if status.eligibility == Eligibility.PENDING:
        # 21 CFR 1271.60(d)(2): used before the determination is complete.
        return (NOT_EVALUATED, ADVISE_PATIENT)
    return ()
