"""Facilities, who belongs to them, and API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from products.access import user_facility_ids
from products.admin.base import ProjectAdmin
from products.models import ApiToken, Facility, FacilityMembership
from products.selectors import memberships_visible_to, tokens_visible_to
from products.services.tokens import token_revoke


@admin.register(Facility)
class FacilityAdmin(ProjectAdmin):
    """Reference data every staff user may look up (no patient data); members edit their own sites."""

    list_display = ["code", "name", "kind", "fin", "is_active", "member_count"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "fin"]
    fields = ["code", "name", "kind", "fin", "is_active", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: Facility) -> int:
        return obj.member_count  # type: ignore[attr-defined]  # annotated by get_queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Facility | None = None) -> Any:
        # The code is how the API and other records refer to the facility: it never changes.
        return ["created_at", "updated_at"] + (["code"] if obj is not None else [])

    def has_change_permission(self, request: HttpRequest, obj: Facility | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or request.user.is_superuser or obj.id in user_facility_ids(request.user)


@admin.register(FacilityMembership)
class FacilityMembershipAdmin(ProjectAdmin):
    """Who may see which facility's records. Granting access is for superusers (the list is scoped)."""

    list_display = ["user", "facility", "on_call", "created_at"]
    list_filter = ["on_call", "facility__kind", ("facility", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "facility"]
    search_fields = ["user__username", "user__last_name", "facility__code", "facility__name"]
    autocomplete_fields = ["user", "facility"]
    readonly_fields = ["created_at"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return memberships_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removing someone's access is not erasing a record; the membership's history stays.
        return request.user.is_superuser


class TokenState(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ProjectAdmin):
    """Tokens are issued with `manage.py issue_token` (the key is shown once); here they are listed and revoked."""

    list_display = ["prefix", "user", "name", "state", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [TokenState, "created_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username"]
    date_hierarchy = "created_at"
    # Never the hash: nothing here needs it.
    fields = readonly_fields = (
        "prefix",
        "user",
        "name",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def visible(self, request: HttpRequest) -> models.QuerySet:
        return tokens_visible_to(request.user)

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "expired" if obj.expires_at <= timezone.now() else "active"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or request.user.has_perm("products.change_apitoken")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        revoked = sum(token_revoke(token_id=token_id) for token_id in queryset.values_list("id", flat=True))
        skipped = queryset.count() - revoked
        messages.success(request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.")
        if skipped:
            messages.info(request, f"{skipped} already revoked.")


class MembershipInline(admin.TabularInline):
    model = FacilityMembership
    extra = 0
    autocomplete_fields = ["facility"]
    fields = ["facility", "on_call", "created_at"]
    readonly_fields = ["created_at"]


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class ProjectUserAdmin(UserAdmin):
    """Django's user admin, plus the facilities a user belongs to and their roles at a glance."""

    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "roles", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_superuser", "is_active", "memberships__facility"]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="roles")
    def roles(self, obj: Any) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all())) or "-"
