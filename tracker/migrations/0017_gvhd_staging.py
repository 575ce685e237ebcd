"""Acute GVHD at follow-up visits: the raw findings by organ, the MAGIC stages and overall grade computed from
them, and the response to treatment against the baseline staging (tracker.rules.gvhd)."""

import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0016_investigational_reporting'),
    ]

    operations = [
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_baseline',
            field=models.ForeignKey(blank=True, editable=False, help_text='The staging the response is judged against (the last one on or before the first infusion).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tracker.followupvisit'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_bilirubin_mg_dl',
            field=models.DecimalField(blank=True, decimal_places=1, max_digits=4, null=True, verbose_name='liver: total bilirubin (mg/dL)'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_grade',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, help_text='MAGIC overall grade, 0-4 for 0-IV.', null=True, verbose_name='acute GVHD grade'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_liver_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_lower_gi_severe',
            field=models.BooleanField(db_default=False, default=False, verbose_name='lower GI: severe abdominal pain, ileus or grossly bloody stool'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_lower_gi_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True, verbose_name='GVHD lower GI stage'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_response',
            field=models.CharField(blank=True, choices=[('cr', 'Complete response'), ('vgpr', 'Very good partial response'), ('pr', 'Partial response'), ('mixed', 'Mixed response'), ('nr', 'No response'), ('progression', 'Progression'), ('not_evaluable', 'Not evaluable (no active GVHD staged at the start of treatment)')], db_default='', editable=False, max_length=16, verbose_name='GVHD response'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_response_day',
            field=models.SmallIntegerField(blank=True, editable=False, help_text="Days since the course's first infusion.", null=True, verbose_name='GVHD response day'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_skin_bsa_pct',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Active (erythematous) rash only.', null=True, verbose_name='skin: rash, % body surface area'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_skin_bullae',
            field=models.BooleanField(db_default=False, default=False, verbose_name='skin: bullae and desquamation > 5% BSA'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_skin_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_stool_episodes_per_day',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='lower GI: stool episodes/day'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_stool_ml_per_day',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='lower GI: stool mL/day'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_upper_gi_persistent',
            field=models.BooleanField(db_default=False, default=False, verbose_name='upper GI: persistent nausea, vomiting or anorexia'),
        ),
        migrations.AddField(
            model_name='followupvisit',
            name='gvhd_upper_gi_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True, verbose_name='GVHD upper GI stage'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_baseline',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text='The staging the response is judged against (the last one on or before the first infusion).', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='tracker.followupvisit'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_bilirubin_mg_dl',
            field=models.DecimalField(blank=True, decimal_places=1, max_digits=4, null=True, verbose_name='liver: total bilirubin (mg/dL)'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_grade',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, help_text='MAGIC overall grade, 0-4 for 0-IV.', null=True, verbose_name='acute GVHD grade'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_liver_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_lower_gi_severe',
            field=models.BooleanField(db_default=False, default=False, verbose_name='lower GI: severe abdominal pain, ileus or grossly bloody stool'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_lower_gi_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True, verbose_name='GVHD lower GI stage'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_response',
            field=models.CharField(blank=True, choices=[('cr', 'Complete response'), ('vgpr', 'Very good partial response'), ('pr', 'Partial response'), ('mixed', 'Mixed response'), ('nr', 'No response'), ('progression', 'Progression'), ('not_evaluable', 'Not evaluable (no active GVHD staged at the start of treatment)')], db_default='', editable=False, max_length=16, verbose_name='GVHD response'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_response_day',
            field=models.SmallIntegerField(blank=True, editable=False, help_text="Days since the course's first infusion.", null=True, verbose_name='GVHD response day'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_skin_bsa_pct',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Active (erythematous) rash only.', null=True, verbose_name='skin: rash, % body surface area'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_skin_bullae',
            field=models.BooleanField(db_default=False, default=False, verbose_name='skin: bullae and desquamation > 5% BSA'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_skin_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_stool_episodes_per_day',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='lower GI: stool episodes/day'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_stool_ml_per_day',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='lower GI: stool mL/day'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_upper_gi_persistent',
            field=models.BooleanField(db_default=False, default=False, verbose_name='upper GI: persistent nausea, vomiting or anorexia'),
        ),
        migrations.AddField(
            model_name='followupvisitevent',
            name='gvhd_upper_gi_stage',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True, verbose_name='GVHD upper GI stage'),
        ),
        migrations.AddIndex(
            model_name='followupvisit',
            index=models.Index(condition=models.Q(('gvhd_grade__isnull', False)), fields=['patient', 'visit_date'], name='followup_gvhd_staged'),
        ),
        migrations.AddConstraint(
            model_name='followupvisit',
            constraint=models.CheckConstraint(condition=models.Q(('gvhd_skin_bsa_pct__isnull', True), models.Q(('gvhd_skin_bsa_pct__gte', 0), ('gvhd_skin_bsa_pct__lte', 100)), _connector='OR'), name='followup_gvhd_skin_bsa_pct_range', violation_error_message="The rash's extent (body surface area) is between 0 and 100 percent."),
        ),
        migrations.AddConstraint(
            model_name='followupvisit',
            constraint=models.CheckConstraint(condition=models.Q(('gvhd_bilirubin_mg_dl__isnull', True), models.Q(('gvhd_bilirubin_mg_dl__gte', Decimal('0.0')), ('gvhd_bilirubin_mg_dl__lte', Decimal('80.0'))), _connector='OR'), name='followup_gvhd_bilirubin_mg_dl_range', violation_error_message='A total bilirubin is between 0.0 and 80.0 mg/dL.'),
        ),
        migrations.AddConstraint(
            model_name='followupvisit',
            constraint=models.CheckConstraint(condition=models.Q(('gvhd_stool_ml_per_day__isnull', True), models.Q(('gvhd_stool_ml_per_day__gte', 0), ('gvhd_stool_ml_per_day__lte', 20000)), _connector='OR'), name='followup_gvhd_stool_ml_per_day_range', violation_error_message='A stool volume is between 0 and 20000 mL/day.'),
        ),
        migrations.AddConstraint(
            model_name='followupvisit',
            constraint=models.CheckConstraint(condition=models.Q(('gvhd_stool_episodes_per_day__isnull', True), models.Q(('gvhd_stool_episodes_per_day__gte', 0), ('gvhd_stool_episodes_per_day__lte', 60)), _connector='OR'), name='followup_gvhd_stool_episodes_per_day_range', violation_error_message='A number of stool episodes is between 0 and 60 a day.'),
        ),
        migrations.AddConstraint(
            model_name='followupvisit',
            constraint=models.CheckConstraint(condition=models.Q(('gvhd_grade__isnull', True), ('gvhd_grade__lte', 4), _connector='OR'), name='followup_gvhd_grade_0_4'),
        ),
    ]
