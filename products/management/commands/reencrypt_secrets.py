from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from products.audit import audit_context
from products.crypto import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column (webhook secrets) under the first key of FIELD_ENCRYPTION_KEYS. "
        "To rotate: put the new key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        with transaction.atomic(), audit_context(actor="command:reencrypt_secrets"):
            for model in apps.get_models():
                fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
                if not fields:
                    continue
                # Reading decrypts with whichever key fits; writing encrypts with the first key.
                for row in model._default_manager.select_for_update().values("pk", *fields):
                    pk = row.pop("pk")
                    model._default_manager.filter(pk=pk).update(**row)
                    total += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} row(s) under the first key."))
