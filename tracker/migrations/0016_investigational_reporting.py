"""Investigational products on the patient side: an order may name the trial it is given in (protocol, IND or
CTA); an adverse event is reported under a course (order), says whether it is a suspected adverse reaction, keeps the
regulatory status its report clock followed, and when the sponsor was told (21 CFR 312.64(b)); a reminder kind for
that duty."""

import django.db.models.deletion
from django.db import migrations, models

# tracker.rules.adverse_events.SUSPECTED_RELATEDNESS: the events on record agree with their relatedness.
SUSPECTED_RELATEDNESS = ("possible", "probable", "definite")


def suspected_from_relatedness(apps, schema_editor):
    events = apps.get_model("tracker", "AdverseEvent").objects
    events.exclude(relatedness__in=SUSPECTED_RELATEDNESS).update(suspected=False)


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0015_donor_role_permissions'),
    ]

    operations = [
        migrations.AddField(
            model_name='adverseevent',
            name='ind_number',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=40, verbose_name='IND or CTA number'),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='order',
            field=models.ForeignKey(blank=True, editable=False, help_text='The course (order) the event is reported under: its product and trial decide the report clock.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adverse_events', to='tracker.therapyorder'),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='regulatory_status',
            field=models.CharField(choices=[('licensed', 'Licensed (marketed)'), ('investigational', 'Investigational (under an IND or CTA)')], db_default='licensed', default='licensed', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='sponsor_notified_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='suspected',
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.AddField(
            model_name='adverseevent',
            name='trial_protocol',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=60, verbose_name='trial protocol number'),
        ),
        migrations.AddField(
            model_name='adverseeventevent',
            name='ind_number',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=40, verbose_name='IND or CTA number'),
        ),
        migrations.AddField(
            model_name='adverseeventevent',
            name='order',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text='The course (order) the event is reported under: its product and trial decide the report clock.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='tracker.therapyorder'),
        ),
        migrations.AddField(
            model_name='adverseeventevent',
            name='regulatory_status',
            field=models.CharField(choices=[('licensed', 'Licensed (marketed)'), ('investigational', 'Investigational (under an IND or CTA)')], db_default='licensed', default='licensed', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='adverseeventevent',
            name='sponsor_notified_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='adverseeventevent',
            name='suspected',
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.AddField(
            model_name='adverseeventevent',
            name='trial_protocol',
            field=models.CharField(blank=True, db_default='', editable=False, max_length=60, verbose_name='trial protocol number'),
        ),
        migrations.AddField(
            model_name='therapyorder',
            name='ind_number',
            field=models.CharField(blank=True, db_default='', help_text="The trial's IND or CTA; empty: the product's.", max_length=40, verbose_name='IND or CTA number'),
        ),
        migrations.AddField(
            model_name='therapyorder',
            name='trial_protocol',
            field=models.CharField(blank=True, db_default='', help_text='The trial this course is given in, if any (a licensed product used in a trial, or which study of an investigational product).', max_length=60, verbose_name='trial protocol number'),
        ),
        migrations.AddField(
            model_name='therapyorderevent',
            name='ind_number',
            field=models.CharField(blank=True, db_default='', help_text="The trial's IND or CTA; empty: the product's.", max_length=40, verbose_name='IND or CTA number'),
        ),
        migrations.AddField(
            model_name='therapyorderevent',
            name='trial_protocol',
            field=models.CharField(blank=True, db_default='', help_text='The trial this course is given in, if any (a licensed product used in a trial, or which study of an investigational product).', max_length=60, verbose_name='trial protocol number'),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='kind',
            field=models.CharField(choices=[('check_due', 'Scheduled check due'), ('toxicity_grade', 'CRS or ICANS grade >= 2'), ('report_due', 'Adverse event report due soon'), ('report_overdue', 'Adverse event report overdue'), ('sponsor_notification', 'Tell the sponsor of a serious adverse event'), ('unit_expiring', 'Unit nearing expiry'), ('unit_use_by', 'Thawed unit nearing or past its use-by time'), ('temperature_excursion', 'Temperature excursion'), ('batch_quarantine', 'Batch in quarantine too long'), ('hold_open', "Hold awaiting QA's decision")], max_length=24),
        ),
        migrations.RunPython(suspected_from_relatedness, migrations.RunPython.noop),
    ]
