"""`bedside-checks/`: scan the bag and the wristband against an order; every check is kept, match or not."""

from typing import Any

import django_filters
from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from products.api.filters import CoiFilter
from products.api.mixins import ServiceCreateMixin, actor_of
from products.api.serializers.errors import DomainErrorSerializer
from products.selectors import coi_lookup
from tracker import selectors
from tracker.api.clinical_serializers import UnitByIdField, username
from tracker.api.views import PATIENT_DATA
from tracker.models import BedsideCheck
from tracker.services.bedside_checks import bedside_check_record

SCAN_LENGTH = 128


class BedsideCheckInputSerializer(serializers.Serializer):
    coi = serializers.CharField(
        max_length=SCAN_LENGTH,
        help_text="The order, by its COI as typed or scanned (`COIW432126000042G`, `COI-W4321-26-000042-G`, with a "
        "symbology identifier such as `]C0`), or a unit label's 2-D code (`V2V1|COI|expiry|unit id`), which names it "
        "too. Among the orders of the caller's facilities (else a 400: it does not exist).",
    )
    scanned_unit = serializers.CharField(
        max_length=SCAN_LENGTH,
        help_text="What the scanner read from the bag: its unit id (Code 128), its label's 2-D code, or its DIN with "
        "or without the ISBT 128 data identifier `=` and flags (`=G12349865432100`), or typed with the check "
        "character (`G123498654321H`). A symbology identifier (`]C0`, `]Q1`) and a line end are taken off.",
    )
    scanned_patient = serializers.CharField(
        max_length=SCAN_LENGTH, help_text="What the scanner read from the wristband: the MRN."
    )
    scanned_birth_date = serializers.DateField(
        input_formats=["iso-8601", "%Y%m%d"],
        help_text="The birth date on the wristband, the second identifier: YYYY-MM-DD (or YYYYMMDD).",
    )
    unit = UnitByIdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional: the unit id of the bag meant. Without it, the bag is the one of the order's bags that "
        "`scanned_unit` names.",
    )

    def validate_coi(self, value: str) -> str:
        order = selectors.orders_visible_to(self.context["request"].user).filter(coi_lookup("chain", value)).first()
        if order is None:
            raise serializers.ValidationError(f"Order with COI {value.strip()} does not exist.")
        return order.chain.coi


class MismatchSerializer(serializers.Serializer):
    field = serializers.ChoiceField(
        choices=["scanned_unit", "scanned_patient", "scanned_birth_date"], help_text="The scan that does not match."
    )
    expected = serializers.CharField(
        help_text="The order's own value: the bag's unit id (or the order's bags' unit ids, comma-separated), the "
        "patient's MRN, or birth date. The caller may already see the order's patient."
    )
    scanned = serializers.CharField(help_text="What was scanned (without the scanner's symbology identifier).")
    reason = serializers.CharField(help_text="Why it does not match, in words a nurse acts on.")


class UnitProblemSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "already_administered",
            "unit_on_hold",
            "unit_not_released",
            "unit_not_at_site",
            "unit_expired",
            "unit_not_thawed",
            "out_of_sequence",
        ],
        help_text="The code the administration would answer 409 with.",
    )
    detail = serializers.CharField()


class BedsideCheckSerializer(serializers.ModelSerializer):
    """One bedside check and its answer."""

    coi = serializers.CharField(source="order.chain.coi", read_only=True)
    unit = serializers.CharField(
        source="unit.unit_id",
        read_only=True,
        allow_null=True,
        help_text="The bag the scan named among the order's (null when it named none): what `administrations/` takes "
        "as `unit`.",
    )
    checked_by = username("Who scanned (username).")
    match = serializers.BooleanField(
        read_only=True,
        help_text="True only when the bag and the wristband are the order's and the bag may be given now: "
        "`mismatches` and `unit_problems` are both empty.",
    )
    mismatches = MismatchSerializer(many=True, read_only=True)
    unit_problems = UnitProblemSerializer(
        many=True,
        read_only=True,
        help_text="When the bag is the order's: every reason it may not be given now (on hold, expired, not thawed, "
        "given already...), with the code `administrations/` would refuse it with. Never shown for a bag that is "
        "not the order's.",
    )

    class Meta:
        model = BedsideCheck
        fields = [
            "id",
            "coi",
            "patient",
            "unit",
            "checked_at",
            "checked_by",
            "scanned_unit",
            "scanned_patient",
            "scanned_birth_date",
            "match",
            "mismatches",
            "unit_problems",
        ]
        read_only_fields = fields


class BedsideCheckFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id", help_text="The patient's id.")
    coi = CoiFilter("order__chain", help_text="The order's COI (or legacy COI).")
    unit = django_filters.CharFilter(field_name="unit__unit_id", help_text="The unit id of the bag the scan named.")
    match = django_filters.BooleanFilter(help_text="Matches (true) or refusals (false).")

    class Meta:
        model = BedsideCheck
        fields = ["patient", "coi", "unit", "match"]


def _checks(request: Request) -> QuerySet:
    return selectors.bedside_checks_visible_to(request.user).order_by("-checked_at", "-id")


@extend_schema_view(
    get=extend_schema(description="The bedside checks of the caller's facilities' patients, latest first."),
    post=extend_schema(
        request=BedsideCheckInputSerializer,
        responses={
            200: BedsideCheckSerializer,
            400: OpenApiResponse(
                description='Invalid input (a COI that is not one of your orders, no birth date...): `{"field": '
                '["message"]}`.'
            ),
            403: OpenApiResponse(DomainErrorSerializer, description="Your role may not check at the bedside."),
        },
        description="Check the scanned bag and wristband against the order (the same comparison the administration "
        'makes) and record the check, whatever the answer: 200 `{"match": bool, "mismatches": [{"field", '
        '"expected", "scanned", "reason"}], "unit_problems": [{"code", "detail"}], ...}`. A scanned DIN or unit id '
        "is accepted with or without the ISBT 128 data identifier, with flags, and typed with its check character "
        "(verified). A mismatch reveals the order's own values only (the caller is a member of the patient's "
        "facility); it never says whose a scanned bag or wristband is. `match` is true only when nothing mismatches "
        "and the bag may be given now; then `unit` is what `administrations/` takes.",
    ),
)
class BedsideCheckListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = BedsideCheckSerializer
    input_serializer_class = BedsideCheckInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = BedsideCheckFilter

    def get_queryset(self) -> QuerySet:
        return _checks(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        unit = data.pop("unit")
        check = bedside_check_record(
            actor=actor_of(self.request), unit_id=unit.unit_id if unit is not None else None, **data
        )
        return self.get_queryset().get(pk=check.pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A check is an answer (200, docs/api.md), though it is also kept.
        response = super().create(request, *args, **kwargs)
        response.status_code = status.HTTP_200_OK
        return response


class BedsideCheckDetail(generics.RetrieveAPIView):
    serializer_class = BedsideCheckSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _checks(self.request)
