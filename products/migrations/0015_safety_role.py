"""The `safety` role (CONTRACT.md 1.1, "Post-market surveillance"): the aggregated figures of its facilities, no
patient data. It gets no model permission: a safety officer has no admin and reads the surveillance page and API."""

from django.db import migrations


def create_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="safety")


def drop_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="safety").delete()


class Migration(migrations.Migration):
    dependencies = [("products", "0014_product_stage_days")]

    operations = [migrations.RunPython(create_role, drop_role)]
