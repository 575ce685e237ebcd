"""Batch and chain transitions are tables in products/rules, each checked by one pure function: every row here."""

import pytest

from products.choices import BatchStatus as B
from products.choices import CoiStatus as C
from products.rules import batches, chains
from products.rules.batches import BatchEvent
from products.rules.chains import ChainEvent

# (event, status) -> the status it moves to, or the code of its refusal: the whole published table.
BATCH_TABLE = {
    (BatchEvent.COMPLETED, B.IN_PROCESS): B.QUARANTINE,
    (BatchEvent.COMPLETED, B.QUARANTINE): "illegal_transition",
    (BatchEvent.COMPLETED, B.RELEASED): "batch_closed",
    (BatchEvent.COMPLETED, B.REJECTED): "batch_closed",
    (BatchEvent.RELEASED, B.IN_PROCESS): B.RELEASED,
    (BatchEvent.RELEASED, B.QUARANTINE): B.RELEASED,
    (BatchEvent.RELEASED, B.RELEASED): "not_releasable",
    (BatchEvent.RELEASED, B.REJECTED): "not_releasable",
    (BatchEvent.REJECTED, B.IN_PROCESS): B.REJECTED,
    (BatchEvent.REJECTED, B.QUARANTINE): B.REJECTED,
    (BatchEvent.REJECTED, B.RELEASED): "not_releasable",
    (BatchEvent.REJECTED, B.REJECTED): "not_releasable",
}


def _outcome(result: object) -> str:
    return result.code if isinstance(result, batches.Refusal | chains.Refusal) else str(result)


@pytest.mark.parametrize(("event", "status"), list(BATCH_TABLE), ids=lambda v: str(v))
def test_each_batch_event_from_each_status(event, status):
    assert _outcome(batches.transition(status=status, event=event)) == BATCH_TABLE[(event, status)]


def test_the_batch_table_covers_every_event_from_every_status():
    assert set(BATCH_TABLE) == {(event, status) for event in BatchEvent for status in B}
    for event in BatchEvent:
        assert set(batches.TRANSITIONS[event]) | set(batches.REFUSALS[event]) == set(B)
        assert not set(batches.TRANSITIONS[event]) & set(batches.REFUSALS[event])


def test_a_batch_refusal_says_what_the_batch_is():
    assert batches.transition(status=B.QUARANTINE, event=BatchEvent.COMPLETED).reason == "is already quarantine"
    assert batches.transition(status=B.REJECTED, event=BatchEvent.RELEASED).reason == "is rejected"


@pytest.mark.parametrize(
    ("status", "records_open", "qc_recordable"),
    [(B.IN_PROCESS, True, True), (B.QUARANTINE, True, True), (B.RELEASED, False, True), (B.REJECTED, False, False)],
)
def test_what_may_still_be_added_to_a_batch(status, records_open, qc_recordable):
    assert batches.records_open(status) is records_open
    assert batches.qc_recordable(status) is qc_recordable


CLOSED = "chain_closed"
ILLEGAL = "illegal_transition"
# (event, status) -> the status it moves to (perhaps the same one), or the code of its refusal.
CHAIN_TABLE = {
    (ChainEvent.COLLECTED, C.ORDERED): C.COLLECTED,
    (ChainEvent.COLLECTED, C.COLLECTED): C.COLLECTED,
    (ChainEvent.COLLECTED, C.MANUFACTURING): C.MANUFACTURING,  # a second collection never undoes manufacturing
    (ChainEvent.COLLECTED, C.RELEASED): C.RELEASED,
    (ChainEvent.COLLECTED, C.ADMINISTERED): CLOSED,
    (ChainEvent.COLLECTED, C.CANCELLED): CLOSED,
    (ChainEvent.MANUFACTURING_STARTED, C.ORDERED): C.MANUFACTURING,  # an allogeneic chain starts from a batch
    (ChainEvent.MANUFACTURING_STARTED, C.COLLECTED): C.MANUFACTURING,
    (ChainEvent.MANUFACTURING_STARTED, C.MANUFACTURING): C.MANUFACTURING,
    (ChainEvent.MANUFACTURING_STARTED, C.RELEASED): C.RELEASED,
    (ChainEvent.MANUFACTURING_STARTED, C.ADMINISTERED): CLOSED,
    (ChainEvent.MANUFACTURING_STARTED, C.CANCELLED): CLOSED,
    (ChainEvent.RELEASED, C.ORDERED): C.RELEASED,
    (ChainEvent.RELEASED, C.COLLECTED): C.RELEASED,
    (ChainEvent.RELEASED, C.MANUFACTURING): C.RELEASED,
    (ChainEvent.RELEASED, C.RELEASED): C.RELEASED,
    (ChainEvent.RELEASED, C.ADMINISTERED): CLOSED,
    (ChainEvent.RELEASED, C.CANCELLED): CLOSED,
    (ChainEvent.ADMINISTERED, C.ORDERED): C.ADMINISTERED,
    (ChainEvent.ADMINISTERED, C.COLLECTED): C.ADMINISTERED,
    (ChainEvent.ADMINISTERED, C.MANUFACTURING): C.ADMINISTERED,
    (ChainEvent.ADMINISTERED, C.RELEASED): C.ADMINISTERED,
    (ChainEvent.ADMINISTERED, C.ADMINISTERED): C.ADMINISTERED,  # a further bag of the same course
    (ChainEvent.ADMINISTERED, C.CANCELLED): CLOSED,
    (ChainEvent.CANCELLED, C.ORDERED): C.CANCELLED,
    (ChainEvent.CANCELLED, C.COLLECTED): C.CANCELLED,
    (ChainEvent.CANCELLED, C.MANUFACTURING): C.CANCELLED,
    (ChainEvent.CANCELLED, C.RELEASED): C.CANCELLED,
    (ChainEvent.CANCELLED, C.ADMINISTERED): CLOSED,
    (ChainEvent.CANCELLED, C.CANCELLED): CLOSED,
    (ChainEvent.ADMINISTRATION_VOIDED, C.ORDERED): ILLEGAL,
    (ChainEvent.ADMINISTRATION_VOIDED, C.COLLECTED): ILLEGAL,
    (ChainEvent.ADMINISTRATION_VOIDED, C.MANUFACTURING): ILLEGAL,
    (ChainEvent.ADMINISTRATION_VOIDED, C.RELEASED): ILLEGAL,
    (ChainEvent.ADMINISTRATION_VOIDED, C.ADMINISTERED): C.RELEASED,
    (ChainEvent.ADMINISTRATION_VOIDED, C.CANCELLED): CLOSED,
    (ChainEvent.ALLOCATED, C.ORDERED): C.RELEASED,  # an allogeneic order gets a released unit from inventory
    (ChainEvent.ALLOCATED, C.COLLECTED): C.RELEASED,
    (ChainEvent.ALLOCATED, C.MANUFACTURING): C.RELEASED,
    (ChainEvent.ALLOCATED, C.RELEASED): C.RELEASED,  # a second unit of the course
    (ChainEvent.ALLOCATED, C.ADMINISTERED): C.ADMINISTERED,  # the next infusion's unit after the first was given
    (ChainEvent.ALLOCATED, C.CANCELLED): CLOSED,
    (ChainEvent.ALLOCATIONS_RELEASED, C.ORDERED): C.ORDERED,
    (ChainEvent.ALLOCATIONS_RELEASED, C.COLLECTED): ILLEGAL,
    (ChainEvent.ALLOCATIONS_RELEASED, C.MANUFACTURING): ILLEGAL,
    (ChainEvent.ALLOCATIONS_RELEASED, C.RELEASED): C.ORDERED,  # every reserved unit back in stock
    (ChainEvent.ALLOCATIONS_RELEASED, C.ADMINISTERED): C.ADMINISTERED,  # what was given stays given
    (ChainEvent.ALLOCATIONS_RELEASED, C.CANCELLED): CLOSED,
}


@pytest.mark.parametrize(("event", "status"), list(CHAIN_TABLE), ids=lambda v: str(v))
def test_each_chain_event_from_each_status(event, status):
    assert _outcome(chains.transition(status=status, event=event)) == CHAIN_TABLE[(event, status)]


def test_the_chain_table_covers_every_event_from_every_status_and_never_goes_backwards_but_by_a_return():
    assert set(CHAIN_TABLE) == {(event, status) for event in ChainEvent for status in C}
    moves = [(event, status, to) for event, row in chains.TRANSITIONS.items() for status, to in row.items()]
    returns = {ChainEvent.ADMINISTRATION_VOIDED, ChainEvent.ALLOCATIONS_RELEASED}
    for event, status, to in moves:
        if event in returns or to == C.CANCELLED:
            continue
        assert chains.PROGRESS.index(to) >= chains.PROGRESS.index(status), (event, status, to)


def test_a_chain_refusal_says_what_the_chain_is():
    assert chains.transition(status=C.CANCELLED, event=ChainEvent.CANCELLED).reason == "is already cancelled"
    assert chains.transition(status=C.ADMINISTERED, event=ChainEvent.COLLECTED).reason == "is administered"
