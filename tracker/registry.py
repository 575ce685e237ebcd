"""Registry documents: for each course, what a registry asks at each time point (tracker.rules.registry), built from
the records, with the fields still missing so that coordinators can chase them before the document is due.

A follow-up document reports the records of its window (tracker.rules.registry.window): the patient's status at the
visit nearest the time point, and what happened in the window (worst CRS and ICANS, treatments, adverse events, new
malignancies, replication-competent-virus results). Nothing is stored: each document is read from the records when
asked, in a fixed number of queries per course however much is on record.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from products.choices import BatchStatus, CheckKind, Modality
from products.models import Batch, Unit
from tracker.choices import InterventionKind, RcvResult, SurvivalStatus
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    FollowUpVisit,
    Intervention,
    ScheduledCheck,
    TherapyOrder,
)
from tracker.rules import adverse_events as ae_rules
from tracker.rules import registry as rules
from tracker.selectors import weight_on

# Lymphodepleting conditioning precedes these products (e.g. fludarabine and cyclophosphamide, days -5 to -3):
# a registry's pre-infusion form asks for it.
CONDITIONED = frozenset({Modality.CAR_T, Modality.TCR_T, Modality.TIL})
RCV_RESULTS = (RcvResult.NEGATIVE, RcvResult.POSITIVE)


@dataclass(frozen=True)
class RegistryDocument:
    patient: int
    timepoint: str
    label: str
    coi: str
    due_date: date | None
    data: dict[str, Any]
    missing: list[str] = field(default_factory=list)


def registry_course(orders: QuerySet[TherapyOrder], *, coi: str | None = None) -> TherapyOrder | None:
    """The course a patient's registry documents describe: the order `coi`, else the latest infused (else the
    latest ordered)."""
    orders = orders.select_related("patient", "product", "chain")
    if coi:
        return orders.filter(chain__coi=coi).first()
    infused = orders.filter(administrations__voided_at=None).order_by("-administrations__administered_at", "-id")
    return infused.first() or orders.order_by("-ordered_at", "-id").first()


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class _Course:
    """Everything on record for one course, loaded once (a fixed number of queries)."""

    order: TherapyOrder
    administrations: list[Administration]
    batches: list[Batch]
    units: list[Unit]
    weight_kg: Any
    infused_at: datetime | None
    ends_at: datetime | None  # the patient's next course, which the later records belong to
    assessments: list[Assessment] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    visits: list[FollowUpVisit] = field(default_factory=list)
    rcv_due: list[datetime] = field(default_factory=list)

    @property
    def infused_on(self) -> date | None:
        return None if self.infused_at is None else timezone.localtime(self.infused_at).date()


def _load(order: TherapyOrder) -> _Course:
    patient = order.patient
    administrations = list(
        Administration.objects.filter(order=order, voided_at=None)
        .select_related("unit", "verification_signature")
        .order_by("administered_at", "id")
    )
    infused_at = administrations[0].administered_at if administrations else None
    batches = list(
        Batch.objects.filter(chain=order.chain).select_related("release_signature").order_by("started_at", "id")
    )
    units = list(Unit.objects.filter(chain=order.chain).order_by("unit_id"))
    day = timezone.localtime(infused_at).date() if infused_at else timezone.localdate()
    course = _Course(
        order=order,
        administrations=administrations,
        batches=batches,
        units=units,
        weight_kg=weight_on(patient_id=patient.id, day=day),
        infused_at=infused_at,
        ends_at=None,
    )
    if infused_at is None:
        return course
    course.ends_at = (
        Administration.objects.filter(patient=patient, voided_at=None, administered_at__gt=infused_at)
        .exclude(order=order)
        .order_by("administered_at")
        .values_list("administered_at", flat=True)
        .first()
    )

    def after(queryset: QuerySet, at: str) -> QuerySet:
        queryset = queryset.filter(patient=patient, **{f"{at}__gte": infused_at})
        return queryset.filter(**{f"{at}__lt": course.ends_at}) if course.ends_at else queryset

    course.assessments = list(after(Assessment.objects.all(), "assessed_at").order_by("assessed_at"))
    course.interventions = list(after(Intervention.objects.all(), "given_at").order_by("given_at"))
    course.adverse_events = list(after(AdverseEvent.objects.all(), "onset_at").order_by("onset_at", "id"))
    visits = FollowUpVisit.objects.filter(patient=patient, visit_date__gte=course.infused_on)
    if course.ends_at:
        visits = visits.filter(visit_date__lt=timezone.localtime(course.ends_at).date())
    course.visits = list(visits.order_by("visit_date", "id"))
    course.rcv_due = list(
        ScheduledCheck.objects.filter(administration__order=order, kind=CheckKind.RCV_TEST)
        .order_by("due_at")
        .values_list("due_at", flat=True)
    )
    return course


def _pre_infusion(course: _Course) -> tuple[dict[str, Any], list[str]]:
    order, patient = course.order, course.order.patient
    collections = [
        {
            "din": c.full_din,
            "collected_at": _iso(c.collected_at),
            "method": c.method,
            "volume_ml": str(c.volume_ml),
        }
        for c in order.chain.collections.order_by("collected_at", "id")
    ]
    conditioning = [
        {
            "regimen": c.regimen,
            "drug": c.drug,
            "dose": str(c.dose),
            "dose_unit": c.dose_unit,
            "given_on": _iso(c.given_on),
            "day_relative": c.day_relative,
        }
        for c in order.conditioning.order_by("given_on", "drug", "id")
    ]
    data = {
        "sex": patient.sex,
        "birth_date": _iso(patient.birth_date),
        "weight_kg": None if course.weight_kg is None else str(course.weight_kg),
        "product": order.product.code,
        "coi": order.chain.coi,
        "collections": collections,
        "conditioning": conditioning,
    }
    missing = [name for name in ("weight_kg", "collections") if not data[name]]
    if not conditioning and order.product.modality in CONDITIONED:
        missing.append("conditioning")
    return data, missing


def _product(course: _Course) -> tuple[dict[str, Any], list[str]]:
    product = course.order.product
    released = [b for b in course.batches if b.status == BatchStatus.RELEASED]
    signature = released[0].release_signature if released else None
    data = {
        "product": product.code,
        "name": product.name,
        "modality": product.modality,
        "source": product.source,
        "gene_modified": product.gene_modified,
        "coi": course.order.chain.coi,
        "lots": [
            {
                "lot_number": b.lot_number,
                "started_at": _iso(b.started_at),
                "status": b.status,
                "released_at": _iso(b.release_signature.signed_at) if b.release_signature else None,
            }
            for b in course.batches
        ],
        "released_at": _iso(signature.signed_at) if signature else None,
        "units": [
            {
                "unit_id": u.unit_id,
                "dose_cells": u.dose_cells,
                "volume_ml": str(u.volume_ml),
                "expires_at": _iso(u.expires_at),
            }
            for u in course.units
        ],
    }
    missing = [name for name in ("lots", "released_at", "units") if not data[name]]
    return data, missing


def _infusion(course: _Course) -> tuple[dict[str, Any], list[str]]:
    given = course.administrations
    per_kg = [a.dose_cells_per_kg for a in given]
    data = {
        "infused_at": _iso(course.infused_at),
        "route": given[0].route if given else None,
        "units": [a.unit.unit_id for a in given],
        "dose_cells": sum(a.dose_cells for a in given) if given else None,
        # The course's dose per kg adds each bag's; a bag without a weight on its day leaves it unknown.
        "dose_cells_per_kg": sum(per_kg) if given and None not in per_kg else None,  # type: ignore[arg-type]
        "weight_kg": None if course.weight_kg is None else str(course.weight_kg),
        "premedication": "; ".join(a.premedication for a in given if a.premedication),
        "infusion_reaction": "; ".join(a.infusion_reaction for a in given if a.infusion_reaction),
        "verified": bool(given) and all(a.verification_signature_id for a in given),
    }
    missing = [name for name in ("infused_at", "dose_cells_per_kg", "weight_kg") if data[name] is None]
    return data, missing


def _death(course: _Course) -> tuple[date, str] | None:
    """The death on record for this course, if any: its date and cause (the fatal event's term first)."""
    fatal = next((e for e in course.adverse_events if ae_rules.is_fatal(grade=e.grade, outcome=e.outcome)), None)
    for visit in course.visits:
        if visit.survival_status == SurvivalStatus.DEAD and visit.death_date:
            return visit.death_date, (fatal.get_term_display() if fatal else visit.cause_of_death or "unknown")
    if fatal is not None:
        return timezone.localtime(fatal.resolved_at or fatal.onset_at).date(), fatal.get_term_display()
    return None


def _follow_up(course: _Course, timepoint: rules.Timepoint) -> tuple[dict[str, Any], list[str]]:
    infused_on = course.infused_on
    assert infused_on is not None  # only called for an infused course
    first, end = rules.window(timepoint, infused_on)
    due = rules.due_on(timepoint, infused_on)

    def local_day(at: datetime) -> date:
        return timezone.localtime(at).date()

    def inside(day: date) -> bool:
        return first <= day < end

    death = _death(course)
    if death is not None and death[0] < first:
        earlier = {
            "window": {"first_day": _iso(first), "last_day": _iso(date.fromordinal(end.toordinal() - 1))},
            "survival_status": SurvivalStatus.DEAD.value,
            "death_date": _iso(death[0]),
            "cause_of_death": death[1],
        }
        return earlier, []  # died before this time point: nothing to chase

    visits = [v for v in course.visits if inside(v.visit_date)]
    visit = min(visits, key=lambda v: (abs((v.visit_date - due).days), v.visit_date), default=None)
    assessments = [a for a in course.assessments if inside(local_day(a.assessed_at))]
    events = [e for e in course.adverse_events if inside(local_day(e.onset_at))]
    treatments = {i.kind for i in course.interventions if inside(local_day(i.given_at))}
    died_here = death is not None and inside(death[0])
    grades = {
        term: max(
            [*(getattr(a, f"{term}_grade") for a in assessments), *(e.grade for e in events if e.term == term)],
            default=None,
        )
        for term in ("crs", "icans")
    }
    rcv = [v for v in visits if v.rcv_result != RcvResult.NOT_DONE]
    data: dict[str, Any] = {
        "window": {"first_day": _iso(first), "last_day": _iso(date.fromordinal(end.toordinal() - 1))},
        "visit_date": _iso(visit.visit_date) if visit else None,
        "survival_status": SurvivalStatus.DEAD.value if died_here else (visit.survival_status if visit else None),
        "death_date": _iso(death[0]) if died_here and death else None,
        "cause_of_death": death[1] if died_here and death else None,
        "disease_response": (visit.disease_response or None) if visit else None,
        "crs_max_grade": grades["crs"],
        "icans_max_grade": grades["icans"],
        "tocilizumab": InterventionKind.TOCILIZUMAB in treatments,
        "corticosteroids": InterventionKind.CORTICOSTEROID in treatments,
        "adverse_events": [
            {
                "term": e.term,
                "grade": e.grade,
                "onset_at": _iso(e.onset_at),
                "serious": e.serious,
                "outcome": e.outcome,
            }
            for e in events
        ],
        "new_malignancy": any(v.new_malignancy for v in visits)
        or any(e.term == "secondary_malignancy" for e in events),
        "rcv_result": rcv[-1].rcv_result if rcv else None,
    }
    missing = []
    if data["survival_status"] is None:
        missing.append("survival_status")
    if not died_here and (visit is None or not visit.disease_response):
        missing.append("disease_response")
    # An RCV result is asked for where the course's schedule called for a test in this window.
    rcv_expected = any(inside(local_day(at)) for at in course.rcv_due)
    if rcv_expected and not died_here and not any(v.rcv_result in RCV_RESULTS for v in visits):
        missing.append("rcv_result")
    return data, missing


BUILDERS = {"pre_infusion": _pre_infusion, "product": _product, "infusion": _infusion}


def _document(course: _Course, timepoint: rules.Timepoint) -> RegistryDocument:
    infused_on = course.infused_on
    data: dict[str, Any]
    if timepoint.follow_up:
        if infused_on is None:
            data, missing = {}, ["infused_at"]
        else:
            data, missing = _follow_up(course, timepoint)
    else:
        data, missing = BUILDERS[timepoint.code](course)
    return RegistryDocument(
        patient=course.order.patient_id,
        timepoint=timepoint.code,
        label=timepoint.label,
        coi=course.order.chain.coi,
        due_date=rules.due_on(timepoint, infused_on) if infused_on else None,
        data=data,
        missing=missing,
    )


def registry_documents(*, order: TherapyOrder, timepoint: str | None = None) -> list[RegistryDocument]:
    """The course's documents: every time point, or the one asked for."""
    course = _load(order)
    wanted = [rules.BY_CODE[timepoint]] if timepoint else list(rules.TIMEPOINTS)
    return [_document(course, t) for t in wanted]
