"""Webhooks: endpoints that receive reminders as signed JSON, added and changed through the same services as in
the API. The secret is write-only: typed in, never shown again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseFormSet
from django.http import HttpRequest

from products.admin.base import acting_user
from products.admin.service_pages import ServiceAdmin
from products.selectors import member_facilities
from tracker.admin.filters import facility_filter
from tracker.admin.forms import WebhookAddForm, WebhookChangeForm
from tracker.models import Webhook
from tracker.selectors import webhooks_visible_to
from tracker.services.webhooks import webhook_create, webhook_update

FIELDS = ["name", "url", "secret", "facility", "is_active"]


@admin.register(Webhook)
class WebhookAdmin(ServiceAdmin):
    list_display = ["name", "url", "facility", "is_active", "created_at"]
    list_filter = ["is_active", facility_filter("facility")]
    list_select_related = ["facility"]
    search_fields = ["name", "url"]
    add_form = WebhookAddForm
    add_fieldsets = [(None, {"fields": FIELDS})]
    form = WebhookChangeForm
    change_fields = (*FIELDS, "created_at")
    service_change_fields = tuple(FIELDS)
    # The audit trail records every column; the secret is shown there only as changed, never its value.
    history_redacted_fields = frozenset({"secret"})

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return webhooks_visible_to(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "facility":
            kwargs["queryset"] = member_facilities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Webhook:
        return webhook_create(
            actor=acting_user(request),
            name=data["name"],
            url=data["url"],
            secret=data["secret"],
            facility=data.get("facility"),
            is_active=data.get("is_active", True),
        )

    def update(self, request: HttpRequest, obj: Webhook, changes: dict[str, Any], data: dict[str, Any]) -> None:
        webhook_update(actor=acting_user(request), webhook_id=obj.pk, **changes)
