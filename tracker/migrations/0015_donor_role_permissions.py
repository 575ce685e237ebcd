"""The role groups' permissions on donors' identities (PHI), added to tracker/0008_role_permissions' table:
coordinators register donors and see who they are; clinicians see them. QA, manufacturing and integrations get
none here (QA and manufacturing work with the donor's code on the product side).

Self-contained on purpose (no import of the app's code): a migration must do tomorrow what it did today.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE = "view", "add", "change"

GRANTS: dict[str, tuple[str, ...]] = {"coordinator": (VIEW, ADD, CHANGE), "clinician": (VIEW,)}


def grant_permissions(apps, schema_editor):
    create_permissions(global_apps.get_app_config("tracker"), apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, actions in GRANTS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label="tracker", codename__in=[f"{action}_donoridentity" for action in actions]
            )
        )


def revoke_permissions(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, actions in GRANTS.items():
        group = group_model.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(
                *permission_model.objects.filter(
                    content_type__app_label="tracker", codename__in=[f"{action}_donoridentity" for action in actions]
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0014_donor_identity_and_hla"),
        ("tracker", "0008_role_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, revoke_permissions)]
