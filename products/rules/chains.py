"""A chain of identity's lifecycle: which event may move it from which status, and to what. Pure: no database.

The services (products.services.chains.chain_apply) ask `transition` before every status change of a chain;
nothing else decides a chain's status.
"""

from dataclasses import dataclass
from enum import StrEnum

from products.choices import CoiStatus as S


class ChainEvent(StrEnum):
    COLLECTED = "collected"  # cells collected for the chain
    MANUFACTURING_STARTED = "manufacturing_started"  # a batch started from them
    RELEASED = "released"  # QA released the chain's batch
    ADMINISTERED = "administered"  # a unit of the chain given to the patient
    CANCELLED = "cancelled"  # the order is cancelled (before administration)
    ADMINISTRATION_VOIDED = "administration_voided"  # the last standing administration was entered in error
    ALLOCATED = "allocated"  # an allogeneic unit from inventory reserved for the order
    ALLOCATIONS_RELEASED = "allocations_released"  # the order's last open allocation returned, nothing given


# The order of the journey: a chain only moves forwards along it (a second collection does not undo
# manufacturing), and may skip a stage (an allogeneic chain starts from a batch, not a collection).
PROGRESS = (S.ORDERED, S.COLLECTED, S.MANUFACTURING, S.RELEASED, S.ADMINISTERED)
OPEN = frozenset(PROGRESS[:-1])
# Nothing moves a cancelled or administered chain on (21 CFR 1271.290: the record of what was given stays).
CLOSED = frozenset({S.CANCELLED, S.ADMINISTERED})


def _forward(to: S) -> dict[S, S]:
    """Every open status moves up to `to`, or stays where it is when it is further along already."""
    return {status: max(status, to, key=PROGRESS.index) for status in PROGRESS[:-1]}


# event -> {status it may leave: status it enters}; a status absent from an event's row refuses the event.
TRANSITIONS: dict[ChainEvent, dict[S, S]] = {
    ChainEvent.COLLECTED: _forward(S.COLLECTED),
    ChainEvent.MANUFACTURING_STARTED: _forward(S.MANUFACTURING),
    ChainEvent.RELEASED: _forward(S.RELEASED),
    # A further bag of the same course (one order, several units) leaves an administered chain administered.
    ChainEvent.ADMINISTERED: {**_forward(S.ADMINISTERED), S.ADMINISTERED: S.ADMINISTERED},
    ChainEvent.CANCELLED: dict.fromkeys(PROGRESS[:-1], S.CANCELLED),
    # With no infusion standing any more, the released product is the chain's state again.
    ChainEvent.ADMINISTRATION_VOIDED: {S.ADMINISTERED: S.RELEASED},
    # A released unit reserved for the order is the order's released product; a further unit of a course (one
    # order, several infusions) may be reserved after the first was given.
    ChainEvent.ALLOCATED: {**_forward(S.RELEASED), S.ADMINISTERED: S.ADMINISTERED},
    # Every reserved unit back in stock, none given: the order waits for a unit again.
    ChainEvent.ALLOCATIONS_RELEASED: {S.ORDERED: S.ORDERED, S.RELEASED: S.ORDERED, S.ADMINISTERED: S.ADMINISTERED},
}

CHAIN_CLOSED = "chain_closed"
ILLEGAL = "illegal_transition"


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str  # completes "Chain <coi> ..."


def transition(*, status: str, event: ChainEvent) -> S | Refusal:
    """The status the event moves a chain in `status` to (perhaps the same one), or why it may not."""
    to = TRANSITIONS[event].get(S(status))
    if to is not None:
        return to
    if status in CLOSED:
        return Refusal(CHAIN_CLOSED, f"is already {status}" if event == ChainEvent.CANCELLED else f"is {status}")
    return Refusal(ILLEGAL, f"is {status}: {event.replace('_', ' ')} does not apply")
