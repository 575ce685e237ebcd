"""Adverse events: grade range, seriousness, which fields may change, and when the report clock may move. Pure.

The service (tracker.services.clinical), the API and the admin all read these; none decides on its own.
"""

from datetime import datetime
from enum import Enum

from tracker.rules.ranges import Range

# CTCAE v5: 1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death related to the adverse event.
GRADE = Range(1, 5, "", "The grade")
LIFE_THREATENING_GRADE = 4
FATAL_GRADE = 5
FATAL_OUTCOME = "fatal"

# What a clinician may correct after recording, in the order forms show it; the report clock (report_due_at,
# report_rule), the submission and the audit fields belong to the services.
EDITABLE = (
    "term",
    "term_text",
    "meddra_code",
    "grade",
    "grading_system",
    "onset_at",
    "aware_at",
    "resolved_at",
    "outcome",
    "serious",
    "expected",
    "relatedness",
    "suspected",
    "description",
)


def is_serious(*, grade: int, outcome: str, serious: bool) -> bool:
    """ICH E2A: an event that results in death or is life-threatening is serious by definition; CTCAE v5 grade 4
    is life-threatening and grade 5 is death. `serious` can add seriousness (hospitalisation...), never remove it."""
    return serious or grade >= LIFE_THREATENING_GRADE or outcome == FATAL_OUTCOME


def outcome_of(*, grade: int, outcome: str) -> str:
    """CTCAE v5: grade 5 is death related to the adverse event, so its outcome is fatal."""
    return FATAL_OUTCOME if grade == FATAL_GRADE else outcome


def is_fatal(*, grade: int, outcome: str) -> bool:
    return grade == FATAL_GRADE or outcome == FATAL_OUTCOME


def is_life_threatening(*, grade: int) -> bool:
    """CTCAE v5 grade 4 is life-threatening (21 CFR 312.32(a): at immediate risk of death)."""
    return grade == LIFE_THREATENING_GRADE


# 21 CFR 312.32(a): a suspected adverse reaction is one with "a reasonable possibility" that the product caused it.
# The relatedness scale says the same thing in finer steps: possible, probable and definite are a reasonable
# possibility; unlikely and unrelated are not.
SUSPECTED_RELATEDNESS = frozenset({"possible", "probable", "definite"})


def suspected_of(*, relatedness: str, suspected: bool | None) -> bool:
    """`suspected` agrees with `relatedness`: derived from it when not given, refused (ValueError) when it says the
    opposite. The two are one judgement of causality, so they never disagree on record."""
    implied = relatedness in SUSPECTED_RELATEDNESS
    if suspected is None or suspected == implied:
        return implied
    if suspected:
        raise ValueError(
            f"Relatedness `{relatedness}` says there is no reasonable possibility that the product caused the event; "
            "a suspected adverse reaction has relatedness possible, probable or definite."
        )
    raise ValueError(
        f"Relatedness `{relatedness}` is a reasonable possibility that the product caused the event (a suspected "
        "adverse reaction); if it is not suspected, give relatedness unlikely or unrelated."
    )


class AwareClock(Enum):
    """May `aware_at` (the start of the expedited-report clock, 21 CFR 600.80(c)) still move?"""

    FREE = "free"  # no deadline has been set: no clock is running, a correction is an ordinary edit
    NEEDS_REASON = "needs_reason"  # a deadline is set: the correction needs a reason, kept with who and when
    CLOSED = "closed"  # the report went to the regulator with this clock: it no longer moves


def aware_clock(*, report_due_at: datetime | None, report_submitted_at: datetime | None) -> AwareClock:
    """The one rule on moving the awareness time, for the API and the admin alike.

    Moving `aware_at` moves the regulatory deadline, so once a deadline has been set it moves only with a reason
    (21 CFR 11.10(e): the audit trail says who changed a record, when and why); once the report has been
    submitted, the date reported is final and a later correction goes to the regulator as a follow-up report.
    """
    if report_submitted_at is not None:
        return AwareClock.CLOSED
    if report_due_at is not None:
        return AwareClock.NEEDS_REASON
    return AwareClock.FREE
