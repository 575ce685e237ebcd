"""Domain errors of the bedside (409 {code, detail}; docs/api.md, "Errors", and the README's hard stops)."""

from products.errors import DomainError


class IdentityMismatch(DomainError):
    code = "identity_mismatch"
    default_detail = "The scanned bag or wristband does not belong to this order."


class UnitNotAtSite(DomainError):
    code = "unit_not_at_site"
    default_detail = "The unit has not been received at the patient's facility."


class UnitNotThawed(DomainError):
    code = "unit_not_thawed"
    default_detail = "A cryopreserved unit is thawed before it is administered."


class AlreadyAdministered(DomainError):
    code = "already_administered"
    default_detail = "This unit has already been administered."


class NoCourse(DomainError):
    code = "no_course"
    default_detail = "The patient has no therapy order: there is no registry document to show."
