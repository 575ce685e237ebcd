"""Monitoring in the admin: reminders urgent first, acknowledged and resolved through the services (who and when),
the schedule and the deliveries read-only, webhooks with a write-only secret, and who sees what."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from products.choices import Role
from tests import journey
from tests.admin.clinic import grade_2, quarantine_reminder
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import url
from tests.factories import UserFactory
from tracker.models import Notification, Reminder, ScheduledCheck, Webhook, WebhookEvent
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


def listed(client, model, query: str = "") -> list:
    response = client.get(f"{url(model, 'changelist')}?{query}")
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def act(client, action: str, reminders, **extra):
    return client.post(
        url(Reminder, "changelist"),
        {"action": action, "_selected_action": [str(r.pk) for r in reminders], "index": "0", **extra},
        follow=True,
    )


def test_reminders_are_listed_urgent_first_then_by_due_time(client_for, world):
    order, _ = journey.infused_patient(world, days_ago=1.2)
    monitoring_scan()  # the day-1 checks are due: routine reminders
    urgent = grade_2(world, order.patient)

    reminders = listed(client_for(world.coordinator), Reminder)

    assert reminders[0] == urgent
    routine = reminders[1:]
    assert routine and {r.severity for r in routine} == {"routine"}
    assert [r.due_at for r in routine] == sorted(r.due_at for r in routine)
    assert routine[0].due_at < urgent.due_at  # due earlier, yet listed after the urgent one


def test_acknowledging_records_who_and_when(client_for, world):
    reminder = grade_2(world, journey.make_patient(world))
    before = timezone.now()

    response = act(client_for(world.coordinator), "acknowledge", [reminder])

    reminder.refresh_from_db()
    assert reminder.status == "acknowledged" and reminder.acknowledged_by == world.coordinator
    assert before <= reminder.acknowledged_at <= timezone.now()
    assert any("Acknowledged 1 reminder" in m for m in messages_of(response))
    assert f"by {world.coordinator}" in response.content.decode()


def test_acknowledging_from_the_reminders_page(client_for, world):
    reminder = grade_2(world, journey.make_patient(world))
    client = client_for(world.coordinator)
    page = client.get(url(Reminder, "change", reminder.pk))
    assert page.status_code == 200 and page.context["record_panel"]["alert"] is True
    data = form_data(page, "reminder_form")
    data.pop("_save", None)
    data["CHANGE_FORM-action"] = "acknowledge"

    client.post(url(Reminder, "change", reminder.pk), data)

    reminder.refresh_from_db()
    assert reminder.status == "acknowledged" and reminder.acknowledged_by == world.coordinator


def test_resolving_asks_what_was_done_then_records_who_and_when(client_for, world):
    first, second = (grade_2(world, journey.make_patient(world, mrn=f"R-{n}")) for n in (1, 2))
    client = client_for(world.coordinator)

    confirm = act(client, "resolve", [first, second])

    assert confirm.status_code == 200 and len(confirm.context["records"]) == 2
    resolve_url = confirm.redirect_chain[-1][0]
    response = client.post(resolve_url, {"resolution": "Assessed, tocilizumab given"}, follow=True)

    for reminder in (first, second):
        reminder.refresh_from_db()
        assert reminder.status == "resolved" and reminder.resolved_by == world.coordinator
        assert reminder.resolution == "Assessed, tocilizumab given"
        assert reminder.resolved_at is not None
    assert any("Resolved 2 reminders" in m for m in messages_of(response))
    # Resolved reminders leave the default list ("to do"); they are still there for everyone to read.
    assert listed(client, Reminder) == []
    assert {r.pk for r in listed(client, Reminder, "status=resolved")} == {first.pk, second.pk}


def test_resolving_what_is_resolved_already_changes_nothing(client_for, world):
    reminder = grade_2(world, journey.make_patient(world))
    client = client_for(world.coordinator)
    act(client, "resolve", [reminder])
    client.post(f"{url(Reminder, 'resolve')}?ids={reminder.pk}", {"resolution": "first"})
    reminder.refresh_from_db()
    resolved_at = reminder.resolved_at

    response = client.post(f"{url(Reminder, 'resolve')}?ids={reminder.pk}", {"resolution": "second"}, follow=True)

    reminder.refresh_from_db()
    assert (reminder.resolution, reminder.resolved_at) == ("first", resolved_at)
    assert any("Nothing to resolve" in m for m in messages_of(response))


def test_another_facilitys_coordinator_sees_no_reminder_checks_or_deliveries(client_for, world):
    order, _ = journey.infused_patient(world, days_ago=2)
    monitoring_scan()
    reminder = grade_2(world, order.patient)
    assert Notification.objects.exists()
    stranger = UserFactory(username="far-coord", roles=[Role.COORDINATOR], facilities=[world.other_hospital])
    client = client_for(stranger)

    for model in (Reminder, ScheduledCheck, Notification):
        assert listed(client, model, "status=all" if model is Reminder else "") == [], model
    assert client.get(url(Reminder, "change", reminder.pk)).status_code == 302
    # Nor can they act on it by posting its id.
    act(client, "acknowledge", [reminder])
    client.post(f"{url(Reminder, 'resolve')}?ids={reminder.pk}", {"resolution": "not mine"})
    reminder.refresh_from_db()
    assert reminder.status == "open"


def test_manufacturing_sees_product_side_reminders_only_and_cannot_act_on_them(client_for, world, settings):
    patient_side = grade_2(world, journey.make_patient(world))
    product_side = quarantine_reminder(world, settings)
    client = client_for(world.manufacturing)

    assert listed(client, Reminder) == [product_side]
    assert client.get(url(Reminder, "change", patient_side.pk)).status_code == 302
    page = client.get(url(Reminder, "change", product_side.pk))
    assert page.status_code == 200 and patient_side.message not in page.content.decode()
    assert page.context["action_form"] is None  # neither acknowledge nor resolve is offered
    act(client, "acknowledge", [product_side])
    product_side.refresh_from_db()
    assert product_side.status == "open"
    for model in (ScheduledCheck, Notification):
        assert client.get(url(model, "changelist")).status_code == 403


def test_qa_sees_product_side_reminders_of_its_facilities_only(client_for, world, settings):
    grade_2(world, journey.make_patient(world))
    product_side = quarantine_reminder(world, settings)
    assert listed(client_for(world.qa), Reminder) == [product_side]


def test_the_coordinator_acknowledges_a_product_side_reminder_at_their_site(
    client_for, world, factory_coordinator, settings
):
    product_side = quarantine_reminder(world, settings)
    act(client_for(factory_coordinator), "acknowledge", [product_side])
    product_side.refresh_from_db()
    assert product_side.acknowledged_by == factory_coordinator


# --- the schedule and the deliveries ----------------------------------------------------------------------------


def test_the_schedule_is_read_only_and_filters_overdue_checks(client_for, world):
    _order, administration = journey.infused_patient(world, days_ago=3)
    client = client_for(world.coordinator)

    overdue = listed(client, ScheduledCheck, "due=overdue")

    assert overdue and all(c.grace_until < timezone.now() and c.status == "open" for c in overdue)
    assert {c.kind for c in overdue} >= {"toxicity_check"}
    upcoming = listed(client, ScheduledCheck, "due=upcoming&kind__exact=follow_up_visit")
    assert upcoming and all(c.due_at > timezone.now() for c in upcoming)
    assert client.get(url(ScheduledCheck, "add")).status_code == 403
    page = client.get(url(ScheduledCheck, "change", overdue[0].pk))
    assert page.context["has_change_permission"] is False and "OVERDUE" in page.content.decode()
    # The administration's page lists the same schedule.
    schedule = client.get(url(ScheduledCheck, "changelist") + f"?administration__id__exact={administration.pk}")
    assert schedule.context["cl"].result_count == ScheduledCheck.objects.filter(administration=administration).count()


def test_deliveries_are_listed_read_only_with_their_state(client_for, world):
    grade_2(world, journey.make_patient(world))
    notification = Notification.objects.get()  # the hospital's clinician, by email
    Notification.objects.filter(pk=notification.pk).update(attempts=2, last_error="SMTPException: timeout")
    client = client_for(world.coordinator)

    rows = listed(client, Notification)

    assert rows == [notification]
    page = client.get(url(Notification, "changelist")).content.decode()
    assert world.clinician.email in page and "SMTPException: timeout" in page
    assert client.get(url(Notification, "change", notification.pk)).context["has_change_permission"] is False
    assert client.get(url(Notification, "add")).status_code == 403


# --- webhooks ------------------------------------------------------------------------------------------------


SECRET_1 = "very-secret-1-" + "a" * 32
SECRET_2 = "very-secret-2-" + "b" * 32


def test_a_webhooks_secret_is_never_shown_back(client_for, world, dns):
    dns["ehr.example.org"] = ["93.184.215.14"]
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Webhook, "add")), "webhook_form")
    data.update(name="EHR", url="https://ehr.example.org/hook", secret=SECRET_1, facility=str(world.hospital.pk))

    assert client.post(url(Webhook, "add"), data).status_code == 302

    hook = Webhook.objects.get()
    assert hook.secret == SECRET_1
    pages = [
        client.get(url(Webhook, "changelist")),
        client.get(url(Webhook, "change", hook.pk)),
        client.get(url(Webhook, "history", hook.pk)),
    ]
    for page in pages:
        assert page.status_code == 200
        assert SECRET_1 not in page.content.decode()

    # Saved again without typing it: the secret stays. Typed anew: replaced, and still never shown.
    data = form_data(pages[1], "webhook_form")
    assert data["secret"] == ""
    data["name"] = "EHR (renamed)"
    client.post(url(Webhook, "change", hook.pk), data)
    hook.refresh_from_db()
    assert (hook.name, hook.secret) == ("EHR (renamed)", SECRET_1)
    data["secret"] = SECRET_2
    client.post(url(Webhook, "change", hook.pk), data)
    hook.refresh_from_db()
    assert hook.secret == SECRET_2
    history = client.get(url(Webhook, "history", hook.pk)).content.decode()
    assert "very-secret" not in history
    # the history table does not even store it
    assert "secret" not in {field.name for field in WebhookEvent._meta.get_fields()}


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ("http://ehr.example.org/hook", "url"),
        ("https://127.0.0.1/hook", "url"),
        ("https://169.254.169.254/latest/meta-data/", "url"),
        ("https://[::ffff:10.0.0.1]/hook", "url"),
        ("https://intranet.example.org/hook", "url"),
    ],
)
def test_the_admin_refuses_a_webhook_url_that_is_not_https_to_a_public_address(client_for, world, dns, address, field):
    dns["intranet.example.org"] = ["172.16.5.5"]
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Webhook, "add")), "webhook_form")
    data.update(name="EHR", url=address, secret=SECRET_1, facility=str(world.hospital.pk))

    response = client.post(url(Webhook, "add"), data)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Webhook.objects.exists()


def test_the_admin_refuses_a_short_secret_and_rechecks_a_changed_url(client_for, world, dns):
    dns["ehr.example.org"] = ["93.184.215.14"]
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Webhook, "add")), "webhook_form")
    data.update(name="EHR", url="https://ehr.example.org/", secret="x" * 31, facility=str(world.hospital.pk))
    short = client.post(url(Webhook, "add"), data)
    assert "At least 32 characters" in str(short.context["adminform"].form.errors["secret"])
    data["secret"] = SECRET_1
    assert client.post(url(Webhook, "add"), data).status_code == 302
    hook = Webhook.objects.get()

    dns["ehr.example.org"] = ["10.0.0.7"]  # the name now points inside the network
    data = form_data(client.get(url(Webhook, "change", hook.pk)), "webhook_form")
    data["is_active"] = ""  # switching it off never depends on the URL
    assert client.post(url(Webhook, "change", hook.pk), data).status_code == 302
    data["url"] = "https://ehr.example.org/other"
    changed = client.post(url(Webhook, "change", hook.pk), data)
    assert "private address" in str(changed.context["adminform"].form.errors["url"])
    hook.refresh_from_db()
    assert (hook.url, hook.is_active) == ("https://ehr.example.org/", False)


def test_a_coordinator_adds_webhooks_for_their_own_facilities_only(client_for, world):
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Webhook, "add")), "webhook_form")
    data.update(name="All", url="https://x.example.org/", secret="s", facility="")

    everywhere = client.post(url(Webhook, "add"), data)
    assert "facility" in everywhere.context["adminform"].form.errors
    data["facility"] = str(world.other_hospital.pk)
    elsewhere = client.post(url(Webhook, "add"), data)
    assert "facility" in elsewhere.context["adminform"].form.errors
    assert not Webhook.objects.exists()
    Webhook.objects.create(name="Theirs", url="https://y.example.org/", secret="t", facility=world.other_hospital)
    assert listed(client, Webhook) == []


def test_role_groups_have_the_clinical_and_monitoring_permissions():
    def perms(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    coordinator, clinician, qa, manufacturing = (perms(r) for r in ("coordinator", "clinician", "qa", "manufacturing"))
    for model in ("administration", "assessment", "intervention", "conditioning", "adverseevent", "followupvisit"):
        assert {f"add_{model}", f"view_{model}"} <= coordinator & clinician
    assert "change_adverseevent" in coordinator & clinician
    assert not {"change_assessment", "change_administration"} & (coordinator | clinician)
    assert {"view_reminder", "change_reminder", "view_scheduledcheck", "view_notification"} <= coordinator & clinician
    assert {"add_webhook", "change_webhook", "view_webhook"} <= coordinator
    assert not {p for p in clinician if p.endswith("_webhook")}
    for product_side in (qa, manufacturing):
        assert {p for p in product_side if p.split("_", 1)[1] in TRACKER_MODELS} == {"view_reminder"}


TRACKER_MODELS = {
    "administration",
    "assessment",
    "intervention",
    "conditioning",
    "adverseevent",
    "followupvisit",
    "scheduledcheck",
    "reminder",
    "notification",
    "webhook",
}
