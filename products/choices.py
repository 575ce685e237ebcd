"""Enumerations shared by models, API and admin (values are the REST contract's)."""

from django.db import models


class FacilityKind(models.TextChoices):
    COLLECTION = "collection", "Collection centre"
    MANUFACTURING = "manufacturing", "Manufacturing site"
    TREATMENT = "treatment", "Treatment centre"


class Role(models.TextChoices):
    """Django groups created by migration; a user may hold several."""

    COORDINATOR = "coordinator", "Coordinator"
    CLINICIAN = "clinician", "Clinician"
    QA = "qa", "Quality assurance (may release batches)"
    MANUFACTURING = "manufacturing", "Manufacturing (product side only, no patient data)"
    INTEGRATION = "integration", "Integration (API client)"


# Roles that work in the Django admin and so need is_staff.
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.QA, Role.MANUFACTURING})
