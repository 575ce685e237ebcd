"""Links between admin pages: to a record, to a filtered list, to an add page with fields filled in."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode


def admin_link(obj: models.Model | None, text: Any = None) -> str:
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def changelist_url(model: type[models.Model], **params: Any) -> str:
    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{base}?{urlencode(params)}" if params else base


def add_url(model: type[models.Model], **params: Any) -> str:
    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    return f"{base}?{urlencode(params)}" if params else base
