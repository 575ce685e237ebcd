"""Electronic signatures (21 CFR Part 11 §11.50 signature manifestation, §11.200 components, §11.300(d))."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import mail_admins
from django.db import connection, transaction
from django.utils import timezone

from products.access import user_roles
from products.choices import Role, SignatureMeaning
from products.errors import InvalidSignature, PermissionDeniedError, SigningLocked
from products.models import Signature, SignatureFailure
from products.rules.hashchain import GENESIS, canonical_value, digest
from products.rules.signatures import LOCK_AFTER_FAILURES as LOCK_AFTER_FAILURES  # re-exported for callers
from products.rules.signatures import LOCK_WINDOW, is_locked
from products.tamper import signature_hash

security_log = logging.getLogger("security")

# Signatures at the bedside are given by the clinical staff who were there; every other meaning (release,
# rejection, and any QA decision added later) is a quality decision that needs the qa role itself.
BEDSIDE_MEANINGS = frozenset({SignatureMeaning.VERIFICATION, SignatureMeaning.ADMINISTRATION})
# 21 CFR 1271.60(d), 1271.65(b): using a unit of an ineligible or undetermined donor is the treating physician's
# documented decision (urgent medical need, a related donor); the clinician role itself signs it.
PHYSICIAN_MEANINGS = frozenset({SignatureMeaning.DONOR_EXCEPTION})

# The key of the transaction-level advisory lock that serialises appends to the signature hash chain.
SIGNATURE_CHAIN_LOCK = 0x5349_474E  # "SIGN"


def require_signing_role(user: User, *, action: str) -> None:
    """Signing needs the qa role itself: being a superuser is not enough (21 CFR 11.10(g) authority checks)."""
    if not getattr(user, "is_active", False) or Role.QA not in user_roles(user):
        raise PermissionDeniedError(
            f"Only users with the qa role itself may {action}; being a superuser is not enough."
        )


def require_physician_role(user: User, *, action: str) -> None:
    """The physician's decisions need the clinician role itself: being a superuser is not enough."""
    if not getattr(user, "is_active", False) or Role.CLINICIAN not in user_roles(user):
        raise PermissionDeniedError(
            f"Only users with the clinician role itself may {action}; being a superuser is not enough."
        )


def signature_verify(*, signer: User, password: str, record: str, now: datetime | None = None) -> None:
    """Check the re-entered password, outside the caller's transaction so a failure stays on record.

    Call this before the atomic work that signs; `signature_capture` then writes the signature itself.
    """
    with transaction.atomic():
        # The signer's row lock makes concurrent attempts take turns through count, check and insert: without
        # it, N wrong passwords sent at once would all count the same failures and all be let try.
        list(get_user_model().objects.select_for_update(no_key=True).filter(pk=signer.pk).values_list("pk"))
        now = now or timezone.now()
        recent = SignatureFailure.objects.filter(signer=signer, attempted_at__gte=now - LOCK_WINDOW).count()
        if is_locked(recent):
            locked = True
        else:
            # §11.200(a)(1): a signature needs the signer's own password, re-entered at the time of signing.
            if password and signer.is_active and signer.check_password(password):
                return
            locked = False
            SignatureFailure.objects.create(signer=signer, record=record, attempted_at=now)
    # Raised after the commit: the failure stays on record although the signing is refused.
    if locked:
        raise SigningLocked()
    security_log.warning("failed e-signature attempt: user %s, record %s", signer.pk, record)
    if is_locked(recent + 1):
        try:
            mail_admins(
                "Electronic signing locked",
                f"User id {signer.pk} entered a wrong signature password {recent + 1} times within "
                f"{LOCK_WINDOW}; signing is locked for that user. Last record: {record}.",
            )
        except Exception:  # noqa: BLE001 - the lock holds whether or not the mail goes out
            security_log.exception("could not mail the administrators about a signing lock")
    raise InvalidSignature()


@transaction.atomic
def signature_capture(
    *,
    signer: User,
    password: str,
    meaning: str,
    statement: str,
    record: str,
    reviewed: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Signature:
    """Record the signature, chained to the one before; the password is checked again (it was verified by
    `signature_verify` first). `reviewed` is what the signer judged: it is kept with its digest."""
    if meaning in PHYSICIAN_MEANINGS:
        require_physician_role(signer, action=f"sign a {meaning}")
    elif meaning not in BEDSIDE_MEANINGS:
        require_signing_role(signer, action=f"sign a {meaning}")
    if not password or not signer.is_active or not signer.check_password(password):
        raise InvalidSignature()
    if not statement.strip():
        statement = meaning
    document = canonical_value(dict(reviewed)) if reviewed else {}
    signature = Signature(
        signer=signer,
        printed_name=signer.get_full_name() or signer.get_username(),
        meaning=meaning,
        statement=statement.strip(),
        record=record,
        reviewed=document,
        reviewed_digest=digest(document) if document else "",
    )
    signature.prev_hash = _signature_chain_head()
    # Stamped once the chain is ours, so signing times follow the chain's order.
    signature.signed_at = now or timezone.now()
    signature.hash = signature_hash(vars(signature), signature.prev_hash)
    signature.save(force_insert=True)
    return signature


def _signature_chain_head() -> str:
    """The hash of the newest signature, with the chain locked until the caller's transaction ends, so two
    signatures written at once can never both link to the same predecessor (a fork).

    Callers lock their own rows (the batch, the unit) before they sign, so this lock comes after those and
    two signers cannot deadlock over it; it is held only for the rest of a short signing transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SIGNATURE_CHAIN_LOCK])
    return Signature.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
