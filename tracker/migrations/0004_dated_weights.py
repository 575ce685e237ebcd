"""Dated weights: each patient's weight on record becomes their first dated weight (on the day they were
registered, which is before any of their infusions), and coordinators and clinicians may record and see weights
in the admin (as products/0006_clinical_role_permissions grants the other clinical records).

Self-contained on purpose (no import of the app's code): a migration must do tomorrow what it did today.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"coordinator": ("view", "add"), "clinician": ("view", "add")}


def backfill_weights(apps, schema_editor):
    patient_model = apps.get_model("tracker", "Patient")
    weight_model = apps.get_model("tracker", "PatientWeight")
    weighed = weight_model.objects.values("patient_id")
    patients = patient_model.objects.filter(weight_kg__isnull=False).exclude(id__in=weighed)
    weight_model.objects.bulk_create(
        weight_model(
            patient_id=patient.id,
            weight_kg=patient.weight_kg,
            measured_on=patient.created_at.date(),
            note="At registration (recorded before weights were dated)",
        )
        for patient in patients.only("id", "weight_kg", "created_at").iterator()
    )


def grant_permissions(apps, schema_editor):
    # Permissions are normally created by post_migrate, i.e. after this migration: create them now.
    create_permissions(global_apps.get_app_config("tracker"), apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, actions in GRANTS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label="tracker", codename__in=[f"{action}_patientweight" for action in actions]
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
                    content_type__app_label="tracker", codename__in=[f"{action}_patientweight" for action in actions]
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0003_hard_stops_bedside"),
        ("products", "0006_clinical_role_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(backfill_weights, migrations.RunPython.noop),
        migrations.RunPython(grant_permissions, revoke_permissions),
    ]
