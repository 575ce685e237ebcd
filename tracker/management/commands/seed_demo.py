from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from products import demo as product_demo
from products.audit import audit_context


class Command(BaseCommand):
    help = "Load demo data (idempotent). Demo users with public passwords are created only when DEBUG is on."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic(), audit_context(actor="command:seed_demo"):
            facilities = product_demo.seed_facilities()
            users = product_demo.seed_users()
        self.stdout.write(f"Demo data: {len(facilities)} facilities; new users: {', '.join(users) or 'none'}.")
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo users were created.")
