"""Allogeneic donors (a code, screening, tests, QA's determination), donor collections and batches, units' storage
location, the inventory (a proxy of units) and allocations of units to orders."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pghistory', '0007_auto_20250421_0444'),
        ('products', '0017_product_donor_rules'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='InventoryUnit',
            fields=[
            ],
            options={
                'verbose_name': 'inventory unit',
                'verbose_name_plural': 'inventory',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('products.unit',),
        ),
        migrations.CreateModel(
            name='Allocation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('allocated_at', models.DateTimeField()),
                ('hla_matches', models.PositiveSmallIntegerField(blank=True, help_text='Allele matches at A, B, C, DRB1 (0-8); empty when either side is untyped.', null=True)),
                ('hla_match_min', models.PositiveSmallIntegerField(help_text="The product's minimum when allocated.")),
                ('donor_eligibility', models.CharField(choices=[('pending', 'Pending (no determination yet)'), ('eligible', 'Eligible'), ('ineligible', 'Ineligible')], help_text="The donation's standing when allocated.", max_length=12)),
                ('exception', models.CharField(blank=True, choices=[('urgent_medical_need', 'Documented urgent medical need (1271.3(u))'), ('related_donor', 'First- or second-degree blood relative of the recipient')], help_text='Why a unit of an ineligible or undetermined donor is used (21 CFR 1271.60(d), 1271.65(b)).', max_length=24)),
                ('exception_rationale', models.TextField(blank=True)),
                ('label_warnings', models.JSONField(blank=True, default=list, help_text='The labelling the unit carried when allocated (1271.60(d), 1271.65(b)).')),
                ('released_at', models.DateTimeField(blank=True, null=True)),
                ('release_reason', models.TextField(blank=True)),
            ],
            options={
                'ordering': ['-allocated_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='AllocationEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('allocated_at', models.DateTimeField()),
                ('hla_matches', models.PositiveSmallIntegerField(blank=True, help_text='Allele matches at A, B, C, DRB1 (0-8); empty when either side is untyped.', null=True)),
                ('hla_match_min', models.PositiveSmallIntegerField(help_text="The product's minimum when allocated.")),
                ('donor_eligibility', models.CharField(choices=[('pending', 'Pending (no determination yet)'), ('eligible', 'Eligible'), ('ineligible', 'Ineligible')], help_text="The donation's standing when allocated.", max_length=12)),
                ('exception', models.CharField(blank=True, choices=[('urgent_medical_need', 'Documented urgent medical need (1271.3(u))'), ('related_donor', 'First- or second-degree blood relative of the recipient')], help_text='Why a unit of an ineligible or undetermined donor is used (21 CFR 1271.60(d), 1271.65(b)).', max_length=24)),
                ('exception_rationale', models.TextField(blank=True)),
                ('label_warnings', models.JSONField(blank=True, default=list, help_text='The labelling the unit carried when allocated (1271.60(d), 1271.65(b)).')),
                ('released_at', models.DateTimeField(blank=True, null=True)),
                ('release_reason', models.TextField(blank=True)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='Donor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('donor_code', models.CharField(help_text='Server-generated; holds no identifier.', max_length=16, unique=True)),
                ('eligibility', models.CharField(choices=[('pending', 'Pending (no determination yet)'), ('eligible', 'Eligible'), ('ineligible', 'Ineligible')], default='pending', max_length=12)),
                ('hla', models.JSONField(blank=True, default=dict, help_text='e.g. {"A": ["A*02:01", "A*01:01"], "B": [...]}.', verbose_name='HLA typing')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['donor_code'],
            },
        ),
        migrations.CreateModel(
            name='DonorDetermination',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('determination', models.CharField(choices=[('pending', 'Pending (no determination yet)'), ('eligible', 'Eligible'), ('ineligible', 'Ineligible')], max_length=12)),
                ('determined_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['donor', '-determined_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='DonorDeterminationEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('determination', models.CharField(choices=[('pending', 'Pending (no determination yet)'), ('eligible', 'Eligible'), ('ineligible', 'Ineligible')], max_length=12)),
                ('determined_at', models.DateTimeField()),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='DonorEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('donor_code', models.CharField(help_text='Server-generated; holds no identifier.', max_length=16)),
                ('eligibility', models.CharField(choices=[('pending', 'Pending (no determination yet)'), ('eligible', 'Eligible'), ('ineligible', 'Ineligible')], default='pending', max_length=12)),
                ('hla', models.JSONField(blank=True, default=dict, help_text='e.g. {"A": ["A*02:01", "A*01:01"], "B": [...]}.', verbose_name='HLA typing')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='DonorScreening',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('history', 'Medical history interview and questionnaire'), ('physical', 'Physical assessment')], max_length=12)),
                ('outcome', models.CharField(choices=[('acceptable', 'No risk factor or clinical evidence found'), ('risk_found', 'Risk factor or clinical evidence of a relevant disease found')], max_length=12)),
                ('performed_at', models.DateTimeField()),
                ('findings', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['donor', 'performed_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='DonorScreeningEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('kind', models.CharField(choices=[('history', 'Medical history interview and questionnaire'), ('physical', 'Physical assessment')], max_length=12)),
                ('outcome', models.CharField(choices=[('acceptable', 'No risk factor or clinical evidence found'), ('risk_found', 'Risk factor or clinical evidence of a relevant disease found')], max_length=12)),
                ('performed_at', models.DateTimeField()),
                ('findings', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='DonorTest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('test', models.CharField(choices=[('hiv_1_2', 'HIV-1/2'), ('hbv', 'Hepatitis B virus'), ('hcv', 'Hepatitis C virus'), ('syphilis', 'Treponema pallidum (syphilis)'), ('htlv_1_2', 'HTLV-I/II'), ('cmv', 'Cytomegalovirus'), ('wnv', 'West Nile virus')], max_length=12)),
                ('result', models.CharField(choices=[('negative', 'Negative (non-reactive)'), ('reactive', 'Reactive'), ('indeterminate', 'Indeterminate')], max_length=14)),
                ('sampled_at', models.DateTimeField(help_text='When the specimen was taken (21 CFR 1271.80(b)).')),
                ('note', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['donor', 'sampled_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='DonorTestEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('id', models.BigIntegerField()),
                ('test', models.CharField(choices=[('hiv_1_2', 'HIV-1/2'), ('hbv', 'Hepatitis B virus'), ('hcv', 'Hepatitis C virus'), ('syphilis', 'Treponema pallidum (syphilis)'), ('htlv_1_2', 'HTLV-I/II'), ('cmv', 'Cytomegalovirus'), ('wnv', 'West Nile virus')], max_length=12)),
                ('result', models.CharField(choices=[('negative', 'Negative (non-reactive)'), ('reactive', 'Reactive'), ('indeterminate', 'Indeterminate')], max_length=14)),
                ('sampled_at', models.DateTimeField(help_text='When the specimen was taken (21 CFR 1271.80(b)).')),
                ('note', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='batch',
            name='collection',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='products.collection'),
        ),
        migrations.AddField(
            model_name='batchevent',
            name='collection',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.collection'),
        ),
        migrations.AddField(
            model_name='collection',
            name='product',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='donor_collections', to='products.product'),
        ),
        migrations.AddField(
            model_name='collectionevent',
            name='product',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.product'),
        ),
        migrations.AddField(
            model_name='unit',
            name='storage_location',
            field=models.CharField(blank=True, help_text='Where in the facility it is kept, e.g. Dewar 3 / rack B / box 2 / 14.', max_length=100),
        ),
        migrations.AddField(
            model_name='unitevent',
            name='storage_location',
            field=models.CharField(blank=True, help_text='Where in the facility it is kept, e.g. Dewar 3 / rack B / box 2 / 14.', max_length=100),
        ),
        migrations.AlterField(
            model_name='collection',
            name='chain',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='products.chainofidentity'),
        ),
        migrations.AlterField(
            model_name='collectionevent',
            name='chain',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.chainofidentity'),
        ),
        migrations.AlterField(
            model_name='signature',
            name='meaning',
            field=models.CharField(choices=[('release', 'Release'), ('rejection', 'Rejection'), ('verification', 'Verification'), ('administration', 'Administration'), ('hold_release', 'Hold released for use'), ('hold_discard', 'Hold: discard'), ('invalidation', 'QC result invalidated'), ('eligibility', 'Donor eligibility determination'), ('donor_exception', "Use of an ineligible or pending donor's unit (21 CFR 1271.60(d), 1271.65(b))")], max_length=16),
        ),
        migrations.AddField(
            model_name='allocation',
            name='allocated_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='allocation',
            name='chain',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='products.chainofidentity'),
        ),
        migrations.AddField(
            model_name='allocation',
            name='exception_signature',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='allocation_exception', to='products.signature'),
        ),
        migrations.AddField(
            model_name='allocation',
            name='released_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='allocation',
            name='unit',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='products.unit'),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='allocated_by',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='chain',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.chainofidentity'),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='exception_signature',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.signature'),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='pgh_context',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='products.allocation'),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='released_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='allocationevent',
            name='unit',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.unit'),
        ),
        migrations.AddField(
            model_name='donor',
            name='facility',
            field=models.ForeignKey(help_text='Where the donor is screened.', on_delete=django.db.models.deletion.PROTECT, related_name='donors', to='products.facility'),
        ),
        migrations.AddField(
            model_name='collection',
            name='donor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='products.donor'),
        ),
        migrations.AddField(
            model_name='collectionevent',
            name='donor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.donor'),
        ),
        migrations.AddConstraint(
            model_name='collection',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('chain__isnull', False), ('donor__isnull', True), ('product__isnull', True)), models.Q(('chain__isnull', True), ('donor__isnull', False), ('product__isnull', False)), _connector='OR'), name='collection_for_a_chain_or_a_donor'),
        ),
        migrations.AddField(
            model_name='donordetermination',
            name='donor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='determinations', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donordetermination',
            name='signature',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='donor_determination', to='products.signature'),
        ),
        migrations.AddField(
            model_name='donordeterminationevent',
            name='donor',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donordeterminationevent',
            name='pgh_context',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
        ),
        migrations.AddField(
            model_name='donordeterminationevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='products.donordetermination'),
        ),
        migrations.AddField(
            model_name='donordeterminationevent',
            name='signature',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.signature'),
        ),
        migrations.AddField(
            model_name='donorevent',
            name='facility',
            field=models.ForeignKey(db_constraint=False, help_text='Where the donor is screened.', on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.facility'),
        ),
        migrations.AddField(
            model_name='donorevent',
            name='pgh_context',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
        ),
        migrations.AddField(
            model_name='donorevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donorscreening',
            name='donor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='screenings', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donorscreening',
            name='performed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='donorscreeningevent',
            name='donor',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donorscreeningevent',
            name='performed_by',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='donorscreeningevent',
            name='pgh_context',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
        ),
        migrations.AddField(
            model_name='donorscreeningevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='products.donorscreening'),
        ),
        migrations.AddField(
            model_name='donortest',
            name='donor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='tests', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donortest',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='donortestevent',
            name='donor',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='products.donor'),
        ),
        migrations.AddField(
            model_name='donortestevent',
            name='pgh_context',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
        ),
        migrations.AddField(
            model_name='donortestevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='products.donortest'),
        ),
        migrations.AddField(
            model_name='donortestevent',
            name='recorded_by',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='allocation',
            index=models.Index(condition=models.Q(('released_at__isnull', True)), fields=['chain'], name='allocation_open_chain'),
        ),
        migrations.AddConstraint(
            model_name='allocation',
            constraint=models.UniqueConstraint(condition=models.Q(('released_at__isnull', True)), fields=('unit',), name='allocation_one_open_per_unit'),
        ),
        migrations.AddConstraint(
            model_name='allocation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('release_reason', ''), ('released_at__isnull', True), ('released_by__isnull', True)), models.Q(('released_at__isnull', False), ('released_by__isnull', False), models.Q(('release_reason', ''), _negated=True)), _connector='OR'), name='allocation_release_is_complete'),
        ),
        migrations.AddConstraint(
            model_name='allocation',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('exception', ''), ('exception_rationale', ''), ('exception_signature__isnull', True)), models.Q(models.Q(('exception', ''), _negated=True), ('exception_signature__isnull', False), models.Q(('exception_rationale', ''), _negated=True)), _connector='OR'), name='allocation_exception_is_signed'),
        ),
        migrations.AddConstraint(
            model_name='allocation',
            constraint=models.CheckConstraint(condition=models.Q(('hla_matches__lte', 8)), name='allocation_hla_0_8'),
        ),
        migrations.AddConstraint(
            model_name='donordetermination',
            constraint=models.CheckConstraint(condition=models.Q(('determination', 'pending'), _negated=True), name='determination_is_a_decision'),
        ),
        migrations.AddIndex(
            model_name='donortest',
            index=models.Index(fields=['donor', 'test'], name='products_do_donor_i_b2a9b5_idx'),
        ),
    ]
