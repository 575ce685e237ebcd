"""Manufacturing batches: the batch, its processing steps, QC results and signed disposition."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from products.api.serializers.chains import coi_field, facility_field
from products.api.serializers.fields import (
    PASSWORD_MAX_LENGTH,
    BoundedDateTimeField,
    NumberOrTextField,
    ScopedPrimaryKeyRelatedField,
    free_text,
)
from products.models import Batch, Collection, Facility, ProcessingStep, Product, QCResult, Signature
from products.selectors import collections_visible_to

HASH_HELP = "SHA-256 (64 lower-case hex digits)"


class SignatureSerializer(serializers.ModelSerializer):
    """An electronic signature as manifested (21 CFR 11.50): printed name, time and meaning; what it judged,
    and its place in the signature hash chain."""

    signer = serializers.SlugRelatedField[User](slug_field="username", read_only=True)
    reviewed = serializers.JSONField(
        read_only=True,
        help_text="What the signer judged, as kept with the signature. A release or rejection: "
        '`{"batch": {"id", "lot_number", "product"}, "specification": [{"test", "name", "unit", "min", "max", '
        '"expected"}], "qc_results": [{"id", "test", "value", "unit", "tested_at", "passed"}]}`, decimals as '
        "strings and times in UTC. `{}` for a signature that judged no document (a bedside verification) or "
        "was given before signatures kept one.",
    )
    reviewed_digest = serializers.CharField(
        read_only=True,
        help_text=f"{HASH_HELP} of the canonical JSON of `reviewed` (keys sorted, no whitespace, UTF-8); a later "
        "change to the specification or a new QC result never changes it. Empty when `reviewed` is `{}`.",
    )
    prev_hash = serializers.CharField(
        read_only=True,
        help_text=f"{HASH_HELP}: the `hash` of the signature before this one in the one chain of all signatures "
        "(64 zeros for the first).",
    )
    hash = serializers.CharField(
        read_only=True,
        help_text=f"{HASH_HELP} over `prev_hash` and the signature's fields (signer id, printed name, meaning, "
        "statement, time, record, reviewed_digest) in canonical JSON; `manage.py verify_chain` recomputes it.",
    )

    class Meta:
        model = Signature
        fields = [
            "signer",
            "printed_name",
            "meaning",
            "statement",
            "signed_at",
            "reviewed",
            "reviewed_digest",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class BatchSerializer(serializers.ModelSerializer):
    coi = serializers.CharField(source="chain.coi", read_only=True, allow_null=True, default=None)
    collection = serializers.PrimaryKeyRelatedField[Collection](
        read_only=True, allow_null=True, help_text="Allogeneic: the donor's collection it is made from."
    )
    donor_code = serializers.CharField(
        source="collection.donor.donor_code", read_only=True, allow_null=True, default=None
    )
    product = serializers.SlugRelatedField[Product](slug_field="code", read_only=True)
    facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    release_signature = SignatureSerializer(read_only=True, allow_null=True)
    rejection_signature = SignatureSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "coi",
            "collection",
            "donor_code",
            "product",
            "lot_number",
            "facility",
            "started_at",
            "status",
            "status_changed_at",
            "release_signature",
            "rejection_signature",
            "rejection_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BatchInputSerializer(serializers.Serializer):
    coi = coi_field(required=False, allow_null=True, default=None, help_text="The order's COI (autologous).")
    collection = ScopedPrimaryKeyRelatedField(
        queryset=Collection.objects.all(),
        scope=collections_visible_to,
        required=False,
        allow_null=True,
        default=None,
        help_text="Allogeneic: the donor's collection (id) instead of `coi`; the batch's units wait in inventory.",
    )
    lot_number = serializers.CharField(max_length=40)
    facility = facility_field()
    started_at = BoundedDateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("coi") is None) == (attrs.get("collection") is None):
            raise serializers.ValidationError(
                {"coi": ["Give `coi` (an order's chain) or `collection` (a donor's collection): one of them."]}
            )
        return attrs


class ProcessingStepSerializer(serializers.ModelSerializer):
    """In and out (one serializer, so the schema names the step-kind enum once)."""

    operator = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    started_at = BoundedDateTimeField()
    ended_at = BoundedDateTimeField(required=False, allow_null=True, default=None)
    parameters = serializers.DictField(required=False, default=dict, help_text="Process parameters, free form.")
    note = free_text(required=False, allow_blank=True, default="")

    class Meta:
        model = ProcessingStep
        fields = ["id", "kind", "operator", "started_at", "ended_at", "parameters", "note"]
        read_only_fields = ["id", "operator"]


class QCResultSerializer(serializers.ModelSerializer):
    """Every result stays on record: a retest adds one, and an invalidated one is kept, marked `invalidated`."""

    test = serializers.CharField(source="spec.test", read_only=True)
    value = NumberOrTextField(read_only=True)
    recorded_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    invalidated = serializers.BooleanField(
        read_only=True, help_text="Set aside by QA (signed, with a reason): not counted in the release verdict."
    )
    invalidated_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)
    invalidation_signature = SignatureSerializer(read_only=True, allow_null=True)

    class Meta:
        model = QCResult
        fields = [
            "id",
            "test",
            "value",
            "unit",
            "tested_at",
            "passed",
            "recorded_by",
            "created_at",
            "invalidated",
            "invalidated_by",
            "invalidated_at",
            "invalidation_reason",
            "invalidation_signature",
        ]
        read_only_fields = fields


class QCResultInputSerializer(serializers.Serializer):
    test = serializers.CharField(max_length=64, help_text="A test code of the product's release specification.")
    value = NumberOrTextField(help_text='A number, or text such as "negative", as the test requires.')
    unit = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    tested_at = BoundedDateTimeField()


class SignatureInputSerializer(serializers.Serializer):
    """An electronic signature's input: the signer's password re-entered and what the signature means."""

    password = serializers.CharField(
        write_only=True,
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="The signer's own password, re-entered (21 CFR 11.200).",
    )
    meaning = free_text(
        required=False, allow_blank=True, default="", help_text="What the signature means, in the signer's words."
    )


class ReleaseInputSerializer(SignatureInputSerializer):
    reviewed_digest = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        max_length=64,
        required=False,
        default=None,
        help_text="Optional: the `digest` of `batches/{id}/review/` the signer read. When the specification or "
        "the QC results have changed since, nothing is signed: 409 `review_changed`.",
    )


class RejectInputSerializer(ReleaseInputSerializer):
    reason = free_text(help_text="Why the batch is rejected.")


class ReleaseReviewSerializer(serializers.Serializer):
    """What a release or rejection signed now would judge, and its digest."""

    reviewed = serializers.JSONField(
        help_text="The release specification and every QC result of the batch, as a signature keeps them "
        "(see the signature's `reviewed`)."
    )
    digest = serializers.CharField(help_text=f"{HASH_HELP} of the canonical JSON of `reviewed`.")


class QCInvalidationInputSerializer(SignatureInputSerializer):
    reason = free_text(
        help_text="Why the test is invalid, for causes unrelated to the product (the investigation's finding)."
    )
