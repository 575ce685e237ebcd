"""Course-level monitoring for repeated doses: a protocol's schedule runs from the course's first infusion or from
each infusion (with steps that still count once per course), and a step kind for the acute GVHD response. The
`msc_standard` protocol is moved to the new mode in 0022_msc_from_each_infusion (data in a migration of its own: the
history triggers of the rows it changes must not be pending when these columns are altered, backwards too).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0020_investigational_products'),
    ]

    operations = [
        migrations.AddField(
            model_name='monitoringprotocol',
            name='schedule_from',
            field=models.CharField(choices=[('first_infusion', "The course's first infusion (one schedule per course)"), ('each_infusion', 'Each infusion (each instantiates its own schedule)')], db_default='first_infusion', default='first_infusion', help_text="A course of several infusions: one schedule from the first infusion, or one from each infusion (then steps marked 'once per course' still count once, from the first).", max_length=16),
        ),
        migrations.AddField(
            model_name='monitoringprotocolevent',
            name='schedule_from',
            field=models.CharField(choices=[('first_infusion', "The course's first infusion (one schedule per course)"), ('each_infusion', 'Each infusion (each instantiates its own schedule)')], db_default='first_infusion', default='first_infusion', help_text="A course of several infusions: one schedule from the first infusion, or one from each infusion (then steps marked 'once per course' still count once, from the first).", max_length=16),
        ),
        migrations.AddField(
            model_name='protocolstep',
            name='once_per_course',
            field=models.BooleanField(db_default=False, default=False, help_text='In a protocol scheduled from each infusion, this step still counts once per course, from the first infusion (e.g. the day-28 response).'),
        ),
        migrations.AddField(
            model_name='protocolstepevent',
            name='once_per_course',
            field=models.BooleanField(db_default=False, default=False, help_text='In a protocol scheduled from each infusion, this step still counts once per course, from the first infusion (e.g. the day-28 response).'),
        ),
        migrations.AlterField(
            model_name='protocolstep',
            name='kind',
            field=models.CharField(choices=[('toxicity_check', 'Toxicity check (CRS and ICANS, ICE score)'), ('labs', 'Labs (blood count, CRP, ferritin)'), ('follow_up_visit', 'Follow-up visit'), ('rcv_test', 'Replication-competent virus test'), ('malignancy_screen', 'Secondary malignancy screen'), ('infusion_reaction_check', 'Infusion reaction check'), ('infection_check', 'Infection check'), ('gvhd_response', 'Acute GVHD response assessment (organ staging)')], max_length=32),
        ),
        migrations.AlterField(
            model_name='protocolstepevent',
            name='kind',
            field=models.CharField(choices=[('toxicity_check', 'Toxicity check (CRS and ICANS, ICE score)'), ('labs', 'Labs (blood count, CRP, ferritin)'), ('follow_up_visit', 'Follow-up visit'), ('rcv_test', 'Replication-competent virus test'), ('malignancy_screen', 'Secondary malignancy screen'), ('infusion_reaction_check', 'Infusion reaction check'), ('infection_check', 'Infection check'), ('gvhd_response', 'Acute GVHD response assessment (organ staging)')], max_length=32),
        ),
    ]
