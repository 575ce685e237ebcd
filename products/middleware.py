"""Responses that may carry patient data are never stored by a browser or a shared cache."""

import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every dynamic response: pages, the admin and the API alike.

    It sits below WhiteNoise, so static files (which hold no data) keep their long cache lifetime. One rule for
    all, rather than a decorator per view, so that a new page or endpoint cannot forget it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
        return response


RENEWED_AT = "_renewed_at"
RENEW_EVERY_SECONDS = 60


class IdleSessionMiddleware:
    """Idle timeout: a signed-in session expires SESSION_COOKIE_AGE seconds after its last request.

    Each request that finds the session's expiry more than a minute old renews it (the session is saved, and
    its cookie sent again with the new expiry). Renewing at most once a minute, rather than on every request
    (SESSION_SAVE_EVERY_REQUEST), spares a database write per request; the timeout is exact to that minute.
    Place it after SessionMiddleware. Sessions of API tokens do not exist, so nothing happens for them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - int(session.get(RENEWED_AT, 0)) >= RENEW_EVERY_SECONDS:
                session[RENEWED_AT] = now  # modified: SessionMiddleware saves it with a fresh expiry
        return response


def session_renewed_at_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Logging in saves the session anyway: start its idle clock then (no extra write on the next request)."""
    if hasattr(request, "session"):
        request.session[RENEWED_AT] = int(time.time())


API_PREFIX = "/api/"
NUL_REFUSED = "The NUL character (%00) is not allowed in a URL: found in the {where}."


class RejectNulMiddleware:
    """A 400 for a URL whose path or query string holds the NUL character, before any view sees it.

    PostgreSQL's text cannot hold NUL: a lookup by such a path segment (`units/%00/`) or filter (`?mrn=%00`, an
    admin search) would fail in the database, a 500, wherever a field does not refuse it itself. One check for
    every page and endpoint, so that none can forget it; bodies are checked by the API's parsers
    (products.api.parsers) and Django's form fields.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self.nul_in(request)
        if where is None:
            return self.get_response(request)
        message = NUL_REFUSED.format(where=where)
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

    @staticmethod
    def nul_in(request: HttpRequest) -> str | None:
        if "\x00" in request.path_info:
            return "path"
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return "query string"
        return None
