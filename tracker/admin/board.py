"""The admin's home page for staff: the coordinators' board (tracker.board), every number a link to the admin's
list of exactly the rows it counts (the lists' `?board=`, `?stage=`, `?late=`, `?infused=` and `?at=` filters)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.admin import AdminSite
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from products.admin.board_filters import AT, BOARD, LATE, STAGE, YES
from products.admin.links import changelist_url
from products.models import Batch, ChainOfIdentity, Hold, Unit
from products.pipeline import OPEN
from products.rules.stages import STAGES
from tracker.admin.board_filters import INFUSED, period_value
from tracker.board import Board, board
from tracker.board_charts import pipeline_chart, vein_to_vein_chart
from tracker.board_forms import BoardFilterForm
from tracker.models import AdverseEvent, Reminder, TherapyOrder

# How many late chains the page names (the count links to all of them).
LATE_SHOWN = 50


@dataclass(frozen=True)
class Need:
    """One number of "what needs a person today", with the list behind it."""

    key: str
    label: str
    value: int | None
    url: str
    alert: bool = False


class BoardLinks:
    """The admin list behind each number, narrowed to the board's facility when it is."""

    def __init__(self, board: Board) -> None:
        self.board = board

    def url(self, model: type[models.Model], **params: Any) -> str:
        if self.board.facility is not None:
            params[AT] = self.board.facility.pk
        return changelist_url(model, **params)

    def stage(self, stage: str) -> str:
        return self.url(ChainOfIdentity, **{STAGE: stage})

    def late(self, stage: str = OPEN) -> str:
        return self.url(ChainOfIdentity, **{STAGE: stage, LATE: YES})

    def figure(self, model: type[models.Model], key: str) -> str:
        return self.url(model, **{BOARD: key})

    def infused(self, product_id: int) -> str:
        period = period_value(self.board.since, self.board.until)
        return self.url(TherapyOrder, **{INFUSED: period, "product__id__exact": product_id})


def figures(board: Board, links: BoardLinks) -> list[Need]:
    """What needs a person today, in the order of the chain; patient-side figures only for those who see patients."""
    rows = [
        Need("awaiting_qc", "Batches awaiting QC results", board.awaiting_qc, links.figure(Batch, "awaiting_qc")),
        Need(
            "awaiting_release",
            "Batches awaiting release",
            board.awaiting_release,
            links.figure(Batch, "awaiting_release"),
        ),
        Need("open_holds", "Open holds", board.open_holds, links.figure(Hold, "open"), alert=True),
        Need("units_in_transit", "Units in transit", board.units_in_transit, links.figure(Unit, "in_transit")),
        Need(
            "units_expiring",
            "Units expiring within the warning window",
            board.units_expiring,
            links.figure(Unit, "expiring"),
            alert=True,
        ),
    ]
    if board.patient_data:
        rows += [
            Need(
                "conditioning_next_7_days",
                "Conditioning starting in the next 7 days",
                board.conditioning_next_7_days,
                links.figure(TherapyOrder, "conditioning_next_7_days"),
            ),
            Need(
                "infusions_next_7_days",
                "Infusions planned in the next 7 days",
                board.infusions_next_7_days,
                links.figure(TherapyOrder, "infusions_next_7_days"),
            ),
        ]
    rows += [
        Need(
            "reminders_urgent",
            "Urgent reminders open",
            board.reminders["urgent"],
            links.figure(Reminder, "urgent"),
            True,
        ),
        Need(
            "reminders_routine", "Routine reminders open", board.reminders["routine"], links.figure(Reminder, "routine")
        ),
    ]
    if board.patient_data:
        rows.append(
            Need(
                "reports_due",
                "Adverse-event reports due within 3 days or overdue",
                board.reports_due,
                links.figure(AdverseEvent, "reports_due"),
                alert=True,
            )
        )
    return rows


def board_page(site: AdminSite, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
    form = BoardFilterForm(request.GET or None, user=request.user)
    arguments = form.board_arguments() if form.is_valid() else {}
    data = board(user=request.user, **arguments)
    links = BoardLinks(data)
    stage_urls = {stage.value: links.stage(stage.value) for stage in STAGES}
    late_urls = {stage.value: links.late(stage.value) for stage in STAGES}
    product_urls = {v.product_id: links.infused(v.product_id) for v in data.vein_to_vein}
    now = data.now
    context = {
        **site.each_context(request),
        "title": site.index_title,
        "subtitle": None,
        "board": data,
        "form": form,
        "stages": [
            {
                "value": stage.value,
                "label": stage.label,
                "count": data.stages[stage.value],
                "late": data.late_by_stage[stage.value],
                "url": stage_urls[stage.value],
                "late_url": late_urls[stage.value],
            }
            for stage in STAGES
        ],
        "open_url": links.stage(OPEN),
        "late_url": links.late(),
        "late_rows": [
            {
                "chain": chain,
                "url": reverse("admin:products_chainofidentity_change", args=[chain.id]),
                "label": chain.stage.label,
                "days": round(chain.days_in_stage(now), 1),
                "over": round(chain.days_in_stage(now) - chain.expected_days, 1),
            }
            for chain in data.late[:LATE_SHOWN]
        ],
        "figures": figures(data, links),
        "waiting": [
            {"batch": batch, "url": reverse("admin:products_batch_change", args=[batch.id])}
            for batch in data.waiting_batches
        ],
        "pipeline_chart": pipeline_chart(data, stage_urls, late_urls),
        "v2v_chart": vein_to_vein_chart(data, product_urls),
        "v2v_rows": [{"v": v, "url": product_urls[v.product_id]} for v in data.vein_to_vein],
        "models_url": reverse("admin:models", current_app=site.name),
        **(extra_context or {}),
    }
    request.current_app = site.name
    return TemplateResponse(request, "admin/board.html", context)
