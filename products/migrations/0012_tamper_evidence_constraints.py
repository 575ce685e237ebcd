"""Every custody record and signature is in its chain (after 0008 has chained the rows that existed)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0011_tamper_evidence_chains"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="custodyrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash__regex", "^[0-9a-f]{64}$"), ("prev_hash__regex", "^[0-9a-f]{64}$")),
                name="custody_is_chained",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash__regex", "^[0-9a-f]{64}$"), ("prev_hash__regex", "^[0-9a-f]{64}$")),
                name="signature_is_chained",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(("reviewed_digest", ""), ("reviewed_digest__regex", "^[0-9a-f]{64}$"), _connector="OR"),
                name="signature_digest_is_sha256",
            ),
        ),
    ]
