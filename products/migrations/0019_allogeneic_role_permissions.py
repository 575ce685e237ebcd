"""Django model permissions for donors, their screening, tests and determinations, the inventory and allocations,
so that each role can work with them in the admin. Same approach as 0005_role_permissions.

The admin checks these permissions; the services still check roles, facilities and the signing role on every write
(only QA determines eligibility, e-signed; only a clinician signs an exception for a donor who is not eligible).
Manufacturing sees donors by code only: the person is on the patient side (tracker.DonorIdentity).
Self-contained on purpose (no import of the app's code): a migration must do tomorrow what it did today.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW, ADD, CHANGE = "view", "add", "change"
EDIT = (VIEW, ADD, CHANGE)

# role -> {model label: actions}. A donor's "change" is its HLA typing; an allocation's "change" is its release.
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "coordinator": {
        "products.donor": EDIT,
        "products.donorscreening": (VIEW, ADD),
        "products.donortest": (VIEW, ADD),
        "products.donordetermination": (VIEW,),
        "products.inventoryunit": (VIEW,),
        "products.allocation": EDIT,
    },
    "qa": {
        "products.donor": (VIEW, CHANGE),
        "products.donorscreening": (VIEW,),
        "products.donortest": (VIEW, ADD),
        "products.donordetermination": (VIEW, ADD),
        "products.inventoryunit": (VIEW,),
        "products.allocation": (VIEW,),
    },
    "manufacturing": {
        "products.donor": (VIEW,),
        "products.donortest": (VIEW,),
        "products.donordetermination": (VIEW,),
        "products.inventoryunit": (VIEW,),
        "products.allocation": (VIEW,),
    },
    "clinician": {
        "products.inventoryunit": (VIEW,),
        "products.allocation": EDIT,
    },
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
        ("products", "0018_donors_inventory_allocation"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_permissions, revoke_permissions)]
