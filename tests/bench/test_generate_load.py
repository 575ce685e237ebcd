"""The load generator at a small size, with every trigger and constraint on (`audit`): what it writes is what the
services would have written, so the benchmark measures realistic data."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from products.choices import UnitStatus
from products.models import ChainOfIdentity, CustodyRecord, Unit
from tracker.choices import CheckStatus
from tracker.loadgen import generate
from tracker.loadgen.plan import hospital_weights, plan_journey
from tracker.models import Administration, Assessment, Patient, Reminder, ScheduledCheck

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


PATIENTS = 20


@pytest.fixture
def generated():
    return generate(patients=PATIENTS, now=NOW, seed=7, due=25, stories=(200,), audit=True)


def test_every_patient_has_a_chain_order_and_the_infused_a_schedule(generated):
    assert Patient.objects.count() == PATIENTS + 1
    assert ChainOfIdentity.objects.count() == PATIENTS + 1
    infused = Administration.objects.count()
    assert PATIENTS // 2 <= infused <= PATIENTS + 1  # some are still on their way to the infusion
    assert ScheduledCheck.objects.values("administration").distinct().count() == infused
    assert Assessment.objects.count() >= infused * 50  # every 6 hours for two weeks
    assert generated.rows["tracker_scheduledcheck"] == ScheduledCheck.objects.count()


def test_the_checks_left_due_are_open_and_not_yet_reminded(generated):
    due = ScheduledCheck.objects.filter(status=CheckStatus.OPEN, reminded_at__isnull=True, due_at__lte=NOW)
    assert due.count() == 25
    assert not Reminder.objects.filter(check_item_id__in=due.values("id")).exists()


def test_custody_chains_and_signatures_verify(generated):
    out, err = StringIO(), StringIO()
    call_command("verify_chain", stdout=out, stderr=err)
    assert CustodyRecord.objects.count() >= 5 * Unit.objects.filter(status=UnitStatus.ADMINISTERED).count()


def test_the_story_patient_has_its_events(generated):
    patient_id = generated.story_patients[200]
    assert Patient.objects.filter(id=patient_id).exists()
    assert Assessment.objects.filter(patient_id=patient_id).count() >= 120


def test_the_same_seed_gives_the_same_programme(generated):
    world = generated.load.world
    weights = hospital_weights(world)
    again = [plan_journey(n, seed=7, now=NOW, world=world, hospital_weights=weights) for n in range(PATIENTS)]
    assert [(j.mrn, j.birth_date, j.infused_at, j.crs) for j in again] == [
        (j.mrn, j.birth_date, j.infused_at, j.crs) for j in generated.load.journeys
    ]
    assert set(Patient.objects.values_list("mrn", flat=True)) >= {j.mrn for j in again}


def test_the_command_prints_what_it_wrote():
    out = StringIO()
    call_command("generate_load", "--patients", "5", "--due", "3", "--story", "40", "--audit", stdout=out)
    assert "tracker_scheduledcheck" in out.getvalue()
    assert "story patient" in out.getvalue()
