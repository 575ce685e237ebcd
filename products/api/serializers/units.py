"""Product units (bags) and their custody log."""

from decimal import Decimal

from django.contrib.auth.models import User
from rest_framework import serializers

from products.api.serializers.chains import VOLUME, facility_field
from products.api.serializers.fields import (
    BoundedDateTimeField,
    DecimalShape,
    ScopedPrimaryKeyRelatedField,
    free_text,
)
from products.choices import CustodyEvent
from products.models import Batch, CustodyRecord, Facility, Unit
from products.selectors import batches_visible_to, donor_code_of, open_hold_ids, unit_donation

TEMPERATURE: DecimalShape = {"max_digits": 5, "decimal_places": 1, "coerce_to_string": False}


class UnitSerializer(serializers.ModelSerializer):
    coi = serializers.CharField(source="chain.coi", read_only=True, allow_null=True, default=None)
    lot_number = serializers.CharField(source="batch.lot_number", read_only=True)
    product = serializers.CharField(source="batch.product.code", read_only=True)
    volume_ml = serializers.DecimalField(read_only=True, **VOLUME)
    current_facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    destination = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True, allow_null=True)
    on_hold = serializers.SerializerMethodField(
        help_text="Under an open hold (its own or its batch's): not shipped, thawed, dispensed or given."
    )
    holds = serializers.SerializerMethodField(help_text="The ids of the open holds on the unit and on its batch.")
    donor_code = serializers.SerializerMethodField(help_text="Allogeneic: the donor's code (never the person).")
    donor_eligibility = serializers.SerializerMethodField(
        help_text="Allogeneic: what the unit's donation may be used for now: `eligible`, `pending` (no determination, "
        "or tests not timed for this recovery) or `ineligible`; null for an autologous unit."
    )
    label_warnings = serializers.SerializerMethodField(
        help_text="Statements the label must carry because of the donor: for an ineligible donor the Biohazard legend, "
        "`WARNING: Advise patient of communicable disease risks` and each reactive test (21 CFR 1271.65(b)(2)); "
        "before the determination `NOT EVALUATED FOR INFECTIOUS SUBSTANCES` and the warning (1271.60(d)(2)); for an "
        "autologous unit `FOR AUTOLOGOUS USE ONLY` (1271.90(c)(1)); empty for an eligible donor's unit."
    )

    class Meta:
        model = Unit
        fields = [
            "unit_id",
            "batch",
            "lot_number",
            "product",
            "coi",
            "dose_cells",
            "volume_ml",
            "expires_at",
            "status",
            "current_facility",
            "destination",
            "last_event_at",
            "thawed_at",
            "use_by",
            "temperature_excursion",
            "excursion_at",
            "on_hold",
            "holds",
            "storage_location",
            "donor_code",
            "donor_eligibility",
            "label_warnings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_on_hold(self, unit: Unit) -> bool:
        return bool(open_hold_ids(unit))

    def get_holds(self, unit: Unit) -> list[int]:
        return open_hold_ids(unit)

    def get_donor_code(self, unit: Unit) -> str | None:
        return donor_code_of(unit)

    def get_donor_eligibility(self, unit: Unit) -> str | None:
        status = unit_donation(unit)
        return str(status.eligibility) if status is not None else None

    def get_label_warnings(self, unit: Unit) -> list[str]:
        return list(unit.label_warnings)


class UnitInputSerializer(serializers.Serializer):
    unit_id = serializers.CharField(max_length=40)
    batch = ScopedPrimaryKeyRelatedField(queryset=Batch.objects.all(), scope=batches_visible_to)
    dose_cells = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    volume_ml = serializers.DecimalField(min_value=Decimal("0.1"), **VOLUME)
    expires_at = BoundedDateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: the product's shelf life from now."
    )
    storage_location = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Where it is kept at the site."
    )


class CustodyRecordSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.unit_id", read_only=True)
    facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    from_facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    temperature_c = serializers.DecimalField(read_only=True, allow_null=True, **TEMPERATURE)
    recorded_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True)
    prev_hash = serializers.CharField(
        read_only=True,
        help_text="SHA-256 (hex): the `hash` of the unit's record before this one (`seq` - 1); 64 zeros for the "
        "first. One chain per unit.",
    )
    hash = serializers.CharField(
        read_only=True,
        help_text="SHA-256 (hex) over `prev_hash` and every field of the record (unit, seq, event, at, "
        "facilities, temperature, excursion, note, recorded by and at) in canonical JSON; "
        "`manage.py verify_chain` recomputes it.",
    )

    class Meta:
        model = CustodyRecord
        fields = [
            "seq",
            "unit",
            "event",
            "at",
            "facility",
            "from_facility",
            "temperature_c",
            "excursion",
            "note",
            "recorded_by",
            "recorded_at",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class CustodyRecordInputSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=CustodyEvent.choices)
    at = BoundedDateTimeField()
    facility = facility_field(help_text="Where it happened; for `shipped`, the destination.")
    temperature_c = serializers.DecimalField(required=False, allow_null=True, default=None, **TEMPERATURE)
    note = free_text(required=False, allow_blank=True, default="")
    storage_location = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="`received` or `stored`: where the unit is kept now (the inventory shows it); a 400 on other events.",
    )
