"""Donors on the patient side: the person (PHI) behind a product-side donor code; patients gain their HLA typing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pghistory', '0007_auto_20250421_0444'),
        ('products', '0018_donors_inventory_allocation'),
        ('tracker', '0013_surveillance_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='DonorIdentity',
            fields=[
                ('donor', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='identity', serialize=False, to='products.donor')),
                ('given_name', models.CharField(max_length=100)),
                ('family_name', models.CharField(max_length=100)),
                ('birth_date', models.DateField()),
                ('sex', models.CharField(choices=[('female', 'Female'), ('male', 'Male'), ('other', 'Other'), ('unknown', 'Unknown')], max_length=8)),
                ('phone', models.CharField(blank=True, max_length=40)),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('address', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'donor',
                'verbose_name_plural': 'donors',
                'ordering': ['family_name', 'given_name', 'donor_id'],
            },
        ),
        migrations.AddField(
            model_name='patient',
            name='hla',
            field=models.JSONField(blank=True, default=dict, help_text='For allogeneic products: e.g. {"A": ["A*02:01", "A*01:01"], "B": [...], "C": [...], "DRB1": [...]}.', verbose_name='HLA typing'),
        ),
        migrations.AddField(
            model_name='patientevent',
            name='hla',
            field=models.JSONField(blank=True, default=dict, help_text='For allogeneic products: e.g. {"A": ["A*02:01", "A*01:01"], "B": [...], "C": [...], "DRB1": [...]}.', verbose_name='HLA typing'),
        ),
        migrations.CreateModel(
            name='DonorIdentityEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('given_name', models.CharField(max_length=100)),
                ('family_name', models.CharField(max_length=100)),
                ('birth_date', models.DateField()),
                ('sex', models.CharField(choices=[('female', 'Female'), ('male', 'Male'), ('other', 'Other'), ('unknown', 'Unknown')], max_length=8)),
                ('phone', models.CharField(blank=True, max_length=40)),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('address', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('donor', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', serialize=False, to='products.donor')),
                ('pgh_context', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context')),
                ('pgh_obj', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='tracker.donoridentity')),
            ],
            options={
                'abstract': False,
            },
        ),
    ]
