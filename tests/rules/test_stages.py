"""Where a chain stands on the pipeline: every row of products.rules.stages' table, and when each stage's clock
starts."""

from datetime import UTC, datetime, timedelta

import pytest

from products.choices import BatchStatus, CoiStatus, UnitStatus
from products.rules.stages import (
    DEFAULT_STAGE_DAYS,
    STAGE_DAYS_FIELDS,
    STAGES,
    UNIT_STAGE,
    Bag,
    Dates,
    Stage,
    chain_stage,
    stage_since,
    unit_stage,
)

S, U, B = Stage, UnitStatus, BatchStatus
HERE, AWAY = True, False

# (chain status, latest batch status, bags as (status, at the treating facility), stage)
TABLE = [
    (CoiStatus.ORDERED, None, [], S.ORDERED),
    (CoiStatus.COLLECTED, None, [], S.COLLECTED),
    (CoiStatus.MANUFACTURING, None, [], S.MANUFACTURING),
    (CoiStatus.MANUFACTURING, B.IN_PROCESS, [], S.MANUFACTURING),
    (CoiStatus.MANUFACTURING, B.IN_PROCESS, [(U.MANUFACTURED, AWAY)], S.MANUFACTURING),
    (CoiStatus.MANUFACTURING, B.QUARANTINE, [(U.MANUFACTURED, AWAY)], S.QUARANTINE),
    (CoiStatus.MANUFACTURING, B.REJECTED, [(U.DISCARDED, AWAY)], S.MANUFACTURING),
    (CoiStatus.RELEASED, B.RELEASED, [], S.RELEASED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.MANUFACTURED, AWAY)], S.RELEASED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.STORED, AWAY)], S.RELEASED),  # in the factory's own store
    (CoiStatus.RELEASED, B.RELEASED, [(U.RECEIVED, AWAY)], S.RELEASED),  # at a depot, not the hospital
    (CoiStatus.RELEASED, B.RELEASED, [(U.RETURNED, AWAY)], S.RELEASED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.SHIPPED, AWAY)], S.SHIPPED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.RECEIVED, HERE)], S.AT_SITE),
    (CoiStatus.RELEASED, B.RELEASED, [(U.STORED, HERE)], S.AT_SITE),
    (CoiStatus.RELEASED, B.RELEASED, [(U.THAWED, HERE)], S.THAWED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.DISPENSED, HERE)], S.THAWED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.DISCARDED, HERE)], S.RELEASED),  # a discarded bag says nothing
    # several bags: the most advanced one decides
    (CoiStatus.RELEASED, B.RELEASED, [(U.MANUFACTURED, AWAY), (U.SHIPPED, AWAY)], S.SHIPPED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.STORED, HERE), (U.THAWED, HERE), (U.DISCARDED, HERE)], S.THAWED),
    (CoiStatus.RELEASED, B.RELEASED, [(U.SHIPPED, AWAY), (U.STORED, HERE)], S.AT_SITE),
    (CoiStatus.ADMINISTERED, B.RELEASED, [(U.ADMINISTERED, HERE)], S.ADMINISTERED),
    (CoiStatus.ADMINISTERED, B.RELEASED, [(U.ADMINISTERED, HERE), (U.STORED, HERE)], S.ADMINISTERED),
    (CoiStatus.CANCELLED, None, [], None),
    (CoiStatus.CANCELLED, B.REJECTED, [(U.DISCARDED, AWAY)], None),
]


@pytest.mark.parametrize(("chain_status", "batch_status", "bags", "stage"), TABLE)
def test_the_stage_of_a_chain(chain_status, batch_status, bags, stage):
    found = chain_stage(
        chain_status=chain_status, batch_status=batch_status, bags=[Bag(status, here) for status, here in bags]
    )
    assert found == stage


def test_every_unit_status_has_a_row():
    assert set(UNIT_STAGE) == set(UnitStatus.values)
    assert unit_stage(Bag(U.STORED, HERE)) == S.AT_SITE and unit_stage(Bag(U.STORED, AWAY)) == S.RELEASED


def test_an_unknown_chain_status_is_refused():
    with pytest.raises(ValueError, match="Unknown chain status"):
        chain_stage(chain_status="lost")


def test_the_stages_are_in_pipeline_order_with_a_default_and_a_field_each():
    assert [s.value for s in STAGES] == [
        "ordered",
        "collected",
        "manufacturing",
        "quarantine",
        "released",
        "shipped",
        "at_site",
        "thawed",
        "administered",
    ]
    assert set(DEFAULT_STAGE_DAYS) == set(STAGES)
    assert STAGE_DAYS_FIELDS[0] == "stage_days_ordered" and len(STAGE_DAYS_FIELDS) == len(STAGES)


T = datetime(2026, 3, 2, 12, tzinfo=UTC)


def day(n: float) -> datetime:
    return T + timedelta(days=n)


DATES = Dates(
    ordered_at=day(-20),
    first_collected_at=day(-15),
    batch_status=B.QUARANTINE,
    batch_started_at=day(-14),
    batch_changed_at=day(-3),
)
BAGS = [
    Bag(U.STORED, HERE, day(-2)),
    Bag(U.STORED, HERE, day(-1)),
    Bag(U.SHIPPED, AWAY, day(-0.5)),
    Bag(U.STORED, AWAY, day(-9)),  # at the factory: says "released", not "at site"
]


@pytest.mark.parametrize(
    ("stage", "dates", "since"),
    [
        (S.ORDERED, DATES, day(-20)),
        (S.COLLECTED, DATES, day(-15)),
        (S.COLLECTED, Dates(ordered_at=day(-20)), day(-20)),  # no collection on record: the order's date
        (
            S.MANUFACTURING,
            Dates(ordered_at=day(-20), batch_status=B.IN_PROCESS, batch_started_at=day(-14), batch_changed_at=day(-13)),
            day(-14),
        ),
        # after a rejection the wait for a new batch starts at the rejection
        (
            S.MANUFACTURING,
            Dates(ordered_at=day(-20), batch_status=B.REJECTED, batch_started_at=day(-14), batch_changed_at=day(-4)),
            day(-4),
        ),
        (S.QUARANTINE, DATES, day(-3)),
        (S.RELEASED, DATES, day(-3)),
        (S.AT_SITE, DATES, day(-2)),  # the earliest bag at the hospital
        (S.SHIPPED, DATES, day(-0.5)),
        (S.THAWED, DATES, day(-3)),  # no thawed bag on record: the batch's last change
    ],
)
def test_when_the_stage_began(stage, dates, since):
    assert stage_since(stage, dates, BAGS) == since
