"""One place that turns domain errors into 409 {"code", "detail"}, model validation into 400s, and what the
database or the request size refuses into a 400, 409 or 413 rather than a 500."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from products import integrity
from products.errors import DomainError

TOO_LARGE = "The request body is larger than this server accepts ({limit} bytes at most)."
TOO_MANY_FIELDS = "The request has more fields than this server accepts."
NO_FILES = "This API takes no file uploads."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        body.update(exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        set_rollback()
        return _integrity_response(exc)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        from django.conf import settings

        detail = TOO_LARGE.format(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if isinstance(exc, TooManyFieldsSent):
            detail = TOO_MANY_FIELDS
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFilesSent):
        return Response({"detail": NO_FILES}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        throttled = _throttle_unauthenticated(context)
        if throttled is not None:
            exc = throttled
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_403_FORBIDDEN and "code" not in response.data:
        # Every 403 reads like a domain refusal, {"code", "detail"}, whether a permission class or a service said no.
        response.data = {"code": "permission_denied", "detail": response.data.get("detail", "")}
    return response


def _validation_body(exc: DjangoValidationError) -> dict[str, Any]:
    key = api_settings.NON_FIELD_ERRORS_KEY
    if hasattr(exc, "error_dict"):
        # Model-wide errors (constraints over several fields) under DRF's name for them, not Django's `__all__`.
        return {key if k == NON_FIELD_ERRORS else k: v for k, v in exc.message_dict.items()}
    return {key: exc.messages}


def _integrity_response(exc: IntegrityError) -> Response:
    """A race the services' own checks could not see (two requests at once), or a rule only the database holds:
    a natural key already taken is 409 `duplicate` with the fields; a broken check constraint is a 400."""
    problem = integrity.describe(exc)
    if problem.kind == integrity.INVALID:
        key = problem.fields[0] if len(problem.fields) == 1 else api_settings.NON_FIELD_ERRORS_KEY
        return Response({key: [problem.message]}, status=status.HTTP_400_BAD_REQUEST)
    body: dict[str, Any] = {"code": problem.kind, "detail": problem.message}
    if problem.fields:
        body["fields"] = list(problem.fields)
    return Response(body, status=status.HTTP_409_CONFLICT)


def _throttle_unauthenticated(context: dict[str, Any]) -> exceptions.Throttled | None:
    """A request refused for its credentials counts against its address's rate like any other, so that guessing
    tokens is throttled too (DRF checks throttles only after authentication and permissions pass).

    The view's own throttles run with the request as it is (anonymous): the per-user rate counts nothing, the
    per-address rate counts this refusal. Past the rate the answer is 429 instead of 401.
    """
    view, request = context.get("view"), context.get("request")
    if view is None or request is None:
        return None
    try:
        view.check_throttles(request)
    except exceptions.Throttled as throttled:
        return throttled
    return None
