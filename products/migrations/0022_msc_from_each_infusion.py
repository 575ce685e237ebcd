"""`msc_standard` runs from each infusion: MSC courses are often given in several infusions (e.g. twice a week for
four weeks, with the response assessed 28 days after the first). The infusion-reaction checks follow every infusion;
the daily checks of the first week, the follow-up visits and a new day-28 GVHD response assessment count once, from
the first infusion.
"""

from django.db import migrations

# MSC steps counted from every infusion; every other step of msc_standard counts once per course.
PER_INFUSION_KINDS = ("infusion_reaction_check",)
# Response at day 28 after the first infusion (DESIGN.md: most trials and labels, remestemcel-L's included),
# within 3 days either side (the grace runs after the due time and the visit's window opens as long before).
GVHD_RESPONSE_STEP = {
    "kind": "gvhd_response",
    "label": "Acute GVHD response day 28 (organ staging)",
    "first_due_value": 28,
    "first_due_unit": "days",
    "grace_hours": 72,
    "severity": "routine",
    "once_per_course": True,
}


def msc_from_each_infusion(apps, schema_editor):
    protocol = apps.get_model("products", "MonitoringProtocol").objects.filter(code="msc_standard").first()
    if protocol is None:
        return
    protocol.schedule_from = "each_infusion"
    protocol.save(update_fields=["schedule_from"])
    steps = apps.get_model("products", "ProtocolStep").objects.filter(protocol=protocol)
    steps.exclude(kind__in=PER_INFUSION_KINDS).update(once_per_course=True)
    if not steps.filter(kind="gvhd_response").exists():
        last = steps.order_by("-position").values_list("position", flat=True).first()
        steps.model.objects.create(protocol=protocol, position=(last or 0) + 1, **GVHD_RESPONSE_STEP)


def msc_from_first_infusion(apps, schema_editor):
    protocol = apps.get_model("products", "MonitoringProtocol").objects.filter(code="msc_standard").first()
    if protocol is None:
        return
    protocol.schedule_from = "first_infusion"
    protocol.save(update_fields=["schedule_from"])
    steps = apps.get_model("products", "ProtocolStep").objects.filter(protocol=protocol)
    steps.filter(kind="gvhd_response").delete()
    steps.update(once_per_course=False)


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0021_course_monitoring'),
    ]

    operations = [
        migrations.RunPython(msc_from_each_infusion, msc_from_first_infusion),
    ]
