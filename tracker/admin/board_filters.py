"""The patient side's list filters behind the coordinators' board (see products.admin.board_filters)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from tracker.board import infused_between

INFUSED = "infused"
SEPARATOR = ".."


def period_value(since: date, until: date) -> str:
    """`?infused=` for a period: `2026-01-01..2026-12-31` (both days included)."""
    return f"{since.isoformat()}{SEPARATOR}{until.isoformat()}"


def parse_period(value: str) -> tuple[date, date] | None:
    first, _, last = value.partition(SEPARATOR)
    try:
        since, until = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None
    return (since, until) if since <= until else None


class InfusedFilter(admin.SimpleListFilter):
    """`?infused=<since>..<until>`: orders first infused in the period, their collection on record (the chains the
    board's vein-to-vein time counts). Shown only when set."""

    title = "first infused (vein-to-vein period)"
    parameter_name = INFUSED

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if value is None:
            return []
        period = parse_period(value)
        return [(value, f"{period[0]} to {period[1]}" if period else value)]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        period = parse_period(value)
        if period is None:
            return queryset.none()
        return infused_between(queryset, *period)
