"""COIs get their own format, which no ISBT 128 DIN can have: `COI` + FIN + year + sequence + a Mod 37-2 check
character over the 16 characters before it (products.rules.isbt128). Each existing chain keeps its facility, year
and sequence under the prefix, with a new check character; the code it carried before stays in `legacy_coi`, which
the admin and the API's `?coi=` filters search, so labels printed before the change still find their chain.

Self-contained on purpose (no import of the app's code): a migration must do tomorrow what it did today.
"""

import re

from django.db import migrations, models
from django.db.models import F
from stdnum.iso7064 import mod_37_2

PREFIX = "COI"
# The format before: FIN (5) + year (2) + sequence (6) + check character, i.e. shaped like a DIN.
DIN_SHAPED = re.compile(r"^[A-NP-Z1-9][0-9]{4}[0-9]{8}[0-9A-Z*]$")


def new_coi(old: str) -> str:
    plain = re.sub(r"[^0-9A-Z]", "", old.upper())
    body = PREFIX + (plain[:13] if DIN_SHAPED.match(plain) else plain)
    return body + mod_37_2.calc_check_digit(body)


def forwards(apps, schema_editor):
    chain_model = apps.get_model("products", "ChainOfIdentity")
    for chain_id, coi in chain_model.objects.exclude(coi__startswith=PREFIX).values_list("id", "coi").iterator():
        chain_model.objects.filter(id=chain_id).update(coi=new_coi(coi), legacy_coi=coi)


def backwards(apps, schema_editor):
    chain_model = apps.get_model("products", "ChainOfIdentity")
    chain_model.objects.exclude(legacy_coi="").update(coi=F("legacy_coi"), legacy_coi="")


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0008_hold_role_permissions'),
    ]

    operations = [
        migrations.AddField(
            model_name='chainofidentity',
            name='legacy_coi',
            field=models.CharField(blank=True, db_default='', db_index=True, help_text='The code this chain carried before COIs took their own format (DIN-shaped); still searchable.', max_length=24, verbose_name='legacy COI'),
        ),
        migrations.AddField(
            model_name='chainofidentityevent',
            name='legacy_coi',
            field=models.CharField(blank=True, db_default='', help_text='The code this chain carried before COIs took their own format (DIN-shaped); still searchable.', max_length=24, verbose_name='legacy COI'),
        ),
        migrations.AlterField(
            model_name='chainofidentity',
            name='coi',
            field=models.CharField(help_text='COI + facility + year + sequence + check character; never a DIN.', max_length=24, unique=True, verbose_name='COI'),
        ),
        migrations.AlterField(
            model_name='chainofidentityevent',
            name='coi',
            field=models.CharField(help_text='COI + facility + year + sequence + check character; never a DIN.', max_length=24, verbose_name='COI'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
