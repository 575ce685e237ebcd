"""Which custody event may follow which: the physical order of a bag's life. Pure: no database."""

from products.choices import CustodyEvent as E
from products.choices import UnitStatus as S

# 21 CFR 1271.290(b): every step from recovery to distribution is on record, in the order it happened.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    E.SHIPPED: frozenset({S.MANUFACTURED, S.RECEIVED, S.STORED, S.RETURNED}),
    E.RECEIVED: frozenset({S.SHIPPED}),
    E.STORED: frozenset({S.MANUFACTURED, S.RECEIVED, S.RETURNED}),
    E.THAWED: frozenset({S.RECEIVED, S.STORED}),
    E.DISPENSED: frozenset({S.THAWED, S.RECEIVED, S.STORED}),
    E.RETURNED: frozenset({S.DISPENSED, S.RECEIVED, S.STORED}),
    E.DISCARDED: frozenset(set(S.values) - {S.DISCARDED, S.ADMINISTERED}),
}

# What the unit's status becomes after each event.
STATUS_AFTER: dict[str, str] = {
    E.SHIPPED: S.SHIPPED,
    E.RECEIVED: S.RECEIVED,
    E.STORED: S.STORED,
    E.THAWED: S.THAWED,
    E.DISPENSED: S.DISPENSED,
    E.RETURNED: S.RETURNED,
    E.DISCARDED: S.DISCARDED,
}

# Events that move or hold the bag where temperature matters (transport and storage). A thaw is warm by design.
TEMPERATURE_CHECKED = frozenset({E.SHIPPED, E.RECEIVED, E.STORED})

# Events after which a bag is kept at a place of the facility (its storage location, for the inventory).
LOCATED = frozenset({E.RECEIVED, E.STORED})

# Events that send a held bag on towards a patient: refused while a hold is open (receiving, storing,
# returning and discarding stay possible: they keep the bag safe or take it out of use).
BLOCKED_BY_HOLD = frozenset({E.SHIPPED, E.THAWED, E.DISPENSED})


ILLEGAL = "illegal_transition"
NOT_RELEASED = "unit_not_released"


def refusal(*, event: str, status: str, cryopreserved: bool, thawed: bool, released: bool) -> tuple[str, str] | None:
    """(code, reason) if this event may not happen now, None if it may."""
    if status in {S.DISCARDED, S.ADMINISTERED}:
        return ILLEGAL, f"The unit is {status}: nothing may follow."
    if status not in ALLOWED_FROM[event]:
        return ILLEGAL, f"A unit that is {status} cannot be {event}."
    if event == E.SHIPPED and not released:
        return NOT_RELEASED, "An unreleased unit cannot be shipped."
    if event == E.THAWED and not cryopreserved:
        return ILLEGAL, "A fresh (not cryopreserved) product is not thawed."
    if event == E.DISPENSED and cryopreserved and status != S.THAWED:
        return ILLEGAL, "A cryopreserved unit is thawed before it is dispensed."
    if thawed and event in {E.SHIPPED, E.STORED, E.THAWED}:
        return ILLEGAL, f"A thawed unit cannot be {event} again."
    return None
