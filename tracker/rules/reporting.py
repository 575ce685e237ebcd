"""Expedited adverse-event reporting: which regulatory status an event is judged under, which rule applies, and by
when the report is due. Pure: no database.

The service (tracker.services.clinical) records the status with the event and calls `report_clock` whenever the
event is recorded or changed; the API, the admin, the timeline and the scan read what it wrote.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from products.choices import RegulatoryStatus
from tracker.rules import adverse_events as ae_rules

# 21 CFR 600.80(c)(1)(i): serious and unexpected adverse experiences of a licensed biologic are reported to FDA
# within 15 calendar days of initial receipt of the information (awareness).
POSTMARKETING_ALERT_DAYS = 15
# 21 CFR 312.32(c)(1): a serious and unexpected suspected adverse reaction in an IND study, 15 calendar days.
IND_SAFETY_REPORT_DAYS = 15
# 21 CFR 312.32(c)(2): an unexpected fatal or life-threatening suspected adverse reaction, 7 calendar days.
IND_FATAL_OR_LIFE_THREATENING_DAYS = 7

# The rules, as `report_rule` names them (the citation first, then what it asks).
POSTMARKETING_15_DAY = "21 CFR 600.80(c)(1)(i): serious and unexpected, 15 calendar days from awareness"
POSTMARKETING_EXPECTED = "Serious but expected: periodic safety report (21 CFR 600.80(c)(2))"
POSTMARKETING_NOT_SERIOUS = "Not serious: periodic safety report (21 CFR 600.80(c)(2))"
IND_7_DAY = (
    "21 CFR 312.32(c)(2): unexpected fatal or life-threatening suspected adverse reaction, 7 calendar days from "
    "awareness"
)
IND_15_DAY = (
    "21 CFR 312.32(c)(1)(i): serious and unexpected suspected adverse reaction, 15 calendar days from awareness"
)
IND_NOT_SUSPECTED = (
    "Not a suspected adverse reaction: no IND safety report (21 CFR 312.32(c)(1)); IND annual report (21 CFR 312.33)"
)
IND_EXPECTED = "Serious but expected: no IND safety report (21 CFR 312.32(c)(1)); IND annual report (21 CFR 312.33)"
IND_NOT_SERIOUS = "Not serious: no IND safety report (21 CFR 312.32(c)(1)); IND annual report (21 CFR 312.33)"


@dataclass(frozen=True)
class ReportClock:
    due_at: datetime | None
    rule: str


def report_clock(
    *,
    regulatory_status: str,
    serious: bool,
    expected: bool,
    suspected: bool,
    grade: int,
    outcome: str,
    aware_at: datetime,
) -> ReportClock:
    """The expedited report an event needs and by when, counted in calendar days from awareness.

    - licensed: serious and unexpected, 15 days (21 CFR 600.80(c)(1)(i)); a postmarketing adverse experience needs
      no causality judgement, so `suspected` plays no part;
    - investigational: serious, unexpected and suspected, 15 days (21 CFR 312.32(c)(1)); the same when fatal or
      life-threatening (CTCAE grade 4 or 5, or a fatal outcome), 7 days (21 CFR 312.32(c)(2));
    - anything else: no expedited clock, the periodic report (600.80(c)(2), or the IND annual report, 312.33).
    """
    if regulatory_status == RegulatoryStatus.INVESTIGATIONAL:
        if not serious:
            return ReportClock(None, IND_NOT_SERIOUS)
        if expected:
            return ReportClock(None, IND_EXPECTED)
        if not suspected:
            return ReportClock(None, IND_NOT_SUSPECTED)
        if ae_rules.is_fatal(grade=grade, outcome=outcome) or ae_rules.is_life_threatening(grade=grade):
            return ReportClock(aware_at + timedelta(days=IND_FATAL_OR_LIFE_THREATENING_DAYS), IND_7_DAY)
        return ReportClock(aware_at + timedelta(days=IND_SAFETY_REPORT_DAYS), IND_15_DAY)
    if serious and not expected:
        return ReportClock(aware_at + timedelta(days=POSTMARKETING_ALERT_DAYS), POSTMARKETING_15_DAY)
    if serious:
        return ReportClock(None, POSTMARKETING_EXPECTED)
    return ReportClock(None, POSTMARKETING_NOT_SERIOUS)


@dataclass(frozen=True)
class TrialContext:
    """The regulatory status an event (or a course) is judged under, and the trial that makes it so."""

    regulatory_status: str
    ind_number: str
    trial_protocol: str


LICENSED = TrialContext(RegulatoryStatus.LICENSED, "", "")


def trial_context(
    *,
    product_status: str,
    product_ind_number: str,
    product_trial_protocol: str,
    order_trial_protocol: str,
    order_ind_number: str,
) -> TrialContext:
    """Which status governs a course, the order's or its product's.

    The order's trial wins: an order naming a trial protocol is given in a clinical investigation, whatever the
    product's licence (a licensed product studied under an IND reports under 21 CFR 312.32), with the order's IND
    or CTA number, else the product's. An order naming no trial follows its product: investigational with the
    product's IND and protocol, or licensed.
    """
    if order_trial_protocol:
        return TrialContext(
            RegulatoryStatus.INVESTIGATIONAL, order_ind_number or product_ind_number, order_trial_protocol
        )
    if product_status == RegulatoryStatus.INVESTIGATIONAL:
        return TrialContext(RegulatoryStatus.INVESTIGATIONAL, product_ind_number, product_trial_protocol)
    return LICENSED


def order_trial_errors(
    *, product_status: str, product_ind_number: str, order_trial_protocol: str, order_ind_number: str
) -> dict[str, list[str]]:
    """What is wrong with the trial an order names (field -> messages; empty when nothing is).

    An IND or CTA number belongs to a trial: an order giving one names the protocol too. An order running a trial
    of a licensed product has no IND of the product's to fall back on, so it gives its own (21 CFR 312.32 reports
    are made under an IND).
    """
    if order_ind_number and not order_trial_protocol:
        return {"trial_protocol": ["An IND or CTA number is given for a trial: name the trial protocol too."]}
    if (
        order_trial_protocol
        and not order_ind_number
        and not (product_status == RegulatoryStatus.INVESTIGATIONAL and product_ind_number)
    ):
        return {
            "ind_number": [
                "A licensed product given in a trial is given under that trial's IND or CTA: give its number."
            ]
        }
    return {}


def sponsor_notification_due(*, regulatory_status: str, serious: bool) -> bool:
    """21 CFR 312.64(b): in a clinical investigation the investigator reports any serious adverse event to the
    sponsor immediately, whether or not it is considered related to the product. Outside a trial there is no
    sponsor to tell."""
    return regulatory_status == RegulatoryStatus.INVESTIGATIONAL and serious
