"""The role groups' permissions on tracker models, decided here, by the tracker, and nowhere else.

products/0005_role_permissions and products/0006_clinical_role_permissions granted tracker permissions from the
product side (and stay as they were: a migration does tomorrow what it did today). From this migration on, the
tracker's own table below is the whole truth: each role group gets exactly these tracker permissions, whatever
earlier migrations granted. The admin checks them; the services still check roles and facilities on every write.

QA and manufacturing keep one: viewing reminders, for the admin's reminder list. They need none to see and
acknowledge their product-side reminders through the API (products.alerts, tracker.selectors.reminders_visible_to).

Self-contained on purpose (no import of the app's code): a migration must do tomorrow what it did today.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE = "view", "add", "change"
EDIT = (VIEW, ADD, CHANGE)

# Recorded at the bedside and after, by coordinators and clinicians; an adverse event is also changed later
# (resolution, outcome, seriousness...), a reminder is acknowledged and resolved (its "change").
CLINICAL = {
    "administration": (VIEW, ADD),
    "assessment": (VIEW, ADD),
    "intervention": (VIEW, ADD),
    "conditioning": (VIEW, ADD),
    "adverseevent": (VIEW, ADD, CHANGE),
    "followupvisit": (VIEW, ADD),
    "patientweight": (VIEW, ADD),
    "scheduledcheck": (VIEW,),
    "reminder": (VIEW, CHANGE),
    "notification": (VIEW,),
}

# role -> {tracker model: actions}; a role not listed has no tracker permission at all.
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "coordinator": {"patient": EDIT, "therapyorder": EDIT, **CLINICAL, "webhook": EDIT},
    "clinician": {"patient": (VIEW,), "therapyorder": (VIEW,), **CLINICAL},
    # The admin's reminder list shows these roles the product-side reminders of their facilities (no patient).
    "qa": {"reminder": (VIEW,)},
    "manufacturing": {"reminder": (VIEW,)},
}
ROLES = ("coordinator", "clinician", "qa", "manufacturing", "integration")


def set_permissions(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after this migration: create them now.
    create_permissions(global_apps.get_app_config("tracker"), apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    tracker_permissions = permission_model.objects.filter(content_type__app_label="tracker")
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = {f"{action}_{model}" for model, actions in GRANTS.get(role, {}).items() for action in actions}
        group.permissions.remove(*tracker_permissions.exclude(codename__in=wanted))
        group.permissions.add(*tracker_permissions.filter(codename__in=wanted))


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0007_order_time_set_by_service"),
        # After the product side's last grant of tracker permissions, so that this table has the final word.
        ("products", "0008_hold_role_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Going back leaves the permissions as they are: the table above is what the earlier migrations granted.
    operations = [migrations.RunPython(set_permissions, migrations.RunPython.noop)]
