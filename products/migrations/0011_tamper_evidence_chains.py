"""Chain the custody records and signatures that exist already (in the order verify_chain reads them).

Signatures given before this change keep an empty `reviewed`: what was judged then is not re-derived, since
the specification may have changed since. The append-only triggers are set aside for this one update.
"""

from typing import Any

import pgtrigger
from django.db import migrations

from products.rules.hashchain import GENESIS
from products.tamper import CUSTODY_FIELDS, SIGNATURE_FIELDS, custody_hash, signature_hash

BATCH = 1_000


def _save(model: Any, rows: list[Any]) -> None:
    model.objects.bulk_update(rows, ["prev_hash", "hash"], batch_size=BATCH)
    rows.clear()


def chain_existing_rows(apps: Any, schema_editor: Any) -> None:
    CustodyRecord = apps.get_model("products", "CustodyRecord")
    Signature = apps.get_model("products", "Signature")
    with pgtrigger.ignore("products.CustodyRecord:custody_append_only", "products.Signature:signature_append_only"):
        pending: list[Any] = []
        unit, prev = None, GENESIS
        for row in CustodyRecord.objects.order_by("unit_id", "seq").values("id", *CUSTODY_FIELDS).iterator(BATCH):
            if row["unit_id"] != unit:
                unit, prev = row["unit_id"], GENESIS
            record = CustodyRecord(id=row["id"], prev_hash=prev, hash=custody_hash(row, prev))
            pending.append(record)
            prev = record.hash
            if len(pending) >= BATCH:
                _save(CustodyRecord, pending)
        _save(CustodyRecord, pending)

        prev = GENESIS
        for row in Signature.objects.order_by("id").values("id", *SIGNATURE_FIELDS).iterator(BATCH):
            signature = Signature(id=row["id"], prev_hash=prev, hash=signature_hash(row, prev))
            pending.append(signature)
            prev = signature.hash
            if len(pending) >= BATCH:
                _save(Signature, pending)
        _save(Signature, pending)


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0010_tamper_evidence"),
    ]

    operations = [migrations.RunPython(chain_existing_rows, migrations.RunPython.noop)]
