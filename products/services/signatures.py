"""Electronic signatures (21 CFR Part 11 §11.50 signature manifestation, §11.200 components)."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from products.errors import InvalidSignature
from products.models import Signature


def signature_capture(
    *, signer: AbstractBaseUser, password: str, meaning: str, statement: str, record: str
) -> Signature:
    """Verify the signer's re-entered password and record the signature; call inside the caller's transaction."""
    # §11.200(a)(1): a signature needs the signer's own password, re-entered at the time of signing.
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
