"""Allogeneic products' donor rules, as data on the product: the infectious-disease tests every donor needs
(21 CFR 1271.85) and the HLA allele matches a recipient needs (0-8 at A, B, C, DRB1; 0: none).

Existing allogeneic products get the tests of 1271.85(a) (every donor) and (b) (HTLV-I/II, CMV: viable,
leukocyte-rich cells such as marrow, the usual starting material); autologous products need none (1271.90(a)(1)).
Self-contained (no import of the app's code): a migration does tomorrow what it did today.
"""

from django.db import migrations, models

EXISTING_ALLOGENEIC_TESTS = ["hiv_1_2", "hbv", "hcv", "syphilis", "htlv_1_2", "cmv"]


def fill_required_tests(apps, schema_editor):
    product_model = apps.get_model("products", "Product")
    product_model.objects.filter(source="allogeneic", required_donor_tests=[]).update(
        required_donor_tests=EXISTING_ALLOGENEIC_TESTS
    )


class Migration(migrations.Migration):

    dependencies = [
        ("products", "0016_protocol_lost_to_follow_up"),
    ]

    operations = [
        migrations.AddField(
            model_name='product',
            name='hla_match_min',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, help_text='Allele matches needed at HLA-A, -B, -C and -DRB1 (0-8); 0: none needed (as for MSC).', verbose_name='minimum HLA matches'),
        ),
        migrations.AddField(
            model_name='product',
            name='required_donor_tests',
            field=models.JSONField(blank=True, default=list, help_text='Infectious-disease tests every donor of this product needs (21 CFR 1271.85), as codes (hiv_1_2, hbv, hcv, syphilis, htlv_1_2, cmv, wnv); empty for autologous.'),
        ),
        migrations.AddField(
            model_name='productevent',
            name='hla_match_min',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, help_text='Allele matches needed at HLA-A, -B, -C and -DRB1 (0-8); 0: none needed (as for MSC).', verbose_name='minimum HLA matches'),
        ),
        migrations.AddField(
            model_name='productevent',
            name='required_donor_tests',
            field=models.JSONField(blank=True, default=list, help_text='Infectious-disease tests every donor of this product needs (21 CFR 1271.85), as codes (hiv_1_2, hbv, hcv, syphilis, htlv_1_2, cmv, wnv); empty for autologous.'),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(condition=models.Q(('hla_match_min__lte', 8)), name='product_hla_match_min_0_8'),
        ),
        migrations.RunPython(fill_required_tests, migrations.RunPython.noop),
    ]
