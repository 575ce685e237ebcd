"""Who may see patient data: the tracker decides, from the product side's facts about roles.

Every patient-side read (tracker.selectors), page (tracker.views), API permission (tracker.api.permissions) and
admin asks `may_see_patients`; facility scoping then narrows to the caller's own facilities' patients.
"""

from products.access import AnyUser, product_side_only


def may_see_patients(user: AnyUser) -> bool:
    """Any role but a product-side-only one (manufacturing) sees its facilities' patients; superusers see all."""
    return bool(getattr(user, "is_superuser", False)) or (user.is_authenticated and not product_side_only(user))
