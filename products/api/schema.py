"""The schema documents every status code an operation can answer, from what the operation is.

Views declare their success and their own refusals (`write_responses`, `@extend_schema`); the answers every
operation of a kind shares are added here, once, from the view's shape (so a new view cannot forget them):

| code | when | who answers |
|---|---|---|
| 400 | always (a NUL character in the URL), and invalid input, filters or body | middleware, serializers |
| 401 | every operation but `health/` | authentication |
| 403 | writes, and views with a role or patient-data permission | permissions, services |
| 404 | a path with an id or code (not yours, or none); a list's page past the last | querysets, pagination |
| 406 | an `Accept` header asking for what the operation does not give | content negotiation |
| 409 | writes: a rule says no, or a natural key is already taken (`duplicate`, raced) | services, the database |
| 413, 415 | operations with a body: too large, or not JSON / a form | parsers |
| 429 | always (throttling; refused credentials count too) | throttles |
"""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated

from products.api.serializers.errors import DomainErrorSerializer, ErrorDetailSerializer

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}

BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Invalid input: `{"field": ["message", ...]}` (nested as the input is), or `{"detail": "..."}` for '
    "a body that cannot be read or a NUL character (which no text may hold) in the URL or the body.",
)
UNAUTHENTICATED = OpenApiResponse(
    ErrorDetailSerializer,
    description="No valid credentials: send `Authorization: Token <key>` (or use a session). Refused credentials "
    "count against the address's rate: past it the answer is 429.",
)
FORBIDDEN = OpenApiResponse(
    DomainErrorSerializer, description="Your role or facilities do not allow this: `{code, detail}`."
)
NOT_FOUND = OpenApiResponse(
    ErrorDetailSerializer,
    description="Not found, or not yours to see: the same answer either way, so it tells nothing about other "
    "facilities' records.",
)
PAGE_NOT_FOUND = OpenApiResponse(ErrorDetailSerializer, description="`?page=` past the last page, or not a number.")
NOT_ACCEPTABLE = OpenApiResponse(
    ErrorDetailSerializer, description="The `Accept` header asks for a representation this operation does not give."
)
CONFLICT = OpenApiResponse(
    DomainErrorSerializer,
    description="A valid request that breaks a rule: `{code, detail}` (the operation's description names its "
    "codes). `duplicate`, with `fields`: a natural key already taken by a request at the same moment (e.g. "
    '`{"code": "duplicate", "fields": ["lot_number"]}`).',
)
TOO_LARGE = OpenApiResponse(
    ErrorDetailSerializer,
    description="The body is larger than the server accepts (REQUEST_MAX_BYTES, 1 MiB by default) or has too many "
    "fields.",
)
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    ErrorDetailSerializer,
    description="The body is not `application/json`, `application/x-www-form-urlencoded` or `multipart/form-data`.",
)
THROTTLED = OpenApiResponse(
    ErrorDetailSerializer,
    description="Too many requests from this user or address (throttling, see README). Retry after the number "
    "of seconds in the `Retry-After` header.",
)

# The body of each error status, whatever the operation (the exception handler writes them).
BODIES = {"400": BAD_REQUEST, "403": FORBIDDEN, "409": CONFLICT}


def slug_max_length(field: serializers.SlugRelatedField) -> int | None:
    """The longest value a reference by natural key can have: its model field's max_length (`chain__coi` too)."""
    queryset = getattr(field, "queryset", None)
    if queryset is None:
        return None
    model, names = queryset.model, field.slug_field.split("__")
    for name in names[:-1]:
        model = model._meta.get_field(name).related_model
    return getattr(model._meta.get_field(names[-1]), "max_length", None)


class ProjectAutoSchema(AutoSchema):
    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # References by natural key (a facility's code, an order's COI) are no longer than the key itself.
        if isinstance(field, serializers.SlugRelatedField) and schema.get("type") == "string":
            limit = slug_max_length(field)
            if limit is not None:
                schema.setdefault("maxLength", limit)
        return schema

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        common = self.common_responses()
        for code, default in common.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(default, code, direction=direction)
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                # A view that described the answer without its body: the body is the one of its code.
                body = (common.get(code) or BODIES.get(code, NOT_FOUND)).response
                described = OpenApiResponse(body, description=response["description"])
                responses[code] = self._get_response_for_code(described, code, direction=direction)
        if "429" in responses:
            responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
        return responses

    def common_responses(self) -> dict[str, OpenApiResponse]:
        permissions = self.view.get_permissions()
        public = bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)
        restricted = any(not isinstance(p, (IsAuthenticated, AllowAny)) for p in permissions)
        unsafe = self.method in UNSAFE
        responses = {"400": BAD_REQUEST}
        if not public:
            responses["401"] = UNAUTHENTICATED
        if not public and (unsafe or restricted):
            # Unsafe methods: the services' role checks, and CSRF for a session.
            responses["403"] = FORBIDDEN
        if "{" in self.path:
            responses["404"] = NOT_FOUND
        elif self.method == "GET" and self._is_list_view() and self._get_paginator() is not None:
            responses["404"] = PAGE_NOT_FOUND
        responses["406"] = NOT_ACCEPTABLE
        if unsafe:
            responses["409"] = CONFLICT
        if self._get_request_body() is not None:
            responses["413"] = TOO_LARGE
            responses["415"] = UNSUPPORTED_MEDIA_TYPE
        responses["429"] = THROTTLED
        return responses


def document_error_codes(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """`code` of a 403 or 409 body is one of the domain errors' codes (every DomainError subclass), or
    `duplicate` / `conflict` (what the database refused). The enum is read from the code, never retyped."""
    from products.errors import DomainError
    from products.integrity import CONFLICT as CONFLICT_CODE
    from products.integrity import DUPLICATE

    codes = {DUPLICATE, CONFLICT_CODE, "permission_denied"}
    pending = [DomainError]
    while pending:
        error = pending.pop()
        codes.add(error.code)
        pending.extend(error.__subclasses__())
    for name, component in result.get("components", {}).get("schemas", {}).items():
        code = component.get("properties", {}).get("code")
        if name.endswith("Error") and code is not None and code.get("type") == "string":
            code["enum"] = sorted(codes)
    return result
