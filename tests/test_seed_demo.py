from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from products.models import Allocation, Batch, ChainOfIdentity, Donor, Hold, Product, QCResult, Unit
from tracker.demo_allogeneic import MSC_PATIENTS
from tracker.models import AdverseEvent, Assessment, BedsideCheck, FollowUpVisit, Intervention, Patient, Reminder

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_chains_at_every_stage_and_is_idempotent(settings):
    settings.DEBUG = True

    call_command("seed_demo")
    call_command("seed_demo")

    assert Product.objects.filter(code__in=["demo-cart", "demo-msc"]).count() == 2
    assert Patient.objects.count() == 12 + 2  # the CAR-T stories, and two patients given MSC from inventory
    cart = {"product__code": "demo-cart"}
    assert sorted(ChainOfIdentity.objects.filter(**cart).values_list("status", flat=True)) == sorted(
        ["ordered", "collected", "manufacturing", "manufacturing"] + ["released"] * 4 + ["administered"] * 4
    )
    assert sorted(Batch.objects.filter(**cart).values_list("status", flat=True)) == sorted(
        ["in_process", "quarantine"] + ["released"] * 8
    )
    assert sorted(Unit.objects.filter(batch__product__code="demo-cart").values_list("status", flat=True)) == sorted(
        ["manufactured", "manufactured", "shipped", "stored", "thawed"] + ["administered"] * 4
    )
    # the allogeneic story: an eligible donor, one MSC lot of 8 units, two of them given to two patients
    donor = Donor.objects.get()
    assert donor.eligibility == "eligible" and donor.identity.family_name == "Weber"
    lot = Batch.objects.get(product__code="demo-msc")
    assert lot.status == "released" and lot.collection.donor == donor
    assert sorted(lot.units.values_list("status", flat=True)) == ["administered"] * 2 + ["manufactured"] * 6
    assert all(unit.storage_location for unit in lot.units.filter(status="manufactured"))
    given = Allocation.objects.filter(released_at=None).select_related("chain")
    assert sorted(a.chain.status for a in given) == ["administered", "administered"]
    assert [a.hla_matches for a in given.order_by("allocated_at")] == [2, None]
    # each infusion follows a matching bedside check of the bag's DIN, as a scanner sends it
    checks = BedsideCheck.objects.all()
    assert checks.count() == 4 + 2 and all(c.match and c.scanned_unit.startswith("=") for c in checks)
    # the infused patients' stories: CRS and ICANS episodes, treatments, adverse events, follow-up, reminders
    assert Assessment.objects.filter(crs_grade__gte=2).exists() and Assessment.objects.filter(icans_grade=3).exists()
    assert Intervention.objects.filter(drug="tocilizumab").exists()
    assert AdverseEvent.objects.filter(serious=True, expected=False, report_due_at__isnull=False).count() == 2
    assert FollowUpVisit.objects.filter(new_malignancy=True, car_testing_requested=True).exists()
    # the first MSC patient's acute GVHD (tracker.demo.gvhd_response_course), infused 12 days ago: grade III the day
    # before the course, grade II a week in (the day-28 response is still to come)
    staged = FollowUpVisit.objects.filter(patient__mrn=MSC_PATIENTS[0][0], gvhd_grade__isnull=False)
    assert list(staged.order_by("visit_date").values_list("gvhd_grade", flat=True)) == [3, 2]
    assert Reminder.objects.filter(kind="toxicity_grade", status="open", severity="urgent").exists()
    assert Reminder.objects.filter(kind="check_due").exists()
    # the hard stops: a bag held after a warm arrival and released by QA, signed; a sterility result set aside
    held = Hold.objects.get()
    assert (held.kind, held.status, held.opened_by, held.unit.status) == ("excursion", "released", None, "stored")
    assert held.decision_signature.signer.username == "qa" and held.rationale
    invalidated = QCResult.objects.get(invalidated=True)
    assert invalidated.spec.test == "sterility" and not invalidated.passed and invalidated.invalidation_signature
    assert invalidated.batch.status == "released"
    assert not Reminder.objects.filter(kind="temperature_excursion", status="open").exists()
    for username in ["coordinator", "clinician", "qa", "manufacturing", "integration", "admin"]:
        assert get_user_model().objects.get(username=username).check_password(f"{username}-demo")


def test_without_debug_there_are_no_demo_users_or_patients(settings):
    settings.DEBUG = False
    call_command("seed_demo")
    assert not get_user_model().objects.exists()
    assert not Patient.objects.exists()


def test_each_demo_story_carries_the_times_it_happened_at(settings):
    """seed_demo gives each service its story's moment as `now`: an order placed two years ago says so, and each
    step of a chain comes after the one before (no test library moves the clock)."""
    from products.models import CustodyRecord, Signature
    from tracker.models import Administration, TherapyOrder

    settings.DEBUG = True
    call_command("seed_demo")

    given = Administration.objects.select_related("order__chain", "unit__batch__release_signature")
    for administration in given.filter(unit__batch__product__code="demo-cart"):
        order, batch = administration.order, administration.unit.batch
        collected = order.chain.collections.get().collected_at
        shipped = CustodyRecord.objects.get(unit=administration.unit, event="shipped")
        assert order.ordered_at < collected < batch.started_at < batch.release_signature.signed_at < shipped.at
        assert shipped.recorded_at == shipped.at
        assert shipped.at < administration.administered_at
    # the MSC lot: made from the donor's cells, released, then allocated, shipped and given, in that order
    for administration in given.filter(unit__batch__product__code="demo-msc"):
        batch = administration.unit.batch
        allocated = administration.unit.allocations.get().allocated_at
        shipped = CustodyRecord.objects.get(unit=administration.unit, event="shipped").at
        assert batch.collection.collected_at < batch.started_at < batch.release_signature.signed_at < allocated
        assert administration.order.ordered_at < allocated < shipped < administration.administered_at
    oldest = TherapyOrder.objects.order_by("ordered_at").first()
    assert timezone.now() - oldest.ordered_at > timedelta(days=730)
    held = Hold.objects.get()
    assert held.opened_at == held.custody_record.at < held.decided_at
    invalidation = Signature.objects.get(meaning="invalidation")
    assert invalidation.signed_at < QCResult.objects.get(invalidated=True).batch.release_signature.signed_at
