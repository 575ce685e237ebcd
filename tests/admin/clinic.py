"""Clinical records for the admin tests, built through the real services (as the API and the admin do)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from products.models import Batch
from products.services.batches import batch_complete
from tests import journey
from tests.journey import World
from tracker.models import Administration, Reminder, TherapyOrder, Webhook
from tracker.services.clinical import (
    adverse_event_record,
    assessment_record,
    conditioning_record,
    follow_up_record,
    intervention_record,
)
from tracker.services.scan import monitoring_scan


def grade_2(world: World, patient: Any, minutes_ago: int = 5) -> Reminder:
    """39.0 C with hypotension needing fluids: CRS grade 2, and at once an urgent reminder."""
    assessment = assessment_record(
        actor=world.clinician,
        patient=patient,
        assessed_at=timezone.now() - timedelta(minutes=minutes_ago),
        temperature_c=Decimal("39.0"),
        hypotension="fluids",
    )
    return Reminder.objects.get(dedupe_key=f"assessment:{assessment.id}")


def quarantine_reminder(world: World, settings: Any) -> Reminder:
    """A batch left in quarantine too long: a product-side reminder (no patient) at the factory."""
    settings.BATCH_QUARANTINE_ALERT_DAYS = 14
    batch = journey.started_batch(world)
    batch_complete(actor=world.manufacturing, batch_id=batch.id)
    Batch.objects.filter(id=batch.id).update(status_changed_at=timezone.now() - timedelta(days=15))
    monitoring_scan()
    return Reminder.objects.get(kind="batch_quarantine")


@dataclass
class Clinic:
    order: TherapyOrder
    administration: Administration
    urgent: Reminder


def clinic(world: World, days_ago: float = 3) -> Clinic:
    """A patient infused `days_ago` days ago with one of each clinical record, the scan run, and a webhook."""
    order, administration = journey.infused_patient(world, days_ago=days_ago)
    patient = order.patient
    day0 = administration.administered_at
    conditioning_record(
        actor=world.clinician,
        order=order,
        regimen="Flu/Cy",
        drug="fludarabine",
        dose=Decimal("30"),
        given_on=(day0 - timedelta(days=5)).date(),
        day_relative=-5,
    )
    assessment_record(
        actor=world.clinician,
        patient=patient,
        assessed_at=day0 + timedelta(hours=20),
        temperature_c=Decimal("38.2"),
        ice_score=8,
        crp_mg_l=Decimal("40"),
    )
    urgent = grade_2(world, patient)
    intervention_record(
        actor=world.clinician,
        patient=patient,
        given_at=timezone.now() - timedelta(minutes=2),
        kind="tocilizumab",
        drug="tocilizumab",
        dose=Decimal("8"),
        dose_unit="mg/kg",
        route="IV",
        indication="crs",
    )
    adverse_event_record(
        actor=world.clinician,
        patient=patient,
        term="crs",
        grade=2,
        onset_at=day0 + timedelta(hours=20),
        aware_at=day0 + timedelta(hours=21),
        serious=True,
        expected=False,
    )
    follow_up_record(actor=world.clinician, patient=patient, visit_date=timezone.localdate(), wellbeing_score=7)
    Webhook.objects.create(
        name="EHR", url="https://ehr.example.org/hook", secret="s3cret-value", facility=world.hospital
    )
    monitoring_scan()
    return Clinic(order=order, administration=administration, urgent=urgent)
