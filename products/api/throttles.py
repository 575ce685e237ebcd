"""API throttles: a rate per user (whatever token or session they use) and a rate per client address.

Throttling keeps one client from starving the others; it is not access control (permissions and the
selectors' scoping are). The counts live in the `throttle` cache (Redis), shared by every web process; if
Redis cannot be reached the request goes through rather than failing (the broker outage is reported by
the health check, and writes must still succeed then).
"""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


# One round trip, atomic: count this request in its client's window (opened by the window's first request, for the
# rate's duration) and say how long the window still runs. DRF's own throttle reads a list of timestamps and writes
# it back: two requests at once in two web processes could both pass (a lost update), and the list it pickles both
# ways grows with the rate (3 of a page's 12 ms at the benchmark's rates, make bench).
COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""


class _SettingsRateThrottle(SimpleRateThrottle):
    """Rates read from settings.API_THROTTLE_RATES when asked (DRF reads its own once, at import); at most
    `num_requests` per window of the rate's duration, counted atomically in Redis."""

    def __init__(self) -> None:
        # SimpleRateThrottle.__init__ reads the rate; read it from our setting instead.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.retry_after: float | None = None

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]  # DRF's plain attribute, looked up when used here
        return caches["throttle"]

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope) if self.scope is not None else None

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        limit, duration = self.num_requests, self.duration
        assert limit is not None and duration is not None  # a rate was given
        try:
            count, ttl_ms = self._count(key, duration)
        except (RedisError, OSError) as exc:
            logger.warning("API throttle skipped, its cache is unavailable: %s", type(exc).__name__)
            return True
        if count <= limit:
            return True
        self.retry_after = max(ttl_ms, 1) / 1000
        return False

    def _count(self, key: str, duration: int) -> tuple[int, int]:
        cache = self.cache
        # The cache's own Redis connection (its LOCATION and options); Django's cache API has no atomic
        # increment-with-expiry, so the script runs on the client behind it.
        client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
        count, ttl_ms = client.eval(COUNT_IN_WINDOW, 1, cache.make_and_validate_key(key), duration * 1000)
        return int(count), int(ttl_ms)

    def wait(self) -> float | None:
        """Seconds until the window ends (the Retry-After of a refused request)."""
        return self.retry_after


class UserThrottle(_SettingsRateThrottle):
    """Per signed-in user: every token and session of one user share the budget."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user.is_authenticated:  # never None: UNAUTHENTICATED_USER is AnonymousUser
            return None  # anonymous requests are counted by address only
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AddressThrottle(_SettingsRateThrottle):
    """Per client address (as the trusted proxies saw it: REST_FRAMEWORK["NUM_PROXIES"]), signed in or not."""

    scope = "address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
