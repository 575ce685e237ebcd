"""Query filters of the product-side lists (`?coi=`, `?status=`, `?facility=`, ...)."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import IsoDateTimeField

from products.choices import (
    BatchStatus,
    CollectionMethod,
    CustodyEvent,
    HoldKind,
    HoldStatus,
    Modality,
    Source,
    UnitStatus,
)
from products.models import Batch, Collection, CustodyRecord, Hold, Product, Unit
from products.rules.isbt128 import din_number_in
from products.selectors import coi_lookup


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, in UTC: PostgreSQL takes offsets up to 15:59 only (Python up to 23:59), and a time
    near year 1 or 9999 may not exist once moved to UTC. Either is a 400 naming the filter, not a database error."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("This date-time is out of range.", code="overflow") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class CoiFilter(django_filters.CharFilter):
    """`?coi=`: the COI, or the chain's legacy COI."""

    def __init__(self, chain_path: str = "chain", **kwargs: Any) -> None:
        self.chain_path = chain_path
        kwargs.setdefault("help_text", "The chain of identity: its COI, or the legacy COI it carried before.")
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(coi_lookup(self.chain_path, value))


class ProductFilter(django_filters.FilterSet):
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    monitoring_protocol = django_filters.CharFilter(field_name="monitoring_protocol__code")

    class Meta:
        model = Product
        fields = ["modality", "source", "gene_modified", "cryopreserved", "is_active", "monitoring_protocol"]


class CollectionFilter(django_filters.FilterSet):
    coi = CoiFilter()
    facility = django_filters.CharFilter(field_name="facility__code")
    method = django_filters.ChoiceFilter(choices=CollectionMethod.choices)
    din = django_filters.CharFilter(
        method="filter_din", help_text="The DIN, as typed or scanned (with or without `=`, flags, check)."
    )

    class Meta:
        model = Collection
        fields = ["coi", "facility", "method", "din"]

    def filter_din(self, queryset: QuerySet[Collection], name: str, value: str) -> QuerySet[Collection]:
        return queryset.filter(din=din_number_in(value))


class BatchFilter(django_filters.FilterSet):
    coi = CoiFilter()
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices)
    facility = django_filters.CharFilter(field_name="facility__code")
    product = django_filters.CharFilter(field_name="product__code")

    class Meta:
        model = Batch
        fields = ["coi", "status", "facility", "product", "lot_number"]


class UnitFilter(django_filters.FilterSet):
    coi = CoiFilter()
    status = django_filters.ChoiceFilter(choices=UnitStatus.choices)
    facility = django_filters.CharFilter(field_name="current_facility__code", help_text="Where the unit is now.")
    destination = django_filters.CharFilter(field_name="destination__code", help_text="Where it is being shipped.")
    lot_number = django_filters.CharFilter(field_name="batch__lot_number")
    product = django_filters.CharFilter(field_name="batch__product__code")
    batch = django_filters.NumberFilter(field_name="batch_id")

    class Meta:
        model = Unit
        fields = ["coi", "status", "facility", "destination", "batch", "lot_number", "product", "temperature_excursion"]


class CustodyFilter(django_filters.FilterSet):
    event = django_filters.ChoiceFilter(choices=CustodyEvent.choices)

    class Meta:
        model = CustodyRecord
        fields = ["event", "excursion"]


class HoldFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=HoldStatus.choices)
    kind = django_filters.ChoiceFilter(choices=HoldKind.choices)
    batch = django_filters.NumberFilter(field_name="batch_id", help_text="Holds on this batch (id) itself.")
    unit = django_filters.CharFilter(field_name="unit__unit_id", help_text="Holds on this unit itself.")
    lot_number = django_filters.CharFilter(
        method="filter_lot_number", help_text="Holds on the lot or on any of its units."
    )

    class Meta:
        model = Hold
        fields = ["status", "kind", "batch", "unit", "lot_number"]

    def filter_lot_number(self, queryset: QuerySet[Hold], name: str, value: str) -> QuerySet[Hold]:
        return queryset.filter(Q(batch__lot_number=value) | Q(unit__batch__lot_number=value))
