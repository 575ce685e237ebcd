from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from products.audit import audit_context
from products.models import ApiToken
from products.services.tokens import token_hash, token_revoke


class Command(BaseCommand):
    help = "Revoke an API token: by its key, by its prefix, or all tokens of a user (--user)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_or_prefix", nargs="?")
        parser.add_argument("--user", help="Revoke every active token of this user.")

    def handle(self, *args: Any, **options: Any) -> None:
        tokens = ApiToken.objects.filter(revoked_at__isnull=True)
        if options["user"]:
            tokens = tokens.filter(user__username=options["user"])
        elif options["key_or_prefix"]:
            value = options["key_or_prefix"]
            tokens = tokens.filter(key_hash=token_hash(value)) | tokens.filter(prefix=value)
        else:
            raise CommandError("Give a token key or prefix, or --user.")
        revoked = 0
        with audit_context(actor="command:revoke_token"):
            for token_id in tokens.values_list("id", flat=True):
                revoked += token_revoke(token_id=token_id)
        if not revoked:
            raise CommandError("No active token matched.")
        self.stdout.write(self.style.SUCCESS(f"Revoked {revoked} token(s)."))
