"""Allogeneic donors on the patient side: the person (PHI), bound to the product side's donor code."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from products.models import Facility
from products.services.donors import DONOR_ROLES, donor_create
from products.services.guards import require_member, require_role
from tracker.models import DonorIdentity


@transaction.atomic
def donor_register(
    *,
    actor: User,
    facility: Facility,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    phone: str = "",
    email: str = "",
    address: str = "",
    hla: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> DonorIdentity:
    """Register a donor: the product side gets a new donor code carrying no identifier (21 CFR 1271.290); the
    name, birth date and contact stay here, seen only at the donor's facility."""
    require_role(actor, *DONOR_ROLES, action="register donors")
    require_member(actor, facility)
    if birth_date > timezone.localdate(now):
        raise ValidationError({"birth_date": ["Cannot be in the future."]})
    if not given_name.strip() or not family_name.strip():
        raise ValidationError({"family_name" if given_name.strip() else "given_name": ["Required."]})
    donor = donor_create(actor=actor, facility=facility, hla=hla, now=now)
    return DonorIdentity.objects.create(
        donor=donor,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        sex=sex,
        phone=phone.strip(),
        email=email.strip(),
        address=address.strip(),
    )
