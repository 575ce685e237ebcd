"""The admin as the coordinators' tool: titled as the product, its home page the board, its records grouped the way
coordinators work. Installed as Django's default admin site (config.apps.TrackerAdminConfig), so every
`admin.register` and `admin.site` is this site; Django's own per-app pages (/admin/products/ ...) stay as they are.

This module imports nothing of the project at load time: the admin modules register themselves on this site while
it is being built, so the board's page is imported when a request needs it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse

PRODUCT = "Vein-to-vein tracker"

# The groups of the model list, in the order coordinators meet them, each model in the order of the work.
# Models not named here (e.g. pghistory's events, django-axes' logs) follow in "Other records".
GROUPS: list[tuple[str, str, list[str]]] = [
    (
        "chain",
        "Chain and manufacturing",
        [
            "tracker.therapyorder",
            "products.chainofidentity",
            "products.collection",
            "products.batch",
            "products.processingstep",
            "products.qcresult",
            "products.unit",
            "products.custodyrecord",
            "products.hold",
            "products.signature",
        ],
    ),
    (
        "bedside",
        "Bedside",
        ["tracker.patient", "tracker.patientweight", "tracker.conditioning", "tracker.administration"],
    ),
    (
        "monitoring",
        "Monitoring",
        [
            "tracker.reminder",
            "tracker.scheduledcheck",
            "tracker.assessment",
            "tracker.intervention",
            "tracker.adverseevent",
            "tracker.followupvisit",
            "tracker.notification",
        ],
    ),
    (
        "setup",
        "Set-up",
        [
            "products.product",
            "products.monitoringprotocol",
            "products.facility",
            "products.facilitymembership",
            "auth.user",
            "auth.group",
            "products.apitoken",
            "tracker.webhook",
        ],
    ),
]
OTHER = ("other", "Other records")


def grouped(app_list: list[dict[str, Any]], models_url: str) -> list[dict[str, Any]]:
    """Django's app list (what the user may see) regrouped by GROUPS, in their order; empty groups are left out."""
    models = {model["model"]._meta.label_lower: model for app in app_list for model in app["models"]}
    groups = []
    for key, name, labels in [*GROUPS, (*OTHER, sorted(set(models) - {m for g in GROUPS for m in g[2]}))]:
        members = [models[label] for label in labels if label in models]
        if members:
            groups.append(
                {
                    "name": name,
                    "app_label": key,
                    "app_url": models_url,
                    "has_module_perms": True,
                    "models": members,
                }
            )
    return groups


class TrackerAdminSite(admin.AdminSite):
    site_header = PRODUCT
    site_title = PRODUCT
    index_title = "Coordinators' board"

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [path("models/", self.admin_view(self.models_view), name="models"), *super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list  # an app's own page (/admin/products/) lists that app, as Django does
        return grouped(app_list, reverse("admin:models", current_app=self.name))

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        """The home page: the coordinators' board."""
        from tracker.admin.board import board_page

        return board_page(self, request, extra_context)

    def models_view(self, request: HttpRequest) -> TemplateResponse:
        """Every record the user may open, grouped (Django's index page, with the groups)."""
        return super().index(request, extra_context={"title": "All records", "models_page": True})
