"""Patients (PHI) and therapy orders."""

from decimal import Decimal

from rest_framework import serializers

from products.api.serializers.fields import ScopedPrimaryKeyRelatedField
from products.choices import CoiStatus
from products.models import Facility, Product
from tracker.choices import Sex
from tracker.models import Patient, TherapyOrder
from tracker.selectors import patients_visible_to

WEIGHT = {"max_digits": 5, "decimal_places": 1, "coerce_to_string": False}


class PatientSerializer(serializers.ModelSerializer):
    facility = serializers.SlugRelatedField(slug_field="code", read_only=True)
    weight_kg = serializers.DecimalField(read_only=True, allow_null=True, **WEIGHT)

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "weight_kg",
            "facility",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PatientInputSerializer(serializers.Serializer):
    mrn = serializers.CharField(max_length=40, help_text="Medical record number at the treating facility.")
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    weight_kg = serializers.DecimalField(
        required=False, allow_null=True, default=None, min_value=Decimal("0.1"), **WEIGHT
    )
    facility = serializers.SlugRelatedField(
        slug_field="code", queryset=Facility.objects.all(), help_text="The treating facility's code."
    )


class OrderSerializer(serializers.ModelSerializer):
    coi = serializers.CharField(source="chain.coi", read_only=True, help_text="Chain of identity, server-generated.")
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = serializers.ChoiceField(source="chain.status", choices=CoiStatus.choices, read_only=True)
    facility = serializers.CharField(source="patient.facility.code", read_only=True, help_text="Treating facility.")
    ordered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    collection_facility = serializers.SlugRelatedField(
        source="chain.collection_facility", slug_field="code", read_only=True, allow_null=True
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
            "ordered_by",
            "ordered_at",
            "note",
        ]
        read_only_fields = fields


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
    note = serializers.CharField(required=False, allow_blank=True, default="")
