"""Patients (PHI) and therapy orders."""

from decimal import Decimal
from typing import Any, TypedDict

from django.contrib.auth.models import User
from rest_framework import serializers

from products.api.plain import PlainListSerializer
from products.api.serializers.fields import (
    BoundedDateField,
    DecimalShape,
    HlaField,
    ScopedPrimaryKeyRelatedField,
    free_text,
)
from products.choices import CoiStatus, RegulatoryStatus
from products.models import Facility, Product
from tracker.choices import Sex
from tracker.models import Patient, PatientWeight, TherapyOrder
from tracker.rules.ranges import WEIGHT_KG
from tracker.selectors import patients_visible_to

WEIGHT: DecimalShape = {"max_digits": 5, "decimal_places": 1, "coerce_to_string": False}


class Bounds(TypedDict):
    """A rule's range as a field's bounds, refused with the rule's own message."""

    min_value: Decimal | int
    max_value: Decimal | int
    error_messages: dict[str, Any]  # the stubs' str-or-lazy-str is named only by django-stubs-ext (development)


WEIGHT_BOUNDS: Bounds = {
    "min_value": WEIGHT_KG.low,
    "max_value": WEIGHT_KG.high,
    "error_messages": {"min_value": WEIGHT_KG.message, "max_value": WEIGHT_KG.message},
}


class PatientSerializer(serializers.ModelSerializer):
    facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    weight_kg = serializers.DecimalField(
        read_only=True,
        allow_null=True,
        help_text="The latest dated weight (see `patients/{id}/weights/`); doses use the weight of their day.",
        **WEIGHT,
    )
    hla = HlaField(read_only=True, help_text="HLA typing, for allogeneic products (`{}`: untyped).")

    class Meta:
        model = Patient
        list_serializer_class = PlainListSerializer  # pages of a hundred patients: written plainly
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "weight_kg",
            "facility",
            "hla",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PatientInputSerializer(serializers.Serializer):
    mrn = serializers.CharField(max_length=40, help_text="Medical record number at the treating facility.")
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = BoundedDateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    weight_kg = serializers.DecimalField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The weight at registration: the patient's first dated weight.",
        **WEIGHT_BOUNDS,
        **WEIGHT,
    )
    weighed_on = BoundedDateField(
        required=False, allow_null=True, default=None, help_text="When that weight was measured; default: today."
    )
    facility = serializers.SlugRelatedField(
        slug_field="code", queryset=Facility.objects.all(), help_text="The treating facility's code."
    )
    hla = HlaField(
        required=False, allow_null=True, default=None, help_text="HLA typing, for allogeneic products (optional)."
    )


class PatientHlaSerializer(serializers.Serializer):
    hla = HlaField(allow_null=True, help_text="The patient's HLA typing (`{}` or null: untyped).")


class OrderSerializer(serializers.ModelSerializer):
    coi = serializers.CharField(source="chain.coi", read_only=True, help_text="Chain of identity, server-generated.")
    product = serializers.SlugRelatedField[Product](slug_field="code", read_only=True)
    status = serializers.ChoiceField(source="chain.status", choices=CoiStatus.choices, read_only=True)
    facility = serializers.CharField(source="patient.facility.code", read_only=True, help_text="Treating facility.")
    ordered_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)

    collection_facility = serializers.SlugRelatedField[Facility](
        source="chain.collection_facility", slug_field="code", read_only=True, allow_null=True
    )
    regulatory_status = serializers.ChoiceField(
        source="trial.regulatory_status",
        choices=RegulatoryStatus.choices,
        read_only=True,
        help_text="The status the course's adverse events are reported under: investigational when the order names "
        "a trial or its product is investigational, else licensed.",
    )
    trial_ind_number = serializers.CharField(
        source="trial.ind_number",
        read_only=True,
        help_text="The IND or CTA that applies: the order's, else the product's.",
    )
    allocated_units = serializers.SerializerMethodField(
        help_text="Allogeneic: the unit ids reserved for this order from inventory (open allocations), in the "
        "order they were allocated; see `orders/{coi}/allocations/`."
    )

    class Meta:
        model = TherapyOrder
        fields = [
            "coi",
            "patient",
            "product",
            "status",
            "facility",
            "collection_facility",
            "allocated_units",
            "ordered_by",
            "ordered_at",
            "note",
            "trial_protocol",
            "ind_number",
            "regulatory_status",
            "trial_ind_number",
            "planned_conditioning_on",
            "planned_infusion_on",
        ]
        read_only_fields = fields

    def get_allocated_units(self, order: TherapyOrder) -> list[str]:
        annotated = getattr(order, "allocated_unit_ids", None)  # products.selectors.open_allocated_unit_ids
        if annotated is not None:
            return list(annotated)
        open_allocations = order.chain.allocations.filter(released_at__isnull=True).order_by("allocated_at", "id")
        return list(open_allocations.values_list("unit__unit_id", flat=True))


class OrderInputSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyRelatedField(queryset=Patient.objects.all(), scope=patients_visible_to)
    product = serializers.SlugRelatedField(slug_field="code", queryset=Product.objects.all())
    collection_facility = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Facility.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Where the cells will be collected; its staff then see the chain.",
    )
    note = free_text(required=False, allow_blank=True, default="")
    trial_protocol = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="The clinical trial this course is given in, if any. It wins over the product's status: the "
        "course's adverse events are then reported as in a trial (21 CFR 312.32).",
    )
    ind_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="The trial's IND or CTA number; required with a trial of a licensed product (400), optional for an "
        "investigational product (default: the product's). Without `trial_protocol` it is a 400.",
    )


class PatientWeightSerializer(serializers.ModelSerializer):
    """A weight measured on a date: a dose per kg uses the latest weight on or before its infusion day."""

    weight_kg = serializers.DecimalField(read_only=True, **WEIGHT)
    recorded_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PatientWeight
        fields = ["id", "patient", "weight_kg", "measured_on", "note", "recorded_by", "created_at"]
        read_only_fields = fields


class PatientWeightInputSerializer(serializers.Serializer):
    weight_kg = serializers.DecimalField(help_text="Kilograms, one decimal.", **WEIGHT_BOUNDS, **WEIGHT)
    measured_on = BoundedDateField(help_text="The day the patient was weighed (not in the future).")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
