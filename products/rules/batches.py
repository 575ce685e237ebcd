"""A batch's disposition: which event may move it from which status, and to what. Pure: no database.

The services (products.services.batches) ask `transition` before every status change and `records_open` /
`qc_recordable` before adding to a batch's record; nothing else decides a batch's status.
"""

from dataclasses import dataclass
from enum import StrEnum

from products.choices import BatchStatus as S


class BatchEvent(StrEnum):
    COMPLETED = "completed"  # manufacturing is done (by hand, or the final product's first QC result)
    RELEASED = "released"  # QA's signed release
    REJECTED = "rejected"  # QA's signed rejection


# 21 CFR 1271.265(c): a lot is available for distribution only once its release criteria are verified and
# documented; until QA's decision it waits in quarantine, and the decision is final.
# event -> {status it may leave: status it enters}.
TRANSITIONS: dict[BatchEvent, dict[S, S]] = {
    BatchEvent.COMPLETED: {S.IN_PROCESS: S.QUARANTINE},
    BatchEvent.RELEASED: {S.IN_PROCESS: S.RELEASED, S.QUARANTINE: S.RELEASED},
    BatchEvent.REJECTED: {S.IN_PROCESS: S.REJECTED, S.QUARANTINE: S.REJECTED},
}

ILLEGAL = "illegal_transition"
CLOSED = "batch_closed"
NOT_RELEASABLE = "not_releasable"

# event -> {status: the code of the refusal}, for every status the event may not leave (see TRANSITIONS).
REFUSALS: dict[BatchEvent, dict[S, str]] = {
    BatchEvent.COMPLETED: {S.QUARANTINE: ILLEGAL, S.RELEASED: CLOSED, S.REJECTED: CLOSED},
    BatchEvent.RELEASED: {S.RELEASED: NOT_RELEASABLE, S.REJECTED: NOT_RELEASABLE},
    BatchEvent.REJECTED: {S.RELEASED: NOT_RELEASABLE, S.REJECTED: NOT_RELEASABLE},
}

# While a batch is made and waits for its disposition, its record grows: processing steps, units.
RECORDS_OPEN = frozenset({S.IN_PROCESS, S.QUARANTINE})
# QC results come while the batch is made and tested, and after release too (a late or repeated test, a stability
# result: a failing one then holds the batch). A rejected batch's record is closed.
QC_RECORDABLE = RECORDS_OPEN | {S.RELEASED}


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str  # completes "Batch <lot> ..."


def transition(*, status: str, event: BatchEvent) -> S | Refusal:
    """The status the event moves a batch in `status` to, or why it may not."""
    to = TRANSITIONS[event].get(S(status))
    if to is not None:
        return to
    code = REFUSALS[event][S(status)]
    return Refusal(code, f"is already {status}" if code == ILLEGAL else f"is {status}")


def records_open(status: str) -> bool:
    return status in RECORDS_OPEN


def qc_recordable(status: str) -> bool:
    return status in QC_RECORDABLE
