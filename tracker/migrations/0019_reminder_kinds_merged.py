"""Reminder kinds after merging the allogeneic branch: its kinds and the sponsor notification (21 CFR 312.64(b))."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0018_per_infusion_checks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='reminder',
            name='kind',
            field=models.CharField(choices=[('check_due', 'Scheduled check due'), ('toxicity_grade', 'CRS or ICANS grade >= 2'), ('report_due', 'Adverse event report due soon'), ('report_overdue', 'Adverse event report overdue'), ('sponsor_notification', 'Tell the sponsor of a serious adverse event'), ('unit_expiring', 'Unit nearing expiry'), ('unit_use_by', 'Thawed unit nearing or past its use-by time'), ('temperature_excursion', 'Temperature excursion'), ('batch_quarantine', 'Batch in quarantine too long'), ('hold_open', "Hold awaiting QA's decision"), ('registry_due', 'Registry document due')], max_length=24),
        ),
    ]
