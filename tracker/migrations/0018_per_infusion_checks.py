"""Course-level monitoring: a scheduled check counted from its own infusion (a protocol scheduled from each
infusion) rather than from the course's first; the GVHD response check kind."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0021_course_monitoring'),
        ('tracker', '0017_gvhd_staging'),
    ]

    operations = [
        migrations.AddField(
            model_name='scheduledcheck',
            name='per_infusion',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name='scheduledcheck',
            name='kind',
            field=models.CharField(choices=[('toxicity_check', 'Toxicity check (CRS and ICANS, ICE score)'), ('labs', 'Labs (blood count, CRP, ferritin)'), ('follow_up_visit', 'Follow-up visit'), ('rcv_test', 'Replication-competent virus test'), ('malignancy_screen', 'Secondary malignancy screen'), ('infusion_reaction_check', 'Infusion reaction check'), ('infection_check', 'Infection check'), ('gvhd_response', 'Acute GVHD response assessment (organ staging)')], max_length=32),
        ),
    ]
