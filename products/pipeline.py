"""The product side of the coordinators' board: each open chain's stage and its clock, and the product-side figures
(batches, holds, units), each a filter of a queryset the selectors scoped.

The same filters serve the board (which counts them) and the admin's lists (which show them: products.admin.
board_filters), so a number on the board and the rows behind its link cannot differ. None of them reads patient
data: a chain is known by its COI.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import DateTimeField, Exists, Min, OuterRef, Q, QuerySet, Subquery

from products.alerts import alert_windows
from products.choices import BatchStatus, CoiStatus, HoldStatus, UnitStatus
from products.models import Batch, ChainOfIdentity, Collection, QCResult, ReleaseTest, Unit
from products.rules.stages import (
    STAGES,
    TERMINAL,
    Bag,
    Dates,
    Stage,
    chain_stage,
    stage_days_field,
    stage_since,
)

DAY = timedelta(days=1)

# --- the pipeline --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineChain:
    """An open chain where it stands: its stage, since when, and the days its product allows there."""

    id: int
    coi: str
    product_code: str
    stage: Stage
    since: datetime
    expected_days: int

    @property
    def due_by(self) -> datetime:
        return self.since + self.expected_days * DAY

    def is_open(self, now: datetime) -> bool:
        """An infused chain leaves the board when its product's days after infusion are over."""
        return self.stage != TERMINAL or self.due_by > now

    def is_late(self, now: datetime) -> bool:
        return self.stage != TERMINAL and self.due_by < now

    def days_in_stage(self, now: datetime) -> float:
        return (now - self.since) / DAY


def _not_closed(chains: QuerySet[ChainOfIdentity], now: datetime) -> QuerySet[ChainOfIdentity]:
    """What may still be open, decided in the database so closed chains never leave it: not cancelled, and not
    infused longer ago than the product's days after infusion (a bag given before then closes the chain: the
    clock of that stage starts at the earliest infusion, see products.rules.stages.stage_since)."""
    given_long_ago = Unit.objects.filter(
        chain_id=OuterRef("pk"),
        status=UnitStatus.ADMINISTERED,
        last_event_at__lte=now - OuterRef("product__stage_days_administered") * DAY,
    )
    return chains.exclude(status=CoiStatus.CANCELLED).exclude(Q(status=CoiStatus.ADMINISTERED) & Exists(given_long_ago))


def pipeline(chains: QuerySet[ChainOfIdentity], *, now: datetime) -> list[PipelineChain]:
    """The open chains among `chains`, each at its stage (products.rules.stages decides it from one query's rows:
    the chain with its latest batch and first collection, and a second for the bags of those chains)."""
    latest_batch = Batch.objects.filter(chain_id=OuterRef("pk")).order_by("-started_at", "-id")
    first_collection = (
        Collection.objects.filter(chain_id=OuterRef("pk"))
        .order_by()
        .values("chain_id")
        .annotate(at=Min("collected_at"))
    )
    days = [f"product__{stage_days_field(stage)}" for stage in STAGES]
    rows = list(
        _not_closed(chains, now)
        .annotate(
            batch_status=Subquery(latest_batch.values("status")[:1]),
            batch_started_at=Subquery(latest_batch.values("started_at")[:1]),
            batch_changed_at=Subquery(latest_batch.values("status_changed_at")[:1]),
            first_collected_at=Subquery(first_collection.values("at"), output_field=DateTimeField()),
        )
        .order_by()
        .values(
            "id",
            "coi",
            "status",
            "created_at",
            "treatment_facility_id",
            "product__code",
            "batch_status",
            "batch_started_at",
            "batch_changed_at",
            "first_collected_at",
            *days,
        )
    )
    bags: dict[int, list[Bag]] = defaultdict(list)
    units = Unit.objects.filter(chain_id__in=[row["id"] for row in rows]).exclude(status=UnitStatus.DISCARDED)
    treating = {row["id"]: row["treatment_facility_id"] for row in rows}
    for chain_id, status, facility_id, last_event_at in units.values_list(
        "chain_id", "status", "current_facility_id", "last_event_at"
    ):
        bags[chain_id].append(Bag(status, facility_id == treating[chain_id], last_event_at))
    found = []
    for row in rows:
        stage = chain_stage(chain_status=row["status"], batch_status=row["batch_status"], bags=bags[row["id"]])
        if stage is None:
            continue
        dates = Dates(
            ordered_at=row["created_at"],
            first_collected_at=row["first_collected_at"],
            batch_status=row["batch_status"],
            batch_started_at=row["batch_started_at"],
            batch_changed_at=row["batch_changed_at"],
        )
        chain = PipelineChain(
            id=row["id"],
            coi=row["coi"],
            product_code=row["product__code"],
            stage=stage,
            since=stage_since(stage, dates, bags[row["id"]]),
            expected_days=row[f"product__{stage_days_field(stage)}"],
        )
        if chain.is_open(now):
            found.append(chain)
    return found


OPEN = "open"
STAGE_CHOICES: list[tuple[str, str]] = [(OPEN, "Any (open chains)"), *((stage.value, stage.label) for stage in STAGES)]


def chain_ids(chains: QuerySet[ChainOfIdentity], *, now: datetime, stage: str = OPEN, late: bool = False) -> list[int]:
    """The ids of the open chains at a stage (`open`: at any), only those running late if `late`."""
    return [
        chain.id
        for chain in pipeline(chains, now=now)
        if stage in (OPEN, chain.stage) and (chain.is_late(now) or not late)
    ]


# --- what needs a person: batches, holds, units ----------------------------------------------------------------

Figure = Callable[[QuerySet, datetime], QuerySet]


def _missing_result() -> Exists:
    """A test of the batch's release specification with no valid result yet (as products.rules.qc.judge: an
    invalidated result does not count)."""
    valid = QCResult.objects.filter(batch_id=OuterRef(OuterRef("pk")), spec_id=OuterRef("pk"), invalidated=False)
    return Exists(ReleaseTest.objects.filter(product_id=OuterRef("product_id")).exclude(Exists(valid)))


def batches_awaiting_qc(batches: QuerySet, now: datetime) -> QuerySet:
    """Made and in quarantine, with a test of the specification still without a valid result."""
    return batches.filter(_missing_result(), status=BatchStatus.QUARANTINE)


def batches_awaiting_release(batches: QuerySet, now: datetime) -> QuerySet:
    """In quarantine with a valid result for every test: QA's signed decision (release or reject) is next."""
    return batches.filter(~_missing_result(), status=BatchStatus.QUARANTINE)


def holds_open(holds: QuerySet, now: datetime) -> QuerySet:
    return holds.filter(status=HoldStatus.OPEN)


def units_in_transit(units: QuerySet, now: datetime) -> QuerySet:
    return units.filter(status=UnitStatus.SHIPPED)


def units_expiring(units: QuerySet, now: datetime) -> QuerySet:
    """Not given or discarded, and expiring within the warning window (or expired and still to be discarded): the
    monitoring scan's window for its expiry reminders (products.alerts)."""
    horizon = now + alert_windows().unit_expiry_warning
    return units.exclude(status__in=[UnitStatus.ADMINISTERED, UnitStatus.DISCARDED]).filter(expires_at__lte=horizon)


BATCH_FIGURES: Mapping[str, tuple[str, Figure]] = {
    "awaiting_qc": ("Awaiting QC results", batches_awaiting_qc),
    "awaiting_release": ("Awaiting release (every test has a valid result)", batches_awaiting_release),
}
HOLD_FIGURES: Mapping[str, tuple[str, Figure]] = {"open": ("Open", holds_open)}
UNIT_FIGURES: Mapping[str, tuple[str, Figure]] = {
    "in_transit": ("In transit", units_in_transit),
    "expiring": ("Expiring within the warning window", units_expiring),
}


# --- one facility of the caller's: where each record is ---------------------------------------------------------


def chain_at(facility_id: int) -> Q:
    """A chain treated, to be collected, made, or collected or manufactured at the facility."""
    return (
        Q(treatment_facility_id=facility_id)
        | Q(collection_facility_id=facility_id)
        | Q(product__manufacturing_facility_id=facility_id)
        | Exists(Collection.objects.filter(chain_id=OuterRef("pk"), facility_id=facility_id))
        | Exists(Batch.objects.filter(chain_id=OuterRef("pk"), facility_id=facility_id))
    )


def batch_at(facility_id: int) -> Q:
    return Q(facility_id=facility_id)


def unit_at(facility_id: int) -> Q:
    """Where the bag is, or where it is going."""
    return Q(current_facility_id=facility_id) | Q(destination_id=facility_id)


def hold_at(facility_id: int) -> Q:
    """A held batch made at the facility, or a held bag there or bound for it."""
    return (
        Q(batch__facility_id=facility_id)
        | Q(unit__current_facility_id=facility_id)
        | Q(unit__destination_id=facility_id)
    )
