"""Query filters of the patient-side lists."""

import django_filters
from django.db.models import Q, QuerySet

from products.api.filters import CoiFilter
from products.choices import CoiStatus
from tracker.models import Patient, TherapyOrder


class PatientFilter(django_filters.FilterSet):
    facility = django_filters.CharFilter(field_name="facility__code")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the given or family name, or MRN.")

    class Meta:
        model = Patient
        fields = ["facility", "mrn", "search"]

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(family_name__icontains=value) | Q(given_name__icontains=value) | Q(mrn__icontains=value)
        )


class OrderFilter(django_filters.FilterSet):
    coi = CoiFilter()
    status = django_filters.ChoiceFilter(field_name="chain__status", choices=CoiStatus.choices)
    facility = django_filters.CharFilter(field_name="patient__facility__code")
    patient = django_filters.NumberFilter(field_name="patient_id")
    product = django_filters.CharFilter(field_name="product__code")

    class Meta:
        model = TherapyOrder
        fields = ["coi", "status", "facility", "patient", "product"]
