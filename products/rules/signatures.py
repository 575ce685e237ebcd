"""Electronic-signature lockout (21 CFR 11.300(d)). Pure: no database."""

from datetime import timedelta

# §11.300(d): attempts at unauthorised use are detected and reported at once. Five wrong passwords within
# fifteen minutes lock the signer's signing for fifteen minutes and tell the administrators.
LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)


def is_locked(recent_failures: int) -> bool:
    """Signing is locked once the signer's failures within LOCK_WINDOW reach LOCK_AFTER_FAILURES."""
    return recent_failures >= LOCK_AFTER_FAILURES
