"""The small page an action asks what it needs on (a reason, a time) before it calls its service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import BaseForm
from django.http import HttpRequest
from django.template.response import TemplateResponse


def action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    title: str,
    form: BaseForm,
    submit: str,
    cancel_url: str,
    summary: Sequence[tuple[str, Any]] = (),
    records: Sequence[Any] = (),
    intro: str = "",
    obj: models.Model | None = None,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.opts,
        "original": obj,
        "summary": summary,
        "records": records,
        "intro": intro,
        "form": form,
        "submit": submit,
        "cancel_url": cancel_url,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/tracker/record_action.html", context)
