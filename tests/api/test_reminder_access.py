"""Access decided once: the tracker decides who sees patient data; product-side reminders need no tracker
permission; the tracker's own migration decides the role groups' tracker permissions."""

import importlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.utils import timezone

from products.access import product_side_only
from products.alerts import alert_windows, batch_alerts, hold_alerts, unit_alerts
from products.choices import Role
from products.models import Batch, Hold
from products.services.batches import batch_complete
from products.services.holds import hold_open
from tests import journey
from tests.api.test_reminders_api import grade_2, quarantine_reminder
from tests.factories import UserFactory
from tracker.access import may_see_patients
from tracker.models import Reminder
from tracker.selectors import patients_visible_to, reminders_visible_to
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("roles", "sees_patients"),
    [
        ([Role.COORDINATOR], True),
        ([Role.CLINICIAN], True),
        ([Role.QA], True),
        ([Role.INTEGRATION], True),
        ([Role.MANUFACTURING], False),
        ([Role.MANUFACTURING, Role.CLINICIAN], True),  # a second role that works with patients opens them
        ([], False),  # no role, no patient data
    ],
)
def test_the_tracker_decides_who_may_see_patients_from_the_roles(roles, sees_patients):
    user = UserFactory(roles=roles, facilities=[])
    assert may_see_patients(user) is sees_patients
    assert product_side_only(user) is not sees_patients


@pytest.mark.parametrize(
    ("roles", "sees_patients"),
    [
        ([Role.SAFETY], False),  # the surveillance figures only (issue #12), never a patient
        ([Role.SAFETY, Role.MANUFACTURING], False),
        ([Role.SAFETY, Role.COORDINATOR], True),  # a second role that works with patients opens them
    ],
)
def test_the_safety_role_sees_no_patient_though_it_is_not_confined_to_the_product_side(roles, sees_patients):
    user = UserFactory(roles=roles, facilities=[])
    assert may_see_patients(user) is sees_patients
    assert not product_side_only(user)


def test_a_safety_officer_sees_no_patient_in_the_selectors_the_api_the_pages_or_the_admin(world, client_for, client):
    patient = journey.make_patient(world)
    officer = UserFactory(roles=[Role.SAFETY], facilities=[world.hospital])
    # Even staff status and a permission granted by hand open nothing: the role is decided before any permission.
    type(officer).objects.filter(pk=officer.pk).update(is_staff=True)
    officer.user_permissions.add(Permission.objects.get(content_type__app_label="tracker", codename="view_patient"))
    officer = type(officer).objects.get(pk=officer.pk)

    assert not patients_visible_to(officer).exists()
    api = client_for(officer)
    for path in ("/api/v1/patients/", f"/api/v1/patients/{patient.id}/", f"/api/v1/patients/{patient.id}/timeline/"):
        assert api.get(path).status_code == 403, path
    client.force_login(officer)
    assert client.get(f"/patients/{patient.id}/").status_code == 403
    assert client.get("/admin/tracker/patient/").status_code == 403
    assert client.get(f"/admin/tracker/patient/{patient.id}/change/").status_code == 403
    assert "/admin/tracker/patient/" not in client.get("/admin/").content.decode()

    # The same person given a clinical role sees the patient everywhere: only the safety role closed the doors.
    officer.groups.add(Group.objects.get(name=Role.CLINICIAN))
    officer = type(officer).objects.get(pk=officer.pk)
    assert list(patients_visible_to(officer)) == [patient]
    assert client_for(officer).get(f"/api/v1/patients/{patient.id}/").status_code == 200
    client.force_login(officer)
    assert client.get(f"/patients/{patient.id}/").status_code == 200
    assert client.get("/admin/tracker/patient/").status_code == 200


def test_superusers_see_patients_and_anonymous_users_do_not():
    assert may_see_patients(UserFactory(is_superuser=True, roles=[Role.MANUFACTURING], facilities=[]))
    assert not may_see_patients(AnonymousUser())


def _without_tracker_permissions(*roles: str) -> None:
    for role in roles:
        group = Group.objects.get(name=role)
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="tracker"))


@pytest.mark.parametrize("role", ["qa", "manufacturing"])
def test_product_side_roles_without_any_tracker_permission_still_see_and_acknowledge_their_reminders(
    world, client_for, settings, role
):
    # given: QA and manufacturing hold no permission on any tracker model
    _without_tracker_permissions("qa", "manufacturing")
    user = getattr(world, role)
    assert not {p for p in user.get_all_permissions() if p.startswith("tracker.")}
    patient_reminder = grade_2(world, journey.make_patient(world))
    batch_reminder = quarantine_reminder(world, settings)
    client = client_for(user)

    # when
    listed = client.get("/api/v1/reminders/").json()["results"]
    detail = client.get(f"/api/v1/reminders/{batch_reminder.id}/")
    acknowledged = client.post(f"/api/v1/reminders/{batch_reminder.id}/acknowledge/")

    # then: their factory's product-side reminder, and never the patient's
    assert [(r["id"], r["patient"]) for r in listed] == [(batch_reminder.id, None)]
    assert detail.status_code == 200
    assert acknowledged.status_code == 200, acknowledged.json()
    assert acknowledged.json()["acknowledged_by"] == user.username
    assert client.get(f"/api/v1/reminders/{patient_reminder.id}/").status_code == 404


def test_a_product_side_reminder_is_seen_by_every_member_of_its_facility_and_nobody_else(world, settings):
    batch_reminder = quarantine_reminder(world, settings)
    outsider = UserFactory(roles=[Role.QA], facilities=[world.hospital])
    factory_coordinator = UserFactory(roles=[Role.COORDINATOR], facilities=[world.factory_site])

    for member in (world.qa, world.manufacturing, world.integration, factory_coordinator):
        assert list(reminders_visible_to(member)) == [batch_reminder], member
    assert not reminders_visible_to(outsider).exists()
    assert not reminders_visible_to(world.clinician).exists()


def test_product_alerts_carry_no_patient_and_name_their_facility(world, settings):
    """products.alerts is the product side's interface: units, batches, holds, facilities; never a patient."""
    settings.BATCH_QUARANTINE_ALERT_DAYS, settings.HOLD_OPEN_ALERT_HOURS = 14, 24
    batch = journey.started_batch(world)
    batch_complete(actor=world.manufacturing, batch_id=batch.id)
    old = timezone.now() - timedelta(days=15)
    Batch.objects.filter(id=batch.id).update(status_changed_at=old)
    hold = hold_open(actor=world.qa, kind="recall", reason="Supplier recall", batch_id=batch.id)
    Hold.objects.filter(id=hold.id).update(opened_at=old)
    now, windows = timezone.now(), alert_windows()

    alerts = batch_alerts(now=now, windows=windows) + hold_alerts(now=now, windows=windows)

    assert [(a.kind, a.key, a.facility_id) for a in alerts] == [
        ("batch_quarantine", f"batch:{batch.id}:quarantine", world.factory_site.id),
        ("hold_open", f"hold:{hold.id}:open", world.factory_site.id),
    ]
    assert all(a.chain_id is None for a in alerts)  # nothing that leads to a patient
    assert unit_alerts(now=now, windows=windows) == []


def test_the_alert_windows_are_read_from_settings_when_asked(settings):
    settings.UNIT_EXPIRY_WARNING_DAYS, settings.BATCH_QUARANTINE_ALERT_DAYS, settings.HOLD_OPEN_ALERT_HOURS = 3, 9, 5
    windows = alert_windows()
    assert (windows.unit_expiry_warning, windows.quarantine_alert, windows.hold_open_alert) == (
        timedelta(days=3),
        timedelta(days=9),
        timedelta(hours=5),
    )


def test_the_scan_raises_the_product_side_alerts_as_reminders_without_a_patient(world, settings):
    settings.HOLD_OPEN_ALERT_HOURS = 24
    batch = journey.started_batch(world)
    hold = hold_open(actor=world.qa, kind="deviation", reason="Deviation DV-7", batch_id=batch.id)
    Hold.objects.filter(id=hold.id).update(opened_at=timezone.now() - timedelta(hours=25))

    monitoring_scan()
    monitoring_scan()  # one reminder per alert, however often the scan runs

    reminder = Reminder.objects.get(kind="hold_open")
    assert (reminder.patient_id, reminder.facility_id, reminder.dedupe_key) == (
        None,
        world.factory_site.id,
        f"hold:{hold.id}:open",
    )


def test_the_tracker_migration_decides_the_role_groups_tracker_permissions():
    """tracker/migrations/0008_role_permissions is the table of tracker permissions (with the donors' identity,
    added by 0015_donor_role_permissions); the groups hold exactly it, whatever the products' migrations granted
    before."""
    table = importlib.import_module("tracker.migrations.0008_role_permissions").GRANTS
    donors = importlib.import_module("tracker.migrations.0015_donor_role_permissions").GRANTS
    table = {role: {**table.get(role, {}), "donoridentity": donors.get(role, ())} for role in Role.values}
    for role in Role.values:
        held = set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__app_label="tracker")
            .values_list("codename", flat=True)
        )
        wanted = {f"{action}_{model}" for model, actions in table.get(role, {}).items() for action in actions}
        assert held == wanted, role
