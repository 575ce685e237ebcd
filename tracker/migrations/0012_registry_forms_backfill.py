"""Registry documents for the courses infused before they existed (post-market surveillance).

Each infused course gets its documents' due dates, counted from its first standing infusion. Documents already due
when this runs are marked reminded, so that the first scan does not flood coordinators with reminders for years past;
the ones still ahead are reminded as they fall due. The time points are written out here (as tracker.rules.registry
has them today), so that this migration means the same whatever the rules become.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import migrations
from django.db.models import Min

TIMEPOINTS = [
    ("pre_infusion", relativedelta()),
    ("product", relativedelta()),
    ("infusion", relativedelta()),
    ("day_100", relativedelta(days=100)),
    ("month_6", relativedelta(months=6)),
    *((f"year_{n}", relativedelta(years=n)) for n in range(1, 16)),
]


def backfill(apps, schema_editor):
    administration_model = apps.get_model("tracker", "Administration")
    form_model = apps.get_model("tracker", "RegistryForm")
    zone = ZoneInfo(settings.TIME_ZONE)
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    have = set(form_model.objects.values_list("order_id", flat=True).distinct())
    courses = (
        administration_model.objects.filter(voided_at=None)
        .values("order_id", "patient_id")
        .annotate(first=Min("administered_at"))
        .order_by("order_id")
    )
    forms = []
    for course in courses.iterator(chunk_size=2000):
        if course["order_id"] in have:
            continue
        infused_on = course["first"].astimezone(zone).date()
        for code, offset in TIMEPOINTS:
            due = infused_on + offset
            forms.append(
                form_model(
                    order_id=course["order_id"],
                    patient_id=course["patient_id"],
                    timepoint=code,
                    due_on=due,
                    status="open",
                    reminded_at=now if due <= today else None,
                )
            )
        if len(forms) >= 10_000:
            form_model.objects.bulk_create(forms)
            forms = []
    form_model.objects.bulk_create(forms)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0011_registry_forms_and_transfers")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
