from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from products.audit import audit_context
from products.services.tokens import token_issue


class Command(BaseCommand):
    help = "Issue an API token for a user and print its key once (only a hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None, help="Validity in days (default: API_TOKEN_TTL_DAYS, 90)."
        )
        parser.add_argument("--name", default="", help="A label, e.g. the integration that uses it.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        days = options["days"]
        if days is not None and days <= 0:
            raise CommandError("--days must be positive.")
        with audit_context(actor="command:issue_token"):
            issued = token_issue(user=user, ttl=timedelta(days=days) if days else None, name=options["name"])
        self.stderr.write(
            f"Token {issued.token.prefix}… for {user.username}, expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        self.stderr.write("Store it now: it cannot be shown again.")
        self.stdout.write(issued.key)
