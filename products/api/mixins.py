"""How the API's views write: validate the input (400), call one service (403/409 from its rules), answer."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response


def actor_of(request: Request) -> User:
    user = request.user
    assert user.is_authenticated  # IsAuthenticated ran before any write
    return user


class ValidatedInputMixin(generics.GenericAPIView):
    """`input_serializer_class` checks the request's shape (400); no input serializer means no body.

    A GenericAPIView, so that its own methods (the serializer's context, the record) are typed; every view
    that uses these mixins is one.
    """

    input_serializer_class: type[serializers.Serializer] | None = None

    def validated_input(self, request: Request) -> dict[str, Any]:
        if self.input_serializer_class is None:
            return {}
        serializer = self.input_serializer_class(
            data=request.data,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class ServiceCreateMixin(ValidatedInputMixin):
    """POST through a service: `input_serializer_class` checks shapes, `perform_service` calls the service and
    returns the new object, which `serializer_class` renders. Views hold no rule of their own."""

    def perform_service(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Under a record (`batches/{id}/steps/`): a parent the caller may not see is a 404 before the input is read,
        # the same answer whatever the body. A top-level list's queryset is lazy: this costs nothing there.
        self.get_queryset()
        instance = self.perform_service(self.validated_input(request))
        body = self.get_serializer(instance).data
        return Response(body, status=status.HTTP_201_CREATED)


class ServiceActionMixin(ValidatedInputMixin):
    """POST an action on one record the caller may see (else 404): `act` calls the service; the answer is
    the record as it is afterwards."""

    def get_record(self) -> Model:
        return self.get_object()

    def act(self, record: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError  # every action view names its one service call

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_record()
        self.act(record, self.validated_input(request))
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data)
