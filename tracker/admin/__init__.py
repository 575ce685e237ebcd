"""The patient side in the Django admin. Importing the package registers every admin."""

from tracker.admin import adverse_events, bedside, clinical, donors, monitoring, patients, webhooks

__all__ = ["adverse_events", "bedside", "clinical", "donors", "monitoring", "patients", "webhooks"]
