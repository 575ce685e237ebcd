"""How the patient-side admin shows values: grades, doses, a check's state, times, and a record's panel."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from products.admin.links import admin_link
from tracker.choices import CheckStatus
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import URGENT_GRADE


def grade_badge(grade: int | None) -> str:
    """A computed grade, red from the grade that raises an urgent reminder."""
    if grade is None:
        return "-"
    tone = "tone-alert" if grade >= URGENT_GRADE else "tone-warn" if grade > 0 else "tone-ok"
    return format_html('<strong class="{}">{}</strong>', tone, grade)


def cells(count: int | None, unit: str = "cells") -> str:
    """100000000 -> "1.00 x 10^8 cells (100,000,000)": the dose as written on a label, and exactly."""
    if count is None:
        return "-"
    mantissa, exponent = f"{count:.2e}".split("e")
    return format_html("{} \u00d7 10<sup>{}</sup> {} ({})", mantissa, int(exponent), unit, f"{count:,}")


def check_state(check: Any) -> str:
    if check.status == CheckStatus.OPEN and check.grace_until < timezone.now():
        return mark_safe('<strong class="tone-alert">OVERDUE</strong>')
    if check.status == CheckStatus.OPEN and check.due_at <= timezone.now():
        return mark_safe("<strong>due now</strong>")
    return check.get_status_display()


def when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def panel(html: SafeString | str, *, alert: bool = False) -> dict[str, Any]:
    """What a record's change page shows above its fields (templates/admin/tracker/change_form.html)."""
    return {"html": html, "alert": alert}


def patient_link(patient: Any) -> str:
    if patient is None:
        return "-"
    return admin_link(patient, f"{patient.display_name} (MRN {patient.mrn})")


def gvhd_summary(visit: Any) -> str:
    """A follow-up visit's acute GVHD staging in one line ("" when it did not stage GVHD)."""
    if visit.gvhd_grade is None:
        return ""
    return gvhd_rules.describe(
        grade=visit.gvhd_grade,
        stages=gvhd_rules.Stages(
            skin=visit.gvhd_skin_stage,
            liver=visit.gvhd_liver_stage,
            upper_gi=visit.gvhd_upper_gi_stage,
            lower_gi=visit.gvhd_lower_gi_stage,
        ),
        response=visit.gvhd_response,
        response_day=visit.gvhd_response_day,
    )
