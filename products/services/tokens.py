"""API tokens: issue (the key is shown once), authenticate by hash, expire, revoke."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from products.models import ApiToken

KEY_PREFIX = "vtv_"
# Touch last_used_at at most this often, so authentication stays a single read.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str


def token_hash(key: str) -> str:
    # A 256-bit random key needs no salt or slow hash: it cannot be guessed from a dictionary.
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_issue(
    *, user: User, ttl: timedelta | None = None, name: str = "", now: datetime | None = None
) -> IssuedToken:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=token_hash(key),
        expires_at=(now or timezone.now()) + (ttl if ttl is not None else settings.API_TOKEN_TTL),
    )
    return IssuedToken(token=token, key=key)


def token_revoke(*, token_id: int, now: datetime | None = None) -> bool:
    """Revoke one token; True if this call revoked it (False if it already was)."""
    revoked = ApiToken.objects.filter(id=token_id, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    return revoked == 1


def token_revoke_all(*, user: User, now: datetime | None = None) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now or timezone.now())


class TokenRejected(Exception):
    pass


def token_authenticate(*, key: str, now: datetime | None = None) -> ApiToken:
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    if token is None:
        raise TokenRejected("Invalid token.")
    now = now or timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected("Token revoked.")
    if token.expires_at <= now:
        raise TokenRejected("Token expired.")
    if not token.user.is_active:
        raise TokenRejected("User inactive or deleted.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token
