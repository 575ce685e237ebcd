"""The expedited-report clock, row by row: which rule applies to an event, by its course's status, seriousness,
expectedness, causality and severity; which status a course is judged under; and the sponsor's reminder."""

from datetime import UTC, datetime, timedelta

import pytest

from products.choices import RegulatoryStatus
from tracker.rules import adverse_events as ae_rules
from tracker.rules import reporting
from tracker.rules.reporting import report_clock, trial_context

AWARE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LICENSED = RegulatoryStatus.LICENSED
IND = RegulatoryStatus.INVESTIGATIONAL

# (status, serious, expected, suspected, grade, outcome) -> (days after awareness or None, rule)
CLOCK_TABLE = [
    # Licensed (21 CFR 600.80): serious and unexpected, 15 calendar days; causality plays no part.
    ((LICENSED, True, False, True, 3, "ongoing"), (15, reporting.POSTMARKETING_15_DAY)),
    ((LICENSED, True, False, False, 3, "ongoing"), (15, reporting.POSTMARKETING_15_DAY)),
    ((LICENSED, True, False, True, 4, "ongoing"), (15, reporting.POSTMARKETING_15_DAY)),
    ((LICENSED, True, False, True, 5, "fatal"), (15, reporting.POSTMARKETING_15_DAY)),
    ((LICENSED, True, True, True, 3, "ongoing"), (None, reporting.POSTMARKETING_EXPECTED)),
    ((LICENSED, False, False, True, 2, "ongoing"), (None, reporting.POSTMARKETING_NOT_SERIOUS)),
    ((LICENSED, False, True, False, 1, "ongoing"), (None, reporting.POSTMARKETING_NOT_SERIOUS)),
    # Investigational (21 CFR 312.32(c)(1)): serious, unexpected and suspected, 15 calendar days.
    ((IND, True, False, True, 3, "ongoing"), (15, reporting.IND_15_DAY)),
    ((IND, True, False, True, 3, "resolved"), (15, reporting.IND_15_DAY)),
    # ... 7 days when fatal or life-threatening (312.32(c)(2)): CTCAE grade 4, grade 5, or a fatal outcome.
    ((IND, True, False, True, 4, "ongoing"), (7, reporting.IND_7_DAY)),
    ((IND, True, False, True, 5, "fatal"), (7, reporting.IND_7_DAY)),
    ((IND, True, False, True, 3, "fatal"), (7, reporting.IND_7_DAY)),
    # ... and none when any of the three is missing, however severe.
    ((IND, True, False, False, 4, "ongoing"), (None, reporting.IND_NOT_SUSPECTED)),
    ((IND, True, False, False, 3, "ongoing"), (None, reporting.IND_NOT_SUSPECTED)),
    ((IND, True, True, True, 4, "ongoing"), (None, reporting.IND_EXPECTED)),
    ((IND, True, True, True, 3, "ongoing"), (None, reporting.IND_EXPECTED)),
    ((IND, False, False, True, 2, "ongoing"), (None, reporting.IND_NOT_SERIOUS)),
    ((IND, False, True, False, 1, "ongoing"), (None, reporting.IND_NOT_SERIOUS)),
]


@pytest.mark.parametrize(("facts", "expected"), CLOCK_TABLE, ids=[f"{f}" for f, _ in CLOCK_TABLE])
def test_the_report_clock_row_by_row(facts, expected):
    status, serious, is_expected, suspected, grade, outcome = facts
    days, rule = expected

    clock = report_clock(
        regulatory_status=status,
        serious=serious,
        expected=is_expected,
        suspected=suspected,
        grade=grade,
        outcome=outcome,
        aware_at=AWARE,
    )

    assert clock.rule == rule
    assert clock.due_at == (AWARE + timedelta(days=days) if days is not None else None)


def test_every_rule_names_its_citation_first():
    expedited = {reporting.POSTMARKETING_15_DAY, reporting.IND_15_DAY, reporting.IND_7_DAY}
    assert [rule.split(":")[0] for rule in sorted(expedited)] == [
        "21 CFR 312.32(c)(1)(i)",
        "21 CFR 312.32(c)(2)",
        "21 CFR 600.80(c)(1)(i)",
    ]
    assert all(len(rule) <= 200 for rule in (*expedited, reporting.IND_NOT_SUSPECTED, reporting.IND_EXPECTED))


# (product status, product IND, product protocol, order protocol, order IND) -> (status, IND, protocol)
CONTEXT_TABLE = [
    ((LICENSED, "", "", "", ""), (LICENSED, "", "")),
    ((IND, "IND 123456", "MSC-201", "", ""), (IND, "IND 123456", "MSC-201")),
    # The order's trial wins over a licensed product...
    ((LICENSED, "", "", "CART-LTFU-07", "IND 200001"), (IND, "IND 200001", "CART-LTFU-07")),
    # ... and over an investigational product's own protocol, with the product's IND when it gives none.
    ((IND, "IND 123456", "MSC-201", "MSC-301", ""), (IND, "IND 123456", "MSC-301")),
    ((IND, "IND 123456", "MSC-201", "MSC-301", "2024-512345-10-00"), (IND, "2024-512345-10-00", "MSC-301")),
]


@pytest.mark.parametrize(("given", "expected"), CONTEXT_TABLE)
def test_the_orders_trial_wins_over_the_products_status(given, expected):
    product_status, product_ind, product_protocol, order_protocol, order_ind = given

    context = trial_context(
        product_status=product_status,
        product_ind_number=product_ind,
        product_trial_protocol=product_protocol,
        order_trial_protocol=order_protocol,
        order_ind_number=order_ind,
    )

    assert (context.regulatory_status, context.ind_number, context.trial_protocol) == expected


# (product status, product IND, order protocol, order IND) -> the field refused, or None
ORDER_TRIAL_TABLE = [
    ((LICENSED, "", "", ""), None),
    ((LICENSED, "", "CART-LTFU-07", "IND 200001"), None),
    ((LICENSED, "", "CART-LTFU-07", ""), "ind_number"),
    ((LICENSED, "", "", "IND 200001"), "trial_protocol"),
    ((IND, "IND 123456", "MSC-301", ""), None),
    ((IND, "IND 123456", "", ""), None),
    ((IND, "IND 123456", "", "IND 9"), "trial_protocol"),
]


@pytest.mark.parametrize(("given", "refused"), ORDER_TRIAL_TABLE)
def test_what_an_order_may_say_of_its_trial(given, refused):
    product_status, product_ind, order_protocol, order_ind = given

    errors = reporting.order_trial_errors(
        product_status=product_status,
        product_ind_number=product_ind,
        order_trial_protocol=order_protocol,
        order_ind_number=order_ind,
    )

    assert list(errors) == ([refused] if refused else [])


@pytest.mark.parametrize(
    ("status", "serious", "due"),
    [(IND, True, True), (IND, False, False), (LICENSED, True, False), (LICENSED, False, False)],
)
def test_the_sponsor_is_told_of_every_serious_event_of_a_trial(status, serious, due):
    assert reporting.sponsor_notification_due(regulatory_status=status, serious=serious) is due


# (relatedness, suspected as given) -> suspected as recorded, or ValueError
SUSPECTED_TABLE = [
    ("definite", None, True),
    ("probable", None, True),
    ("possible", None, True),
    ("unlikely", None, False),
    ("unrelated", None, False),
    ("possible", True, True),
    ("unlikely", False, False),
    ("possible", False, ValueError),
    ("definite", False, ValueError),
    ("unrelated", True, ValueError),
    ("unlikely", True, ValueError),
]


@pytest.mark.parametrize(("relatedness", "given", "recorded"), SUSPECTED_TABLE)
def test_suspected_agrees_with_relatedness(relatedness, given, recorded):
    if recorded is ValueError:
        with pytest.raises(ValueError, match=relatedness):
            ae_rules.suspected_of(relatedness=relatedness, suspected=given)
    else:
        assert ae_rules.suspected_of(relatedness=relatedness, suspected=given) is recorded


@pytest.mark.parametrize(("grade", "life_threatening"), [(1, False), (2, False), (3, False), (4, True), (5, False)])
def test_ctcae_grade_4_is_life_threatening(grade, life_threatening):
    assert ae_rules.is_life_threatening(grade=grade) is life_threatening
