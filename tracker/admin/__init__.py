"""The patient side in the Django admin. Importing the package registers every admin."""

from tracker.admin import bedside, clinical, monitoring, patients

__all__ = ["bedside", "clinical", "monitoring", "patients"]
