"""Donor eligibility (21 CFR 1271 subpart C) as pure rules: required tests, sample timing, the determination's
refusals, a donation's standing, exceptions and the label's warnings."""

from datetime import UTC, datetime, timedelta

import pytest

from products.choices import Eligibility
from products.rules import donors as rules
from products.rules.donors import Recovery, ScreeningRecord, SpecimenResult

RECOVERED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
BASE = ("hiv_1_2", "hbv", "hcv", "syphilis")
SCREENED = [ScreeningRecord("history", "acceptable"), ScreeningRecord("physical", "acceptable")]


def negative(*tests: str, days: float = 0) -> list[SpecimenResult]:
    return [SpecimenResult(test, "negative", RECOVERED + timedelta(days=days)) for test in tests]


def recovery(method: str = "peripheral_blood") -> Recovery:
    return Recovery(RECOVERED, method, "DIN W123426000001")


def test_every_donor_needs_the_base_tests_and_the_products_add_theirs():
    assert rules.required_tests() == BASE
    assert rules.required_tests(["wnv", "cmv"], ["htlv_1_2"]) == (*BASE, "htlv_1_2", "cmv", "wnv")


@pytest.mark.parametrize(
    ("method", "days", "in_window"),
    [
        ("peripheral_blood", 0, True),
        ("peripheral_blood", -7, True),  # 7 days before recovery
        ("peripheral_blood", -7.01, False),
        ("peripheral_blood", 7, True),  # 7 days after
        ("peripheral_blood", 7.01, False),
        ("apheresis", -30, True),  # peripheral blood stem cells: up to 30 days before
        ("apheresis", -30.01, False),
        ("apheresis", 7.01, False),  # but still only 7 days after
        ("bone_marrow", -30, True),
        ("bone_marrow", -29, True),
        ("tissue", -8, False),
        ("cord_blood", 6, True),
    ],
)
def test_the_specimen_window_of_1271_80_b(method, days, in_window):
    sampled = RECOVERED + timedelta(days=days)
    assert rules.sampled_in_window(sampled_at=sampled, recovery=recovery(method)) is in_window


def refusal(**overrides):
    records = {"required": BASE, "tests": negative(*BASE), "screenings": SCREENED, "recoveries": [recovery()]}
    records.update(overrides)
    return rules.eligibility_refusal(**records)


def test_complete_negative_records_support_eligibility():
    assert refusal() is None
    assert refusal(recoveries=[]) is None  # no recovery yet: the timing is checked at allocation


def test_a_missing_required_test_is_incomplete_and_named():
    answer = refusal(tests=negative("hiv_1_2", "hbv", "hcv"))
    assert (answer.code, answer.tests) == (rules.INCOMPLETE, ("syphilis",))
    assert "Treponema" in answer.reason


def test_a_test_outside_the_window_counts_as_missing():
    late = negative("hiv_1_2", "hbv", "hcv") + negative("syphilis", days=-9)
    answer = refusal(tests=late)
    assert (answer.code, answer.tests) == (rules.INCOMPLETE, ("syphilis",))
    assert "1271.80(b)" in answer.reason and "DIN W123426000001" in answer.reason
    # the same specimen is in time for marrow (30 days before)
    assert refusal(tests=late, recoveries=[recovery("bone_marrow")]) is None


@pytest.mark.parametrize("result", ["reactive", "indeterminate"])
def test_a_result_that_is_not_negative_is_reactive(result):
    tests = [*negative(*BASE), SpecimenResult("hcv", result, RECOVERED)]
    answer = refusal(tests=tests)
    assert (answer.code, answer.tests) == (rules.REACTIVE, ("hcv",))


def test_reactive_comes_before_anything_missing():
    answer = refusal(tests=[SpecimenResult("hiv_1_2", "reactive", RECOVERED)], screenings=[])
    assert answer.code == rules.REACTIVE


def test_cmv_reactive_does_not_make_the_donor_ineligible():
    tests = [*negative(*BASE), SpecimenResult("cmv", "reactive", RECOVERED)]
    assert refusal(required=(*BASE, "cmv"), tests=tests) is not None  # cmv required: no negative on record
    assert refusal(tests=tests) is None
    assert rules.disqualifying(tests) == ()


def test_screening_is_needed_and_a_risk_found_refuses():
    assert refusal(screenings=[SCREENED[0]]).code == rules.INCOMPLETE
    risky = [SCREENED[0], ScreeningRecord("physical", "risk_found")]
    assert refusal(screenings=risky).code == rules.SCREENING_RISK


def status(determination: str, tests=None, rec=None):
    return rules.donation_status(
        determination=determination,
        required=BASE,
        tests=negative(*BASE) if tests is None else tests,
        recovery=recovery() if rec is None else rec,
    )


def test_a_donation_is_eligible_with_the_determination_and_timely_negative_tests():
    assert status(Eligibility.ELIGIBLE).eligibility == Eligibility.ELIGIBLE


def test_a_donation_waits_without_a_determination_or_with_tests_not_timed_for_it():
    assert status(Eligibility.PENDING).eligibility == Eligibility.PENDING
    later = Recovery(RECOVERED + timedelta(days=60), "peripheral_blood", "DIN W123426000002")
    answer = status(Eligibility.ELIGIBLE, rec=later)
    assert answer.eligibility == Eligibility.PENDING and "determine again" in answer.reasons[0]


def test_a_reactive_result_after_the_determination_makes_the_donation_ineligible():
    tests = [*negative(*BASE), SpecimenResult("hbv", "reactive", RECOVERED + timedelta(days=1))]
    answer = status(Eligibility.ELIGIBLE, tests=tests)
    assert (answer.eligibility, answer.reactive) == (Eligibility.INELIGIBLE, ("hbv",))
    assert status(Eligibility.INELIGIBLE).eligibility == Eligibility.INELIGIBLE


EXCEPTIONS = [
    (Eligibility.PENDING, "urgent_medical_need", True),  # 1271.60(d)(1)
    (Eligibility.PENDING, "related_donor", False),  # not before the determination
    (Eligibility.INELIGIBLE, "urgent_medical_need", True),  # 1271.65(b)(1)(iii)
    (Eligibility.INELIGIBLE, "related_donor", True),  # 1271.65(b)(1)(i)
    (Eligibility.INELIGIBLE, "", False),
    (Eligibility.ELIGIBLE, "urgent_medical_need", False),  # none needed
]


@pytest.mark.parametrize(("eligibility", "exception", "allowed"), EXCEPTIONS)
def test_which_exception_allows_which_donation(eligibility, exception, allowed):
    assert rules.exception_allowed(eligibility, exception) is allowed


def test_the_label_carries_the_warnings_the_regulations_name():
    assert rules.label_warnings(status(Eligibility.ELIGIBLE)) == ()
    assert rules.label_warnings(None) == ("FOR AUTOLOGOUS USE ONLY",)  # no donor: the patient's own cells
    reactive = SpecimenResult("hiv_1_2", "reactive", RECOVERED)
    ineligible = status(Eligibility.ELIGIBLE, tests=[*negative(*BASE), reactive])
    assert rules.label_warnings(ineligible) == (
        "BIOHAZARD",
        "WARNING: Advise patient of communicable disease risks",
        "WARNING: Reactive test results for HIV-1/2",
    )
    assert rules.label_warnings(status(Eligibility.INELIGIBLE)) == (
        "BIOHAZARD",
        "WARNING: Advise patient of communicable disease risks",
    )
    assert rules.label_warnings(status(Eligibility.PENDING)) == (
        "NOT EVALUATED FOR INFECTIOUS SUBSTANCES",
        "WARNING: Advise patient of communicable disease risks",
    )
    assert rules.unknown_donor().eligibility == Eligibility.PENDING
