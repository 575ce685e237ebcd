"""An order keeps the time it was placed: the service sets `ordered_at` (default now) instead of auto_now_add, so
the demo data, and an order entered after the fact, can carry their own time. No change to the table."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0006_webhook_security'),
    ]

    operations = [
        migrations.AlterField(
            model_name='therapyorder',
            name='ordered_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name='therapyorderevent',
            name='ordered_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
    ]
