"""Tamper evidence: hash and prev_hash on custody records and signatures; what a signature judged.

The hashes of rows that exist already are computed by 0008; the constraints come after it, in 0009.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0009_coi_format"),
    ]

    operations = [
        migrations.AddField(
            model_name="custodyrecord",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="custodyrecord",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="signature",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="signature",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="signature",
            name="reviewed",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                help_text="What the signer judged (a release: the specification and every QC result), as signed.",
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="reviewed_digest",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the canonical JSON of `reviewed` (products.rules.hashchain); empty if nothing.",
                max_length=64,
            ),
        ),
        migrations.AlterField(
            model_name="custodyrecord",
            name="recorded_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
    ]
