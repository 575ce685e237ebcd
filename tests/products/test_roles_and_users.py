import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from products.models import FacilityMembership
from tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db


def test_migrate_creates_the_five_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "coordinator",
        "clinician",
        "qa",
        "manufacturing",
        "integration",
    }


def test_create_user_with_role_facilities_and_password():
    FacilityFactory(code="north")
    FacilityFactory(code="south")

    call_command(
        "create_user",
        "nurse1",
        "--role",
        "clinician",
        "--facility",
        "north",
        "--facility",
        "south",
        "--password",
        "a-long-password-1",
    )

    user = get_user_model().objects.get(username="nurse1")
    assert user.check_password("a-long-password-1")
    assert list(user.groups.values_list("name", flat=True)) == ["clinician"]
    assert set(FacilityMembership.objects.filter(user=user).values_list("facility__code", flat=True)) == {
        "north",
        "south",
    }
    assert user.is_staff is False


def test_create_user_gives_admin_access_to_coordinators():
    call_command("create_user", "coord", "--role", "coordinator", "--password", "a-long-password-1")
    assert get_user_model().objects.get(username="coord").is_staff is True


def test_create_user_refuses_an_unknown_facility_and_writes_nothing():
    with pytest.raises(CommandError, match="nowhere"):
        call_command("create_user", "ghost", "--role", "qa", "--facility", "nowhere", "--password", "pw-long-enough")
    assert not get_user_model().objects.filter(username="ghost").exists()


def test_create_user_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        call_command("create_user", "ghost", "--role", "wizard", "--password", "pw-long-enough")


def test_create_user_prompts_for_the_password_when_not_given(monkeypatch):
    answers = iter(["typed-password-9", "typed-password-9"])
    monkeypatch.setattr("products.management.commands.create_user.getpass", lambda prompt: next(answers))
    call_command("create_user", "prompted", "--role", "clinician")
    assert get_user_model().objects.get(username="prompted").check_password("typed-password-9")
