"""One place that turns domain errors into 409 {"code", "detail"} and model validation into 400s."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from products.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        body.update(exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        key = api_settings.NON_FIELD_ERRORS_KEY
        if hasattr(exc, "error_dict"):
            # Model-wide errors (constraints over several fields) under DRF's name for them, not Django's `__all__`.
            body = {key if k == NON_FIELD_ERRORS else k: v for k, v in exc.message_dict.items()}
        else:
            body = {key: exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
