"""How the API's views write: validate the input (400), call one service (403/409 from its rules), answer."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response


def actor_of(request: Request) -> AbstractBaseUser:
    return request.user  # type: ignore[return-value]  # IsAuthenticated ran before any write


class ServiceCreateMixin:
    """POST through a service: `input_serializer_class` checks shapes, `perform_service` calls the service and
    returns the new object, which `serializer_class` renders. Views hold no rule of their own."""

    input_serializer_class: type[serializers.Serializer]

    def validated_input(self, request: Request) -> dict[str, Any]:
        serializer = self.input_serializer_class(
            data=request.data,
            context=self.get_serializer_context(),  # type: ignore[attr-defined]
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def perform_service(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.perform_service(self.validated_input(request))
        body = self.get_serializer(instance).data  # type: ignore[attr-defined]
        return Response(body, status=status.HTTP_201_CREATED)
