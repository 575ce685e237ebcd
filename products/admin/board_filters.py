"""The list filters behind the coordinators' board: each number on the board links to a list filtered by the very
function that counted it (products.pipeline, tracker.board), on the same scoped queryset (the selectors).

- `?board=<figure>`: one of the board's figures for this list (offered in the sidebar too);
- `?stage=<stage>` (`open`: any) and `?late=yes`: the open chains at a stage of the pipeline, those running late;
- `?at=<facility id>`: the board narrowed to one of the user's facilities (shown only when set).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from products.pipeline import STAGE_CHOICES, Figure, chain_ids
from products.selectors import member_facilities

BOARD = "board"
STAGE = "stage"
LATE = "late"
YES = "yes"
AT = "at"


def board_filter(figures: Mapping[str, tuple[str, Figure]]) -> type[admin.SimpleListFilter]:
    """`?board=<figure>`: the rows the board counted for that figure."""

    class BoardFilter(admin.SimpleListFilter):
        title = "on the board"
        parameter_name = BOARD

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(key, label) for key, (label, _figure) in figures.items()]

        def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
            value = self.value()
            if value is None:
                return queryset
            if value not in figures:
                return queryset.none()
            return figures[value][1](queryset, timezone.now())

    return BoardFilter


class StageFilter(admin.SimpleListFilter):
    """`?stage=<stage>`: the open chains at that stage of the pipeline (`open`: at any stage; products.pipeline,
    products.rules.stages)."""

    title = "stage on the board"
    parameter_name = STAGE

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return STAGE_CHOICES

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value not in dict(STAGE_CHOICES):
            return queryset.none()
        return queryset.filter(pk__in=chain_ids(queryset, now=timezone.now(), stage=value))


class LateFilter(admin.SimpleListFilter):
    """`?late=yes`: the open chains past their product's expected days in their stage (with `stage`: at it)."""

    title = "running late"
    parameter_name = LATE

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(YES, "Running late")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value != YES:
            return queryset.none()
        return queryset.filter(pk__in=chain_ids(queryset, now=timezone.now(), late=True))


def at_filter(where: Callable[[int], Q]) -> type[admin.SimpleListFilter]:
    """`?at=<facility id>`: the rows at one of the user's facilities, as the board narrowed them (`where` says
    where a row is). Not offered in the sidebar: the lists have their own facility filters."""

    class AtFacilityFilter(admin.SimpleListFilter):
        title = "facility (as on the board)"
        parameter_name = AT

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            value = self.value()
            if value is None:
                return []
            facility = (
                member_facilities(request.user, active_only=False).filter(pk=int(value)).first()
                if (value.isdigit())
                else None
            )
            return [(value, facility.name if facility else f"Facility {value}")]

        def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
            value = self.value()
            if value is None:
                return queryset
            if not value.isdigit():
                return queryset.none()
            return queryset.filter(where(int(value)))

    return AtFacilityFilter
