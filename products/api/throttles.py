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


class _SettingsRateThrottle(SimpleRateThrottle):
    """Rates read from settings.API_THROTTLE_RATES when asked (DRF reads its own once, at import)."""

    def __init__(self) -> None:
        # SimpleRateThrottle.__init__ reads the rate; read it from our setting instead.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]  # DRF's plain attribute, looked up when used here
        return caches["throttle"]

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope) if self.scope is not None else None

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("API throttle skipped, its cache is unavailable: %s", type(exc).__name__)
            return True


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
