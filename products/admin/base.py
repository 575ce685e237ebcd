"""What every admin of this project shares: what a user may see, that nothing is deleted, and the audit trail.

- Records are scoped like the API: an admin's queryset is the selector the API uses (`visible`).
- Records are never deleted from the admin (21 CFR 11.10(e): the trail stays complete).
- The "History" button shows the audit trail pghistory's triggers wrote for the record.
- A record's page may show more than its fields: panels and links to what may be done next (`record_context`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from products.admin.history import audit_trail

HISTORY_PAGE_SIZE = 100


def events_admin_url(request: HttpRequest, obj: models.Model) -> str | None:
    """pghistory's own Events admin for the record (it is not scoped by facility: superusers only)."""
    if not request.user.is_superuser:
        return None
    base = reverse("admin:pghistory_events_changelist")
    return f"{base}?{urlencode({'method': 'tracks', 'obj': f'{obj._meta.label}:{obj.pk}'})}"


def acting_user(request: HttpRequest) -> User:
    """Who an admin page acts for: the signed-in staff user (admin_view lets nobody else in)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


class ProjectAdmin(admin.ModelAdmin):
    """Scoping through the selectors, no deletes, record panels and links, and the audit trail."""

    # Columns the History page shows as changed but never with their values (e.g. a webhook's secret).
    history_redacted_fields: ClassVar[frozenset[str]] = frozenset()

    def visible(self, request: HttpRequest) -> models.QuerySet | None:
        """The records the user may see, from the selectors the API uses. None: reference data, for all staff."""
        return None

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = self.visible(request)
        if queryset is None:
            return super().get_queryset(request)
        if isinstance(self.list_select_related, list | tuple) and self.list_select_related:
            # The changelist adds these itself only to a queryset that joins nothing yet; a selector's does.
            queryset = queryset.select_related(*self.list_select_related)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def record_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        """What the record's page shows besides its fields, e.g. {"record_panel": ..., "object_links": [...]}."""
        return {}

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and not add:
            context = {**self.record_context(request, obj), **context}
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def missing(self, request: HttpRequest, object_id: Any, what: str | None = None) -> HttpResponse:
        """The answer for a record that does not exist or is not the user's to see, as the admin words it."""
        what = what or str(self.opts.verbose_name).capitalize()
        self.message_user(
            request,
            f"{what} with ID “{unquote(str(object_id))}” doesn't exist. Perhaps it was deleted?",
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))

    def changeable(self, request: HttpRequest, object_id: str) -> Any:
        """The record a page changes, or the answer when it cannot: missing, or not the user's to change."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self.missing(request, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        """The record's audit trail: every insert, update and delete the database triggers recorded."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self.missing(request, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        trail = audit_trail(obj, redacted=self.history_redacted_fields)
        page = Paginator(trail.events, HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Audit trail: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "tracked": trail.tracked,
            "page_obj": page,
            "events": [trail.describe(event) for event in page.object_list],
            # pghistory's own admin shows every column's value: not offered where some are hidden.
            "events_admin_url": events_admin_url(request, obj) if trail.tracked and not trail.redacted else None,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit_history.html", context)


class ReadOnlyInline(admin.TabularInline):
    """Existing rows of an append-only log: shown, never edited or removed here."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return self.get_fields(request, obj)
