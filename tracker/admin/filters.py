"""List filters that never scan a table: the user's own facilities, and fixed grades."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from products.selectors import member_facilities
from tracker.rules.grading import URGENT_GRADE


def facility_filter(path: str, title: str = "facility") -> type[admin.SimpleListFilter]:
    """Filter by facility, offering the user's own facilities (all for superusers): one small query, where
    RelatedOnlyFieldListFilter would read every row of a million-row schedule to find the facilities used."""

    class FacilityFilter(admin.SimpleListFilter):
        parameter_name = path.replace("__", "_") + "_id"

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            facilities = member_facilities(request.user, active_only=False).order_by("name")
            return [(str(pk), name) for pk, name in facilities.values_list("id", "name")]

        def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
            value = self.value()
            if value is None:
                return queryset
            try:
                facility_id = int(value)
            except ValueError:
                return queryset.none()
            return queryset.filter(**{f"{path}_id": facility_id})

    FacilityFilter.title = title
    return FacilityFilter


def grade_filter(field: str, title: str, grades: Sequence[int] = (0, 1, 2, 3, 4)) -> type[admin.SimpleListFilter]:
    """Filter by a computed grade: each grade, and "2 or more" (the grades that raise an urgent reminder)."""

    class GradeFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(str(g), f"Grade {g}") for g in grades] + [(f"{URGENT_GRADE}+", f"Grade {URGENT_GRADE} or more")]

        def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
            value = self.value()
            if value is None:
                return queryset
            if value.endswith("+") and value[:-1].isdigit():
                return queryset.filter(**{f"{field}__gte": int(value[:-1])})
            if value.isdigit():
                return queryset.filter(**{field: int(value)})
            return queryset.none()

    GradeFilter.title = title
    return GradeFilter
