import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from products.models import Batch, ChainOfIdentity, Product, Unit
from tracker.models import Patient

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_chains_at_every_stage_and_is_idempotent(settings):
    settings.DEBUG = True

    call_command("seed_demo")
    call_command("seed_demo")

    assert Product.objects.filter(code__in=["demo-cart", "demo-msc"]).count() == 2
    assert Patient.objects.count() == 8
    assert sorted(ChainOfIdentity.objects.values_list("status", flat=True)) == sorted(
        ["ordered", "collected", "manufacturing", "manufacturing", "released", "released", "released", "released"]
    )
    assert sorted(Batch.objects.values_list("status", flat=True)) == sorted(
        ["in_process", "quarantine", "released", "released", "released", "released"]
    )
    assert sorted(Unit.objects.values_list("status", flat=True)) == sorted(
        ["manufactured", "manufactured", "shipped", "stored", "thawed"]
    )
    for username in ["coordinator", "clinician", "qa", "manufacturing", "integration", "admin"]:
        assert get_user_model().objects.get(username=username).check_password(f"{username}-demo")


def test_without_debug_there_are_no_demo_users_or_patients(settings):
    settings.DEBUG = False
    call_command("seed_demo")
    assert not get_user_model().objects.exists()
    assert not Patient.objects.exists()
