"""`GET /api/v1/board/`: the coordinators' board for integrations (a hospital's own dashboards). The same selector
as the admin's home page (tracker.board.board), the same filters (tracker.board_forms)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products.rules.stages import STAGES, Stage
from tracker.board import Board, board
from tracker.board_forms import BoardFilterForm

PATIENT_SIDE = " Null for a role without access to patient data (manufacturing)."


class StagesSerializer(serializers.Serializer):
    """Open chains per stage (a chain's stage: products.rules.stages; every stage is present, 0 when empty)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            stage.value: serializers.IntegerField(min_value=0, help_text=f"Open chains {stage.label.lower()}.")
            for stage in STAGES
        }


class LateChainSerializer(serializers.Serializer):
    coi = serializers.CharField()
    status = serializers.ChoiceField(
        source="stage", choices=Stage.choices, help_text="The chain's stage (the keys of `stages`)."
    )
    since = serializers.DateTimeField(help_text="When the chain entered the stage.")
    expected_days = serializers.IntegerField(help_text="The product's expected days in this stage.")


class RemindersSerializer(serializers.Serializer):
    urgent = serializers.IntegerField(min_value=0, help_text="Open urgent reminders.")
    routine = serializers.IntegerField(min_value=0, help_text="Open routine reminders.")


class VeinToVeinSerializer(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, help_text="Chains first infused in the period.")
    median = serializers.FloatField(help_text="Days, one decimal.")
    min = serializers.FloatField(help_text="Days, one decimal.")
    max = serializers.FloatField(help_text="Days, one decimal.")


class BoardSerializer(serializers.Serializer):
    """The coordinators' board. Every figure is of what the caller may see (their facilities), at `?facility=` if
    given; each is also a link on the admin's home page to the list of the rows it counts."""

    stages = StagesSerializer(
        help_text="Open chains by stage: ordered, collected, manufacturing (in manufacturing), quarantine, released, "
        "shipped, at_site, thawed, administered (an infused chain stays open for the product's days after infusion). "
        "The stage is the chain's status refined by its latest batch and its bags (products.rules.stages); a "
        "cancelled chain is not open."
    )
    late = LateChainSerializer(
        many=True,
        help_text="Open chains past the product's expected days in their stage (never in `administered`), the "
        "longest overdue first.",
    )
    awaiting_qc = serializers.IntegerField(
        help_text="Batches in quarantine with a test of the release specification still without a valid result."
    )
    awaiting_release = serializers.IntegerField(
        help_text="Batches in quarantine with a valid result for every test: QA's release (or rejection) is next."
    )
    open_holds = serializers.IntegerField(help_text="Holds not yet decided by QA.")
    units_in_transit = serializers.IntegerField(help_text="Units shipped and not yet received.")
    units_expiring = serializers.IntegerField(
        help_text="Units neither given nor discarded that expire within UNIT_EXPIRY_WARNING_DAYS (or have expired)."
    )
    conditioning_next_7_days = serializers.IntegerField(
        allow_null=True,
        help_text="Orders whose planned first day of conditioning is today or in the 6 days after." + PATIENT_SIDE,
    )
    infusions_next_7_days = serializers.IntegerField(
        allow_null=True,
        help_text="Orders whose planned infusion day is today or in the 6 days after (not infused, not cancelled)."
        + PATIENT_SIDE,
    )
    reminders = RemindersSerializer(help_text="Open reminders by severity.")
    reports_due = serializers.IntegerField(
        allow_null=True,
        help_text="Adverse events whose expedited report is not submitted and is due within 3 days or overdue."
        + PATIENT_SIDE,
    )
    vein_to_vein_days = serializers.DictField(
        child=VeinToVeinSerializer(),
        help_text="Per product code: chains first infused in the period (`since`..`until`) and their days from the "
        "first collection to the first infusion. Empty for a role without access to patient data.",
    )

    def to_representation(self, instance: Board) -> dict[str, Any]:
        return super().to_representation(
            {
                "stages": instance.stages,
                "late": instance.late,
                "awaiting_qc": instance.awaiting_qc,
                "awaiting_release": instance.awaiting_release,
                "open_holds": instance.open_holds,
                "units_in_transit": instance.units_in_transit,
                "units_expiring": instance.units_expiring,
                "conditioning_next_7_days": instance.conditioning_next_7_days,
                "infusions_next_7_days": instance.infusions_next_7_days,
                "reminders": instance.reminders,
                "reports_due": instance.reports_due,
                "vein_to_vein_days": {
                    v.product_code: {"n": v.n, "median": v.median, "min": v.min, "max": v.max}
                    for v in instance.vein_to_vein
                },
            }
        )


class BoardView(APIView):
    """The coordinators' board: the pipeline, what needs a person today, and the vein-to-vein time."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "facility", OpenApiTypes.STR, description="A facility code of yours; all your facilities when absent."
            ),
            OpenApiParameter(
                "since",
                OpenApiTypes.DATE,
                description="First day of the vein-to-vein period (first infusions from this day); a year ago when "
                "absent.",
            ),
            OpenApiParameter(
                "until",
                OpenApiTypes.DATE,
                description="Last day of the vein-to-vein period (included); today when absent.",
            ),
        ],
        responses={
            200: BoardSerializer,
            400: OpenApiResponse(
                description="Invalid filter (a facility not yours, a date, a period ending before it begins): "
                '`{"field": ["message", ...]}`.'
            ),
        },
    )
    def get(self, request: Request) -> Response:
        form = BoardFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [str(e) for e in errors] for field, errors in form.errors.items()}
            )
        return Response(BoardSerializer(board(user=request.user, **form.board_arguments())).data)
