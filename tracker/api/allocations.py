"""Allocation of allogeneic units to orders: `orders/{coi}/allocate/`, `orders/{coi}/allocations/` and their
`release/`. The rules are products.services.allocations'; the order (and the patient's HLA typing) comes from the
patient side (tracker.services.allocations)."""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from products.api.mixins import ServiceActionMixin, ValidatedInputMixin, actor_of
from products.api.serializers.batches import SignatureSerializer
from products.api.serializers.fields import PASSWORD_MAX_LENGTH, free_text
from products.api.views import write_responses
from products.choices import DonorException, Eligibility
from products.models import Allocation
from products.selectors import coi_lookup
from products.services.allocations import allocation_release
from tracker.api.views import PATIENT_DATA
from tracker.models import TherapyOrder
from tracker.selectors import orders_visible_to
from tracker.services.allocations import order_allocate


class AllocationSerializer(serializers.ModelSerializer):
    """A unit reserved for an order: who, when, the HLA match, the donor's standing and any exception; released
    back to stock on record."""

    coi = serializers.CharField(source="chain.coi", read_only=True)
    unit = serializers.CharField(source="unit.unit_id", read_only=True)
    lot_number = serializers.CharField(source="unit.batch.lot_number", read_only=True)
    donor_code = serializers.CharField(
        source="unit.batch.collection.donor.donor_code", read_only=True, allow_null=True, default=None
    )
    allocated_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)
    hla_matches = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Allele matches at HLA-A, -B, -C, -DRB1 between donor and patient (0-8), computed at allocation; "
        "null when either is untyped (the product needed none).",
    )
    hla_match_min = serializers.IntegerField(read_only=True, help_text="The product's minimum when allocated.")
    donor_eligibility = serializers.ChoiceField(choices=Eligibility.choices, read_only=True)
    exception = serializers.ChoiceField(choices=DonorException.choices, read_only=True, allow_blank=True)
    exception_signature = SignatureSerializer(read_only=True, allow_null=True)
    label_warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    released_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    is_open = serializers.BooleanField(read_only=True, help_text="Not released: the unit is this order's.")

    class Meta:
        model = Allocation
        fields = [
            "id",
            "coi",
            "unit",
            "lot_number",
            "donor_code",
            "allocated_at",
            "allocated_by",
            "hla_matches",
            "hla_match_min",
            "donor_eligibility",
            "exception",
            "exception_rationale",
            "exception_signature",
            "label_warnings",
            "is_open",
            "released_at",
            "released_by",
            "release_reason",
        ]
        read_only_fields = fields


class AllocateInputSerializer(serializers.Serializer):
    unit = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="The unit id to reserve; without it, the soonest-expiring eligible unit of the product is chosen.",
    )
    exception = serializers.ChoiceField(
        choices=DonorException.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="For a named unit whose donor is not eligible: `urgent_medical_need` (21 CFR 1271.60(d), "
        "1271.65(b)(1)(iii)) or `related_donor` (ineligible donor only, 1271.65(b)(1)(i)). Signed by the caller, "
        "who needs the clinician role (the treating physician).",
    )
    exception_rationale = free_text(
        required=False, allow_blank=True, default="", help_text="With `exception`: the documented need or relation."
    )
    password = serializers.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="With `exception`: the signer's own password, re-entered (21 CFR 11.200).",
    )
    meaning = free_text(required=False, allow_blank=True, default="")


class ReleaseAllocationInputSerializer(serializers.Serializer):
    reason = free_text(help_text="Why the unit returns to stock.")


class OrderChildMixin(generics.GenericAPIView):
    """Views under `orders/{coi}/`: the order must be one the caller may see, or it is a 404."""

    def get_order(self) -> TherapyOrder:
        if not hasattr(self, "_order"):
            orders = orders_visible_to(self.request.user).filter(coi_lookup("chain", self.kwargs["coi"]))
            self._order = get_object_or_404(orders)
        return self._order


def _allocations(order: TherapyOrder) -> QuerySet[Allocation]:
    return Allocation.objects.filter(chain_id=order.chain_id).select_related(
        "chain", "unit__batch__collection__donor", "allocated_by", "released_by", "exception_signature__signer"
    )


ALLOCATE_REFUSALS = (
    "409 `unit_not_available` (another product's unit; allocated already; not in stock: in transit, thawed, given "
    "or discarded; held, with `holds`; batch not released; expired; stocked at another treatment centre), "
    "`donor_ineligible` (the donation is not eligible: ineligible or undetermined donor, a reactive result on record, "
    "tests not taken within the window of its recovery; and no allowed exception), `hla_mismatch` (fewer allele "
    "matches than the product's `hla_match_min`, or an untyped side when it is above 0), `no_eligible_unit` (no unit "
    "named and none qualifies), `illegal_transition` (an autologous product's order, a cancelled order). 400 when "
    "an exception lacks its rationale or password, or names no unit. 403 outside the patient's facility, or an "
    "exception signed without the clinician role; `invalid_signature`, `signing_locked`. Nothing is written when "
    "refused."
)


@extend_schema_view(
    post=extend_schema(
        request=AllocateInputSerializer,
        responses=write_responses(201, AllocationSerializer),
        description="Reserve a unit of the order's allogeneic product from inventory: `unit`, or the soonest-"
        "expiring eligible one. The unit is bound to the order (its `coi`): custody and the bedside check then work "
        "as for an autologous unit, and the bedside accepts only a unit allocated to this order. An order may hold "
        "several units (a course of several infusions). The HLA match with the patient is computed and kept. "
        + ALLOCATE_REFUSALS,
    )
)
class OrderAllocate(OrderChildMixin, ValidatedInputMixin, generics.GenericAPIView):
    serializer_class = AllocationSerializer
    input_serializer_class = AllocateInputSerializer
    permission_classes = PATIENT_DATA

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.get_order()
        data = self.validated_input(request)
        allocation = order_allocate(
            actor=actor_of(request),
            order_id=order.pk,
            unit_id=data["unit"].strip() or None,
            exception=data["exception"],
            exception_rationale=data["exception_rationale"],
            password=data["password"],
            meaning=data["meaning"],
        )
        return Response(self.get_serializer(_allocations(order).get(pk=allocation.pk)).data, status.HTTP_201_CREATED)


class OrderAllocationList(OrderChildMixin, generics.ListAPIView):
    """The order's allocations, open and released, newest first."""

    serializer_class = AllocationSerializer
    permission_classes = PATIENT_DATA
    filterset_class = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Allocation.objects.none()
        return _allocations(self.get_order()).order_by("-allocated_at", "-id")


@extend_schema_view(
    post=extend_schema(
        request=ReleaseAllocationInputSerializer,
        responses=write_responses(200, AllocationSerializer),
        description="Return the allocated unit to stock, on record (who, when, `reason`): it is no longer the order's, "
        "and the bedside refuses it for this order. 409 `illegal_transition` when the allocation was released "
        "already or its unit cannot return to stock (administered, thawed, in transit). When no unit remains bound "
        "to the order, the order waits for a unit again (status `ordered`).",
    )
)
class OrderAllocationRelease(OrderChildMixin, ServiceActionMixin, generics.GenericAPIView):
    serializer_class = AllocationSerializer
    input_serializer_class = ReleaseAllocationInputSerializer
    permission_classes = PATIENT_DATA

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Allocation.objects.none()
        return _allocations(self.get_order())

    def get_record(self) -> Allocation:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["allocation_id"])

    def act(self, record: Allocation, data: dict[str, Any]) -> None:
        allocation_release(actor=actor_of(self.request), allocation_id=record.pk, reason=data["reason"])
