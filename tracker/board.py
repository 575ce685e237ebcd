"""The coordinators' board: every open chain by stage, the vein-to-vein time, and what needs a person today.

`board()` is the one selector the admin's home page and `GET /api/v1/board/` both read. Each figure is a filter of
a queryset the selectors scoped to the caller (products.pipeline for the product side, this module for the patient
side); the admin's lists apply the same filters (`?board=`, `?stage=`, `?at=`), so the number on the board and the
rows behind its link are one and the same. The query count does not depend on the number of chains: one query per
figure, two for the pipeline, two for the vein-to-vein time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from products.choices import CoiStatus, Severity
from products.models import Collection, Facility
from products.pipeline import (
    BATCH_FIGURES,
    HOLD_FIGURES,
    UNIT_FIGURES,
    Figure,
    PipelineChain,
    batch_at,
    chain_at,
    hold_at,
    pipeline,
    unit_at,
)
from products.rules.stages import STAGES
from products.selectors import (
    batches_visible_to,
    chains_visible_to,
    holds_visible_to,
    member_facilities,
    units_visible_to,
)
from tracker.access import may_see_patients
from tracker.choices import ReminderStatus
from tracker.models import Administration, TherapyOrder
from tracker.rules.monitoring import REPORT_WARNING
from tracker.selectors import AnyUser, adverse_events_visible_to, orders_visible_to, reminders_visible_to

DAY = timedelta(days=1)
# "Planned for the next 7 days": today and the six days after it.
PLANNED_WINDOW_DAYS = 7
# The vein-to-vein period when none is chosen: infusions of the last year.
DEFAULT_PERIOD_DAYS = 365
# A plan no longer matters once the chain is infused or cancelled.
PLAN_CLOSED = (CoiStatus.ADMINISTERED, CoiStatus.CANCELLED)


# --- the patient side's figures ---------------------------------------------------------------------------------


def _planned(field_name: str) -> Figure:
    def figure(orders: QuerySet, now: datetime) -> QuerySet:
        today = timezone.localdate(now)
        window = (today, today + (PLANNED_WINDOW_DAYS - 1) * DAY)
        return orders.filter(**{f"{field_name}__range": window}).exclude(chain__status__in=PLAN_CLOSED)

    return figure


def _reminders(severity: str) -> Figure:
    def figure(reminders: QuerySet, now: datetime) -> QuerySet:
        return reminders.filter(status=ReminderStatus.OPEN, severity=severity)

    return figure


def reports_due(events: QuerySet, now: datetime) -> QuerySet:
    """Expedited reports not yet submitted that are due within 3 days or overdue (the scan's warning)."""
    return events.filter(
        report_due_at__isnull=False, report_submitted_at__isnull=True, report_due_at__lte=now + REPORT_WARNING
    )


ORDER_FIGURES: dict[str, tuple[str, Figure]] = {
    "conditioning_next_7_days": ("Conditioning planned in the next 7 days", _planned("planned_conditioning_on")),
    "infusions_next_7_days": ("Infusion planned in the next 7 days", _planned("planned_infusion_on")),
}
REMINDER_FIGURES: dict[str, tuple[str, Figure]] = {
    Severity.URGENT.value: ("Open and urgent", _reminders(Severity.URGENT)),
    Severity.ROUTINE.value: ("Open and routine", _reminders(Severity.ROUTINE)),
}
ADVERSE_EVENT_FIGURES: dict[str, tuple[str, Figure]] = {
    "reports_due": ("Report due within 3 days or overdue", reports_due),
}


def order_at(facility_id: int) -> Q:
    return Q(patient__facility_id=facility_id)


def reminder_at(facility_id: int) -> Q:
    return Q(facility_id=facility_id)


def adverse_event_at(facility_id: int) -> Q:
    return Q(patient__facility_id=facility_id)


# --- the vein-to-vein time ----------------------------------------------------------------------------------------


class DaysBetween(Func):
    """(end - start) in days, with fractions."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
    arg_joiner = " - "
    output_field = FloatField()


def with_vein_to_vein(orders: QuerySet[TherapyOrder]) -> QuerySet[TherapyOrder]:
    """Each order with its first collection, its first infusion (not voided) and the days between them (once)."""
    if "vein_to_vein_days" in orders.query.annotations:
        return orders
    first_collection = (
        Collection.objects.filter(chain_id=OuterRef("chain_id"))
        .order_by()
        .values("chain_id")
        .annotate(at=Min("collected_at"))
        .values("at")
    )
    first_infusion = (
        Administration.objects.filter(order_id=OuterRef("pk"), voided_at=None)
        .order_by()
        .values("order_id")
        .annotate(at=Min("administered_at"))
        .values("at")
    )
    return orders.annotate(
        first_collected_at=Subquery(first_collection, output_field=DateTimeField()),
        first_infused_at=Subquery(first_infusion, output_field=DateTimeField()),
    ).annotate(vein_to_vein_days=DaysBetween(F("first_infused_at"), F("first_collected_at")))


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The period's days (both included) as times in the site's time zone."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until + DAY, time.min))
    return start, end


def infused_between(orders: QuerySet[TherapyOrder], since: date, until: date) -> QuerySet[TherapyOrder]:
    """Orders whose first infusion fell in the period and whose collection is on record."""
    start, end = period_bounds(since, until)
    return with_vein_to_vein(orders).filter(
        Q(first_infused_at__gte=start, first_infused_at__lt=end, first_collected_at__isnull=False)
    )


@dataclass(frozen=True)
class ChainTime:
    coi: str
    product_code: str
    order_id: int
    days: float


@dataclass(frozen=True)
class VeinToVein:
    """Per product: chains first infused in the period, and the median and range of their vein-to-vein days."""

    product_id: int
    product_code: str
    product_name: str
    n: int
    median: float
    min: float
    max: float
    chains: list[ChainTime] = field(default_factory=list)


class Median(Aggregate):
    """PostgreSQL's continuous median (the mean of the middle two of an even count)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def vein_to_vein(orders: QuerySet[TherapyOrder], since: date, until: date) -> list[VeinToVein]:
    """Collection to first infusion per product, aggregated in the database; and each chain's time (the chart)."""
    infused = infused_between(orders, since, until)
    summary = (
        infused.order_by("product__code")
        .values("product_id", "product__code", "product__name")
        .annotate(
            n=Count("id"),
            median=Median("vein_to_vein_days"),
            shortest=Min("vein_to_vein_days"),
            longest=Max("vein_to_vein_days"),
        )
    )
    chains: dict[int, list[ChainTime]] = {}
    # vein_to_vein_days is an annotation (with_vein_to_vein), which django-stubs cannot see.
    rows = infused.order_by("vein_to_vein_days", "chain__coi").values_list(  # type: ignore[misc]
        "product_id", "product__code", "chain__coi", "id", "vein_to_vein_days"
    )
    for product_id, code, coi, order_id, days in rows:
        chains.setdefault(product_id, []).append(ChainTime(coi, code, order_id, round(days, 1)))
    return [
        VeinToVein(
            product_id=row["product_id"],
            product_code=row["product__code"],
            product_name=row["product__name"],
            n=row["n"],
            median=round(row["median"], 1),
            min=round(row["shortest"], 1),
            max=round(row["longest"], 1),
            chains=chains.get(row["product_id"], []),
        )
        for row in summary
    ]


# --- the board ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingBatch:
    """A batch in quarantine and what it waits for (QC results, or QA's release)."""

    id: int
    lot_number: str
    coi: str | None
    product_code: str
    since: datetime
    waiting_for: str


# How many waiting batches the board names (the counts link to all of them).
WAITING_SHOWN = 10


def waiting_batches(batches: QuerySet, now: datetime) -> list[WaitingBatch]:
    """The batches that have waited longest for QC results or release, oldest first (one query)."""
    rows = (
        BATCH_FIGURES["awaiting_qc"][1](batches, now)
        .annotate(waiting_for=Value("QC results"))
        .union(BATCH_FIGURES["awaiting_release"][1](batches, now).annotate(waiting_for=Value("release")))
    )
    found = rows.order_by("status_changed_at", "lot_number").values_list(
        "id", "lot_number", "chain__coi", "product__code", "status_changed_at", "started_at", "waiting_for"
    )[:WAITING_SHOWN]
    return [
        WaitingBatch(id, lot, coi, code, changed or started, waiting_for)
        for id, lot, coi, code, changed, started, waiting_for in found
    ]


@dataclass(frozen=True)
class Board:
    """Every figure of the board, for one user (and one of their facilities, or all)."""

    now: datetime
    facility: Facility | None
    since: date
    until: date
    patient_data: bool
    stages: dict[str, int]
    late_by_stage: dict[str, int]
    chains: list[PipelineChain]
    late: list[PipelineChain]
    awaiting_qc: int
    awaiting_release: int
    waiting_batches: list[WaitingBatch]
    open_holds: int
    units_in_transit: int
    units_expiring: int
    conditioning_next_7_days: int | None
    infusions_next_7_days: int | None
    reminders: dict[str, int]
    reports_due: int | None
    vein_to_vein: list[VeinToVein]

    @property
    def open_chains(self) -> int:
        return sum(self.stages.values())


def default_period(now: datetime) -> tuple[date, date]:
    today = timezone.localdate(now)
    return today - DEFAULT_PERIOD_DAYS * DAY, today


def board_facilities(user: AnyUser) -> QuerySet[Facility]:
    """The facilities the board may be narrowed to: the user's own (every one, for superusers)."""
    return member_facilities(user, active_only=False).order_by("name")


def board(
    *,
    user: AnyUser,
    facility: Facility | None = None,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> Board:
    """The board of `user`: what the selectors let them see, at `facility` if given (one of theirs)."""
    now = now or timezone.now()
    default_since, default_until = default_period(now)
    since, until = since or default_since, until or default_until

    def at(queryset: QuerySet, where: Callable[[int], Q]) -> QuerySet:
        return queryset.filter(where(facility.pk)) if facility is not None else queryset

    chains = at(chains_visible_to(user), chain_at)
    batches = at(batches_visible_to(user), batch_at)
    holds = at(holds_visible_to(user), hold_at)
    units = at(units_visible_to(user), unit_at)
    reminders = at(reminders_visible_to(user), reminder_at)
    patient_data = may_see_patients(user)

    found = pipeline(chains, now=now)
    stages = {stage.value: 0 for stage in STAGES}
    late_by_stage = {stage.value: 0 for stage in STAGES}
    for chain in found:
        stages[chain.stage] += 1
        late_by_stage[chain.stage] += chain.is_late(now)
    late = sorted((c for c in found if c.is_late(now)), key=lambda c: (c.due_by, c.coi))

    def count(queryset: QuerySet, figures: Mapping[str, tuple[str, Figure]], key: str) -> int:
        return figures[key][1](queryset, now).count()

    orders = at(orders_visible_to(user), order_at) if patient_data else None
    events = at(adverse_events_visible_to(user), adverse_event_at) if patient_data else None
    return Board(
        now=now,
        facility=facility,
        since=since,
        until=until,
        patient_data=patient_data,
        stages=stages,
        late_by_stage=late_by_stage,
        chains=found,
        late=late,
        awaiting_qc=count(batches, BATCH_FIGURES, "awaiting_qc"),
        awaiting_release=count(batches, BATCH_FIGURES, "awaiting_release"),
        waiting_batches=waiting_batches(batches, now),
        open_holds=count(holds, HOLD_FIGURES, "open"),
        units_in_transit=count(units, UNIT_FIGURES, "in_transit"),
        units_expiring=count(units, UNIT_FIGURES, "expiring"),
        conditioning_next_7_days=count(orders, ORDER_FIGURES, "conditioning_next_7_days")
        if orders is not None
        else None,
        infusions_next_7_days=count(orders, ORDER_FIGURES, "infusions_next_7_days") if orders is not None else None,
        reminders={severity: count(reminders, REMINDER_FIGURES, severity) for severity in REMINDER_FIGURES},
        reports_due=count(events, ADVERSE_EVENT_FIGURES, "reports_due") if events is not None else None,
        vein_to_vein=vein_to_vein(orders, since, until) if orders is not None else [],
    )
