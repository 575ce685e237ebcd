"""Who may see patient data: the tracker decides, from the product side's facts about roles.

Every patient-side read (tracker.selectors), page (tracker.views), API permission (tracker.api.permissions) and
admin asks `may_see_patients`; facility scoping then narrows to the caller's own facilities' patients.
"""

from products.access import PRODUCT_SIDE_ONLY_ROLES, AnyUser, user_roles
from products.choices import Role

# The safety role (issue #12) reads the aggregated surveillance figures of its facilities and never a patient list
# or record (the README's "Surveillance"); tracker.surveillance decides who sees the figures.
AGGREGATES_ONLY_ROLES = frozenset({Role.SAFETY})

# Roles that see no patient: a user who holds only these (or no role at all) sees none; another role opens its
# facilities' patients.
NO_PATIENT_ROLES = PRODUCT_SIDE_ONLY_ROLES | AGGREGATES_ONLY_ROLES


def may_see_patients(user: AnyUser) -> bool:
    """Any role but manufacturing (product side only) and safety (aggregates only) sees its facilities' patients;
    superusers see all."""
    if getattr(user, "is_superuser", False):
        return True
    return user.is_authenticated and bool(user_roles(user) - NO_PATIENT_ROLES)
