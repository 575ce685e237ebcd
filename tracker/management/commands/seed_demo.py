from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from products import demo as product_demo
from products.audit import audit_context
from tracker import demo as tracker_demo
from tracker import demo_allogeneic
from tracker.services.scan import monitoring_scan


class Command(BaseCommand):
    help = "Load demo data (idempotent). Demo users and patients are created only when DEBUG is on."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic(), audit_context(actor="command:seed_demo"):
            facilities = product_demo.seed_facilities()
            users = product_demo.seed_users()
            if not settings.DEBUG:
                self.stdout.write(f"Demo data: {len(facilities)} facilities. DEBUG is off: no demo users or patients.")
                return
            products = product_demo.seed_products(get_user_model().objects.get(username="coordinator"))
            chains = tracker_demo.seed_chains(products, facilities)
            msc_orders = demo_allogeneic.seed_allogeneic(products, facilities)
            chains += len(msc_orders)
            # The first MSC patient's steroid-refractory acute GVHD, staged before the course and weekly since.
            for order in msc_orders[:1]:
                tracker_demo.gvhd_response_course(patient=order.patient, clinician=order.ordered_by)
            # Reminders for what is due now, without waiting for beat's first scan.
            scan = monitoring_scan()
        self.stdout.write(
            f"Demo data: {len(facilities)} facilities, {len(products)} products, {chains} new chains; "
            f"new users: {', '.join(users) or 'none'}; scan: {scan}."
        )
