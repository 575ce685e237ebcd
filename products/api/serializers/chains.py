"""Collections: cells taken for a chain of identity, identified by an ISBT 128 DIN."""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from products.api.serializers.fields import (
    BoundedDateTimeField,
    DecimalShape,
    OptionalValue,
    ScopedPrimaryKeyRelatedField,
    ScopedSlugRelatedField,
    free_text,
)
from products.choices import CollectionMethod
from products.models import ChainOfIdentity, Collection, Donor, Facility, Product
from products.selectors import chains_visible_to, donors_visible_to

VOLUME: DecimalShape = {"max_digits": 8, "decimal_places": 1, "coerce_to_string": False}


class CellCount(OptionalValue):
    min_value: int
    max_value: int


CELL_COUNT: CellCount = {"min_value": 0, "max_value": 2**63 - 1, "required": False, "allow_null": True, "default": None}


def coi_field(**kwargs: Any) -> ScopedSlugRelatedField:
    """A chain of identity by its COI, among the chains the caller may see."""
    return ScopedSlugRelatedField(
        slug_field="coi", queryset=ChainOfIdentity.objects.all(), scope=chains_visible_to, **kwargs
    )


def facility_field(**kwargs: Any) -> serializers.SlugRelatedField[Facility]:
    """Any facility by its code (reference data; the services decide who may act there)."""
    return serializers.SlugRelatedField(slug_field="code", queryset=Facility.objects.all(), **kwargs)


class CollectionSerializer(serializers.ModelSerializer):
    coi = serializers.CharField(
        source="chain.coi", read_only=True, allow_null=True, default=None, help_text="Null for a donor's collection."
    )
    donor = serializers.PrimaryKeyRelatedField[Donor](
        read_only=True, allow_null=True, help_text="Allogeneic: the donor's id."
    )
    donor_code = serializers.CharField(
        source="donor.donor_code", read_only=True, allow_null=True, default=None, help_text="Allogeneic: the donor."
    )
    product = serializers.SlugRelatedField[Product](
        slug_field="code", read_only=True, allow_null=True, help_text="Allogeneic: the product the cells are for."
    )
    din = serializers.CharField(
        source="full_din",
        read_only=True,
        help_text="The DIN as labelled: 13 characters, the flag characters if any, then the check character.",
    )
    din_number = serializers.CharField(source="din", read_only=True, help_text="The 13 DIN characters.")
    facility = serializers.SlugRelatedField[Facility](slug_field="code", read_only=True)
    volume_ml = serializers.DecimalField(read_only=True, **VOLUME)
    collected_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Collection
        fields = [
            "id",
            "coi",
            "donor",
            "donor_code",
            "product",
            "din",
            "din_number",
            "din_flags",
            "din_check",
            "facility",
            "collected_at",
            "method",
            "volume_ml",
            "total_nucleated_cells",
            "cd3_cells",
            "cd34_cells",
            "note",
            "collected_by",
            "created_at",
        ]
        read_only_fields = fields


class CollectionInputSerializer(serializers.Serializer):
    coi = coi_field(
        required=False, allow_null=True, default=None, help_text="The order's COI (autologous, or any chain)."
    )
    donor = ScopedPrimaryKeyRelatedField(
        queryset=Donor.objects.all(),
        scope=donors_visible_to,
        required=False,
        allow_null=True,
        default=None,
        help_text="Allogeneic: the donor's id, with `product` instead of `coi`.",
    )
    product = serializers.SlugRelatedField[Product](
        slug_field="code",
        queryset=Product.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Allogeneic: the product's code, with `donor` instead of `coi`.",
    )
    din = serializers.CharField(
        max_length=64,
        help_text="ISBT 128 DIN, scanned or typed (products/rules/isbt128.py). Scanned: `=`, the 13 characters and "
        "the 2 flags (`=G12349865432100`; the `=` may be missing, and a symbology identifier such as `]C0` may come "
        "first). Typed: the 13 characters, optionally the flags, then the check character (spaces allowed, as "
        "printed: `G1234 98 654321 H`); a wrong check character is a 400. A COI is refused by name.",
    )
    facility = facility_field()
    collected_at = BoundedDateTimeField()
    method = serializers.ChoiceField(choices=CollectionMethod.choices)
    volume_ml = serializers.DecimalField(min_value=Decimal("0.1"), **VOLUME)
    total_nucleated_cells = serializers.IntegerField(**CELL_COUNT)
    cd3_cells = serializers.IntegerField(**CELL_COUNT)
    cd34_cells = serializers.IntegerField(**CELL_COUNT)
    note = free_text(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        by_chain = attrs.get("coi") is not None
        by_donor = attrs.get("donor") is not None or attrs.get("product") is not None
        if by_chain == by_donor:
            raise serializers.ValidationError(
                {"coi": ["Give `coi` (an order's chain), or `donor` and `product` (allogeneic): one of them."]}
            )
        if by_donor and (attrs.get("donor") is None or attrs.get("product") is None):
            missing = "donor" if attrs.get("donor") is None else "product"
            raise serializers.ValidationError({missing: ["A donor's collection names the donor and the product."]})
        return attrs
