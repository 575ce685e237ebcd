"""Django model permissions for quality holds, so that each role can work with them in the admin. Same approach
as 0005_role_permissions.

The admin checks these permissions; the services still check roles, facilities and the signing role on every
write (only QA decides a hold, with an e-signature; QA and coordinators open one).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE = "view", "add", "change"

# role -> {model label: actions}. A hold's "change" is QA's signed decision.
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "qa": {"products.hold": (VIEW, ADD, CHANGE)},
    "coordinator": {"products.hold": (VIEW, ADD)},
    # Those who handle the bags see why one may not move.
    "manufacturing": {"products.hold": (VIEW,)},
    "clinician": {"products.hold": (VIEW,)},
}


def grant_permissions(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after this migration: create them now.
    create_permissions(global_apps.get_app_config("products"), apps=apps, verbosity=0)
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
        ("products", "0007_holds_and_qc_invalidation"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, revoke_permissions)]
