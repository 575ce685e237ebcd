"""Expedited adverse-event reporting clocks. Pure: no database."""

from dataclasses import dataclass
from datetime import datetime, timedelta

# 21 CFR 600.80(c)(1)(i): serious and unexpected adverse experiences of a licensed biologic are reported
# to FDA within 15 calendar days of initial receipt of the information (awareness).
POSTMARKETING_ALERT_DAYS = 15


@dataclass(frozen=True)
class ReportClock:
    due_at: datetime | None
    rule: str


def report_clock(*, serious: bool, expected: bool, aware_at: datetime) -> ReportClock:
    if serious and not expected:
        return ReportClock(
            due_at=aware_at + timedelta(days=POSTMARKETING_ALERT_DAYS),
            rule="21 CFR 600.80(c)(1)(i): serious and unexpected, 15 calendar days from awareness",
        )
    if serious:
        return ReportClock(due_at=None, rule="Serious but expected: periodic safety report (21 CFR 600.80(c)(2))")
    return ReportClock(due_at=None, rule="Not serious: periodic safety report (21 CFR 600.80(c)(2))")
