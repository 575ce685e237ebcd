from decimal import Decimal

import pytest

from products.choices import CustodyEvent as E
from products.choices import UnitStatus as S
from products.rules import custody, qc

VIABILITY = qc.Criterion(test="viability", min_value=Decimal("70"), max_value=None, expected="")
ENDOTOXIN = qc.Criterion(test="endotoxin", min_value=None, max_value=Decimal("5"), expected="")
PURITY = qc.Criterion(test="purity", min_value=Decimal("80"), max_value=Decimal("100"), expected="")
STERILITY = qc.Criterion(test="sterility", min_value=None, max_value=None, expected="negative")


@pytest.mark.parametrize(
    ("criterion", "value", "passed"),
    [
        (VIABILITY, 70, True),  # limits are inclusive
        (VIABILITY, "69.99", False),
        (ENDOTOXIN, "5", True),
        (ENDOTOXIN, 5.01, False),
        (PURITY, 80, True),
        (PURITY, 100, True),
        (PURITY, 100.1, False),
        (PURITY, 79, False),
        (STERILITY, "negative", True),
        (STERILITY, " Negative ", True),
        (STERILITY, "positive", False),
    ],
)
def test_results_are_judged_against_their_limits(criterion, value, passed):
    assert qc.passes(criterion, qc.normalise_value(criterion, value)) is passed


@pytest.mark.parametrize(
    ("criterion", "value"),
    [(VIABILITY, "high"), (VIABILITY, True), (VIABILITY, "NaN"), (VIABILITY, None), (STERILITY, 3), (STERILITY, "  ")],
)
def test_a_value_of_the_wrong_kind_is_refused(criterion, value):
    with pytest.raises(qc.InvalidValue):
        qc.normalise_value(criterion, value)


def results(*rows: tuple) -> list[qc.Result]:
    """("test", passed) or ("test", passed, invalidated), in the order they were recorded."""
    return [qc.Result(*row) for row in rows]


# 21 CFR 610.1 and FDA's OOS guidance: every valid result counts; a retest adds a result, never replaces one.
@pytest.mark.parametrize(
    ("rows", "missing", "failed"),
    [
        ([("a", True), ("b", True)], [], []),  # every test passed
        ([("a", True)], ["b"], []),  # a test without a result is missing
        ([], ["a", "b"], []),
        ([("a", True), ("b", False)], [], ["b"]),
        ([("a", True), ("b", False), ("b", True)], [], ["b"]),  # a passing retest does not outweigh a failure
        ([("a", True), ("b", True), ("b", False)], [], ["b"]),  # nor does an earlier pass
        ([("a", True), ("b", False, True), ("b", True)], [], []),  # the failure was invalidated: the retest stands
        ([("a", True), ("b", False, True)], ["b"], []),  # only an invalidated result: no result at all
        ([("a", True), ("b", True, True)], ["b"], []),  # a passing result invalidated counts no more
        ([("a", False, True), ("a", False), ("b", True)], [], ["a"]),  # one of two failures invalidated
        ([("a", True), ("b", True), ("z", False)], [], []),  # a test outside the specification is not judged
    ],
)
def test_every_valid_result_is_judged(rows, missing, failed):
    verdict = qc.judge(["a", "b"], results(*rows))
    assert verdict.missing == missing and verdict.failed == failed
    assert verdict.releasable is (not missing and not failed)


def test_the_verdict_names_each_test_once_in_order():
    verdict = qc.judge(["b", "a", "a"], results(("b", False), ("a", False, True)))
    assert verdict.missing == ["a"] and verdict.failed == ["b"]  # sorted, each named once


def refusal(event: str, status: str, *, cryo: bool = True, thawed: bool = False, released: bool = True):
    return custody.refusal(event=event, status=status, cryopreserved=cryo, thawed=thawed, released=released)


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (E.SHIPPED, S.MANUFACTURED),
        (E.RECEIVED, S.SHIPPED),
        (E.STORED, S.RECEIVED),
        (E.THAWED, S.STORED),
        (E.THAWED, S.RECEIVED),
        (E.DISPENSED, S.THAWED),
        (E.RETURNED, S.DISPENSED),
        (E.DISCARDED, S.SHIPPED),
        (E.SHIPPED, S.RETURNED),
    ],
)
def test_physical_order_is_allowed(event, status):
    assert refusal(event, status) is None


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (E.RECEIVED, S.MANUFACTURED, custody.ILLEGAL),  # nothing was shipped
        (E.THAWED, S.SHIPPED, custody.ILLEGAL),  # not stored or received
        (E.THAWED, S.MANUFACTURED, custody.ILLEGAL),
        (E.DISPENSED, S.STORED, custody.ILLEGAL),  # cryopreserved: thaw first
        (E.SHIPPED, S.DISCARDED, custody.ILLEGAL),  # nothing after discarded
        (E.DISCARDED, S.DISCARDED, custody.ILLEGAL),
        (E.STORED, S.ADMINISTERED, custody.ILLEGAL),
        (E.RECEIVED, S.RECEIVED, custody.ILLEGAL),
    ],
)
def test_out_of_order_events_are_refused(event, status, code):
    assert refusal(event, status)[0] == code


def test_an_unreleased_unit_cannot_be_shipped_but_may_be_stored():
    assert refusal(E.SHIPPED, S.MANUFACTURED, released=False)[0] == custody.NOT_RELEASED
    assert refusal(E.STORED, S.MANUFACTURED, released=False) is None


def test_fresh_products_are_not_thawed_and_are_dispensed_on_receipt():
    assert refusal(E.THAWED, S.RECEIVED, cryo=False)[0] == custody.ILLEGAL
    assert refusal(E.DISPENSED, S.RECEIVED, cryo=False) is None


def test_a_thawed_unit_is_never_stored_shipped_or_thawed_again():
    for event in (E.STORED, E.SHIPPED, E.THAWED):
        assert refusal(event, S.RETURNED if event != E.THAWED else S.RECEIVED, thawed=True) is not None
