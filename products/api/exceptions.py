"""One place that turns domain errors into 409 {"code", "detail"}."""

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from products.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        body.update(exc.extra)
        return Response(body, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
