"""`POST /api/v1/orders/{coi}/plan/`: the planned first day of conditioning and infusion day of an order (the board
counts them), through tracker.services.planning."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers

from products.api.mixins import ServiceActionMixin, actor_of
from products.api.views import write_responses
from tracker.api.serializers import OrderSerializer
from tracker.api.views import PATIENT_DATA
from tracker.selectors import orders_visible_to
from tracker.services.planning import order_plan


class OrderPlanInputSerializer(serializers.Serializer):
    planned_conditioning_on = serializers.DateField(
        allow_null=True, help_text="First day of conditioning (lymphodepletion); null clears it."
    )
    planned_infusion_on = serializers.DateField(allow_null=True, help_text="The infusion day (day 0); null clears it.")


@extend_schema_view(
    post=extend_schema(
        request=OrderPlanInputSerializer,
        responses=write_responses(200, OrderSerializer),
        description="Plan an order: both dates are set as given (null clears one). Conditioning after the infusion "
        "is a 400 on `planned_conditioning_on`; an infused or cancelled chain is a 409 `chain_closed`. Coordinators, "
        "clinicians and integrations of the patient's facility.",
    )
)
class OrderPlan(ServiceActionMixin, generics.GenericAPIView):
    serializer_class = OrderSerializer
    input_serializer_class = OrderPlanInputSerializer
    permission_classes = PATIENT_DATA
    lookup_field = "chain__coi"
    lookup_url_kwarg = "coi"
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return orders_visible_to(self.request.user)

    def act(self, record: Any, data: dict[str, Any]) -> None:
        order_plan(actor=actor_of(self.request), order_id=record.pk, **data)
