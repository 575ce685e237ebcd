"""One kind of record on the API as a list (with create) and a detail view, made from a selector, serializers, a
filterset and a service.

Most clinical endpoints are the same pair: GET a page of the records the caller may see (a selector, in a fixed
order, filtered), POST one through a service, GET one by id (else 404). `record_views` builds that pair, so each
endpoint only says what differs. The views it makes are plain DRF generic views (ServiceCreateMixin +
ListCreateAPIView, RetrieveAPIView), so the served schema is what it was when each pair was written out by hand.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Expression, Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from products.api.mixins import ServiceCreateMixin, actor_of
from products.api.views import write_responses
from tracker.selectors import AnyUser

Create = Callable[[User, dict[str, Any]], Model]


@dataclass(frozen=True)
class Records:
    """Where one kind of record comes from (a selector, scoped to the caller, in a fixed order), how it is shown,
    filtered and who may ask."""

    selector: Callable[[AnyUser], QuerySet]
    ordering: tuple[str | Expression, ...]
    serializer: type[serializers.Serializer]
    permission_classes: Sequence[type[BasePermission]]
    filterset: type | None = None

    def queryset(self, request: Request) -> QuerySet:
        return self.selector(request.user).order_by(*self.ordering)


def record_views(
    name: str,
    records: Records,
    *,
    doc: str | None = None,
    create: Create | None = None,
    input_serializer: type[serializers.Serializer] | None = None,
    create_description: str | None = None,
    refetch: bool = False,
    detail_mixins: tuple[type, ...] = (),
) -> tuple[type[generics.GenericAPIView], type[generics.GenericAPIView]]:
    """(`<name>ListCreate` or `<name>List`, `<name>Detail`) for the records.

    With `create` (the service call, given the caller and the validated input), POST validates the input with
    `input_serializer` (400), calls it and answers 201 with the new record; `refetch` reads the record back
    through the selector first (for what the selector annotates or joins). `doc` is the list's description.
    `detail_mixins` add methods to the detail view (e.g. a PATCH); give them no docstring, since the schema would
    show it as the detail's description.
    """

    def get_queryset(self: generics.GenericAPIView) -> QuerySet:
        return records.queryset(self.request)

    common = {
        "__module__": __name__,
        "serializer_class": records.serializer,
        "permission_classes": list(records.permission_classes),
        "get_queryset": get_queryset,
    }
    if create is None:
        listing: type[generics.GenericAPIView] = type(
            f"{name}List",
            (generics.ListAPIView,),
            {**common, "__doc__": doc, "filterset_class": records.filterset},
        )
    else:

        def perform_service(self: generics.GenericAPIView, data: dict[str, Any]) -> Model:
            created = create(actor_of(self.request), data)
            return self.get_queryset().get(pk=created.pk) if refetch else created

        listing = type(
            f"{name}ListCreate",
            (ServiceCreateMixin, generics.ListCreateAPIView),
            {
                **common,
                "__doc__": doc,
                "filterset_class": records.filterset,
                "input_serializer_class": input_serializer,
                "perform_service": perform_service,
            },
        )
        post = extend_schema(
            request=input_serializer,
            responses=write_responses(201, records.serializer),
            description=create_description,  # None: the view's docstring
        )
        listing = extend_schema_view(post=post)(listing)
    detail: type[generics.GenericAPIView] = type(
        f"{name}Detail",
        (*detail_mixins, generics.RetrieveAPIView),
        {**common, "__doc__": None, "lookup_url_kwarg": "id"},
    )
    return listing, detail
