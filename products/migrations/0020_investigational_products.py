"""Investigational products: a product's regulatory status (licensed or investigational), its IND or CTA number
(required when investigational) and its trial protocol. They decide the expedited adverse-event reports."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0019_allogeneic_role_permissions'),
    ]

    operations = [
        migrations.AddField(
            model_name='product',
            name='ind_number',
            field=models.CharField(blank=True, db_default='', help_text='Required when investigational.', max_length=40, verbose_name='IND or CTA number'),
        ),
        migrations.AddField(
            model_name='product',
            name='regulatory_status',
            field=models.CharField(choices=[('licensed', 'Licensed (marketed)'), ('investigational', 'Investigational (under an IND or CTA)')], db_default='licensed', default='licensed', help_text='Investigational: IND safety reports (21 CFR 312.32); licensed: postmarketing reports (600.80).', max_length=16),
        ),
        migrations.AddField(
            model_name='product',
            name='trial_protocol',
            field=models.CharField(blank=True, db_default='', help_text="The clinical trial's protocol.", max_length=60, verbose_name='trial protocol number'),
        ),
        migrations.AddField(
            model_name='productevent',
            name='ind_number',
            field=models.CharField(blank=True, db_default='', help_text='Required when investigational.', max_length=40, verbose_name='IND or CTA number'),
        ),
        migrations.AddField(
            model_name='productevent',
            name='regulatory_status',
            field=models.CharField(choices=[('licensed', 'Licensed (marketed)'), ('investigational', 'Investigational (under an IND or CTA)')], db_default='licensed', default='licensed', help_text='Investigational: IND safety reports (21 CFR 312.32); licensed: postmarketing reports (600.80).', max_length=16),
        ),
        migrations.AddField(
            model_name='productevent',
            name='trial_protocol',
            field=models.CharField(blank=True, db_default='', help_text="The clinical trial's protocol.", max_length=60, verbose_name='trial protocol number'),
        ),
    ]
