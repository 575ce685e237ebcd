"""Electronic signatures (21 CFR Part 11 §11.50 signature manifestation, §11.200 components, §11.300(d))."""

import logging
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import mail_admins
from django.utils import timezone

from products.access import user_roles
from products.choices import Role
from products.errors import InvalidSignature, PermissionDeniedError, SigningLocked
from products.models import Signature, SignatureFailure

security_log = logging.getLogger("security")

# §11.300(d): attempts at unauthorised use are detected and reported at once. Five wrong passwords within
# fifteen minutes lock the signer's signing for fifteen minutes and tell the administrators.
LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)


def require_signing_role(user: AbstractBaseUser, *, action: str) -> None:
    """QA's signature needs the `qa` role itself: a superuser's administrative rights are no signing authority
    (21 CFR 11.10(g): only authorised individuals sign)."""
    if Role.QA not in user_roles(user):
        raise PermissionDeniedError(f"Only QA may {action}: it needs the qa role itself, not administrator rights.")


def signature_verify(*, signer: AbstractBaseUser, password: str, record: str) -> None:
    """Check the re-entered password, outside the caller's transaction so a failure stays on record.

    Call this before the atomic work that signs; `signature_capture` then writes the signature itself.
    """
    now = timezone.now()
    recent = SignatureFailure.objects.filter(signer=signer, attempted_at__gte=now - LOCK_WINDOW).count()
    if recent >= LOCK_AFTER_FAILURES:
        raise SigningLocked()
    # §11.200(a)(1): a signature needs the signer's own password, re-entered at the time of signing.
    if password and signer.is_active and signer.check_password(password):
        return
    SignatureFailure.objects.create(signer=signer, record=record, attempted_at=now)
    security_log.warning("failed e-signature attempt: user %s, record %s", signer.pk, record)
    if recent + 1 >= LOCK_AFTER_FAILURES:
        try:
            mail_admins(
                "Electronic signing locked",
                f"User id {signer.pk} entered a wrong signature password {recent + 1} times within "
                f"{LOCK_WINDOW}; signing is locked for that user. Last record: {record}.",
            )
        except Exception:  # noqa: BLE001 - the lock holds whether or not the mail goes out
            security_log.exception("could not mail the administrators about a signing lock")
    raise InvalidSignature()


def signature_capture(
    *, signer: AbstractBaseUser, password: str, meaning: str, statement: str, record: str
) -> Signature:
    """Record the signature; the password is checked again (it was verified by `signature_verify` first)."""
    if not password or not signer.is_active or not signer.check_password(password):
        raise InvalidSignature()
    if not statement.strip():
        statement = meaning
    return Signature.objects.create(
        signer=signer,
        printed_name=signer.get_full_name() or signer.get_username(),  # type: ignore[attr-defined]
        meaning=meaning,
        statement=statement.strip(),
        signed_at=timezone.now(),
        record=record,
    )
