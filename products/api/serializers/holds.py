"""Quality holds on a unit or a batch, and QA's signed decision on them."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from products.api.serializers.batches import SignatureInputSerializer, SignatureSerializer
from products.api.serializers.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField, free_text
from products.choices import HoldDecision, HoldKind
from products.models import Batch, Hold, Unit
from products.selectors import batches_visible_to, units_visible_to

SYSTEM = "system"


class HoldSerializer(serializers.ModelSerializer):
    batch = serializers.IntegerField(
        source="batch_id", read_only=True, allow_null=True, help_text="The batch held (id), or null."
    )
    unit = serializers.CharField(
        source="unit.unit_id", read_only=True, allow_null=True, default=None, help_text="The unit held, or null."
    )
    lot_number = serializers.SerializerMethodField(help_text="The lot held, or the held unit's lot.")
    opened_by = serializers.SerializerMethodField(help_text="The username, or `system` for an automatic hold.")
    decision = serializers.ChoiceField(
        choices=HoldDecision.choices, read_only=True, allow_null=True, help_text="QA's decision; null while open."
    )
    decision_signature = SignatureSerializer(read_only=True, allow_null=True)
    custody_seq = serializers.IntegerField(
        source="custody_record.seq",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The custody event (its `seq` in the unit's log) whose temperature opened this hold.",
    )
    qc_result = serializers.IntegerField(
        source="qc_result_id",
        read_only=True,
        allow_null=True,
        help_text="The QC result (id) that opened this hold.",
    )

    class Meta:
        model = Hold
        fields = [
            "id",
            "batch",
            "unit",
            "lot_number",
            "kind",
            "reason",
            "status",
            "opened_at",
            "opened_by",
            "custody_seq",
            "qc_result",
            "decision",
            "rationale",
            "decided_at",
            "decision_signature",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_lot_number(self, hold: Hold) -> str:
        return hold.held_batch.lot_number

    @extend_schema_field(str)
    def get_opened_by(self, hold: Hold) -> str:
        return hold.opened_by.get_username() if hold.opened_by is not None else SYSTEM


class HoldInputSerializer(serializers.Serializer):
    batch = ScopedPrimaryKeyRelatedField(
        queryset=Batch.objects.all(),
        scope=batches_visible_to,
        required=False,
        allow_null=True,
        default=None,
        help_text="Hold a whole batch (its id); give this or `unit`.",
    )
    unit = ScopedSlugRelatedField(
        slug_field="unit_id",
        queryset=Unit.objects.all(),
        scope=units_visible_to,
        required=False,
        allow_null=True,
        default=None,
        help_text="Hold one unit (its unit_id); give this or `batch`.",
    )
    kind = serializers.ChoiceField(choices=HoldKind.choices)
    reason = free_text(help_text="Why it is held: what QA is to decide on.")

    def validate(self, attrs: dict) -> dict:
        if (attrs.get("batch") is None) == (attrs.get("unit") is None):
            raise serializers.ValidationError("Give exactly one of `batch` (an id) or `unit` (a unit_id).")
        return attrs


class HoldDecisionInputSerializer(SignatureInputSerializer):
    decision = serializers.ChoiceField(choices=HoldDecision.choices)
    rationale = free_text(help_text="QA's grounds for the decision: the investigation and its outcome.")
