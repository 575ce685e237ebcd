from typing import Any

from django.core.management.base import BaseCommand

from products.audit import audit_context
from tracker.services.scan import monitoring_scan


class Command(BaseCommand):
    help = "Run one monitoring scan now (the same code Celery beat runs every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(actor="command:scan_monitoring"):
            result = monitoring_scan()
        self.stdout.write(f"Scan: {result}.")
