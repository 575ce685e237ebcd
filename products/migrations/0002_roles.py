"""The five role groups of CONTRACT.md ("Users, roles, pages")."""

from django.db import migrations

ROLES = ["coordinator", "clinician", "qa", "manufacturing", "integration"]


def create_roles(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
