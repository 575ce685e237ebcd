"""Django model permissions for the clinical records, monitoring and webhooks (the bedside and monitoring issues),
so that each role can work with them in the admin. Same approach as 0005_role_permissions.

The admin checks these permissions; the services still check roles and facilities on every write, and the
admin's querysets keep each role to its facilities (and the manufacturing role away from patient data).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE = "view", "add", "change"

# Recorded at the bedside and after, by coordinators and clinicians; an adverse event is also changed later
# (resolution, outcome, seriousness...), a reminder is acknowledged and resolved (its "change").
CLINICAL = {
    "tracker.administration": (VIEW, ADD),
    "tracker.assessment": (VIEW, ADD),
    "tracker.intervention": (VIEW, ADD),
    "tracker.conditioning": (VIEW, ADD),
    "tracker.adverseevent": (VIEW, ADD, CHANGE),
    "tracker.followupvisit": (VIEW, ADD),
    "tracker.scheduledcheck": (VIEW,),
    "tracker.reminder": (VIEW, CHANGE),
    "tracker.notification": (VIEW,),
}

# role -> {model label: actions}
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "coordinator": {**CLINICAL, "tracker.webhook": (VIEW, ADD, CHANGE)},
    "clinician": CLINICAL,
    # Product-side reminders only (a batch in quarantine, a unit at risk with no patient): the admin's queryset
    # shows a role without access to patients no reminder that names one.
    "qa": {"tracker.reminder": (VIEW,)},
    "manufacturing": {"tracker.reminder": (VIEW,)},
}


def grant_permissions(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after this migration: create them now.
    create_permissions(global_apps.get_app_config("tracker"), apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = []
        for label, actions in grants.items():
            app_label, model_name = label.split(".")
            for action in actions:
                wanted.append(
                    permission_model.objects.get(content_type__app_label=app_label, codename=f"{action}_{model_name}")
                )
        group.permissions.add(*wanted)


def revoke_permissions(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in GRANTS.items():
        group = group_model.objects.filter(name=role).first()
        if group is None:
            continue
        for label, actions in grants.items():
            app_label, model_name = label.split(".")
            group.permissions.remove(
                *permission_model.objects.filter(
                    content_type__app_label=app_label,
                    codename__in=[f"{action}_{model_name}" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0005_role_permissions"),
        ("tracker", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, revoke_permissions)]
