from getpass import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from products.audit import audit_context
from products.choices import Role
from products.errors import DomainError
from products.services.accounts import user_create


class Command(BaseCommand):
    help = "Create a user with a role and facilities: create_user <username> --role <role> [--facility <code> ...]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", action="append", required=True, choices=Role.values, dest="roles")
        parser.add_argument("--facility", action="append", default=[], dest="facilities")
        parser.add_argument("--password", help="Without it, the password is asked for (twice).")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if not password:
            password = getpass("Password: ")
            if password != getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        if not password:
            raise CommandError("A password is required.")
        try:
            with audit_context(actor="command:create_user"):
                user = user_create(
                    username=options["username"],
                    roles=options["roles"],
                    facility_codes=options["facilities"],
                    password=password,
                    email=options["email"],
                )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(self.style.SUCCESS(f"User {user.username} ready ({', '.join(options['roles'])})."))
