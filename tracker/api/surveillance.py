"""Post-market surveillance over HTTP: the summary as JSON and as CSV (the README's "Surveillance"), from one selector.

The figures are aggregates of the caller's facilities: the `safety` role, coordinators and superusers read them;
no patient is named anywhere in them.
"""

import csv
import io
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products.api.serializers import DomainErrorSerializer
from tracker.surveillance import (
    GRADES,
    Figures,
    ProductFacilityFigures,
    Summary,
    may_see_surveillance,
    surveillance_summary,
)
from tracker.surveillance_forms import SurveillanceFilterForm


class MaySeeSurveillance(BasePermission):
    message = "Only the safety and coordinator roles see the surveillance figures."

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_see_surveillance(request.user)


SURVEILLANCE = [IsAuthenticated, MaySeeSurveillance]

FILTERS = [
    OpenApiParameter("product", OpenApiTypes.STR, description="A product code; every product when absent."),
    OpenApiParameter(
        "facility",
        OpenApiTypes.STR,
        description="A facility code, one of the caller's (a 400 otherwise); all of the caller's when absent. "
        "Courses are counted at the facility that infused the patient.",
    ),
    OpenApiParameter(
        "since", OpenApiTypes.DATE, description="Courses whose first infusion is on or after this date (YYYY-MM-DD)."
    ),
    OpenApiParameter(
        "until", OpenApiTypes.DATE, description="Courses whose first infusion is on or before this date (YYYY-MM-DD)."
    ),
]
ERRORS = {
    400: OpenApiResponse(description='An invalid filter: `{"field": ["message", ...]}`.'),
    403: OpenApiResponse(DomainErrorSerializer, description="Only the safety and coordinator roles (and superusers)."),
}


def _grade_counts(name: str, what: str) -> type[serializers.Serializer]:
    fields = {g: serializers.IntegerField(help_text=f"Patients whose worst {what} grade is {g}.") for g in GRADES}
    return type(name, (serializers.Serializer,), fields)


CrsGradesSerializer = _grade_counts("CrsMaxGradeSerializer", "CRS")
IcansGradesSerializer = _grade_counts("IcansMaxGradeSerializer", "ICANS")


class OnsetDaysSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True, help_text="Null when no patient had it.")
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)


class SeriousEventsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Serious adverse events; the next four add up to it.")
    reported_on_time = serializers.IntegerField(
        help_text="Submitted by the expedited deadline, or submitted when none applies."
    )
    reported_late = serializers.IntegerField(help_text="Submitted after the expedited deadline.")
    pending = serializers.IntegerField(help_text="Not submitted; the deadline has not passed, or none applies.")
    overdue = serializers.IntegerField(help_text="Not submitted and past the expedited deadline.")
    expedited = serializers.IntegerField(help_text="Those with an expedited (15-day) reporting deadline.")


class FollowUpSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text="Scheduled follow-up visits fallen due (or done early).")
    done = serializers.IntegerField(help_text="Completed.")
    overdue = serializers.IntegerField(help_text="Missed: not done and past the visit's grace period.")
    done_on_time = serializers.IntegerField(help_text="Completed within the visit's grace period.")
    done_late = serializers.IntegerField(help_text="Completed after it.")


class RcvSerializer(serializers.Serializer):
    tests = serializers.IntegerField(help_text="Replication-competent virus tests with a result or pending.")
    negative = serializers.IntegerField()
    positive = serializers.IntegerField()
    pending = serializers.IntegerField()
    patients_tested = serializers.IntegerField()
    patients_positive = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer):
    patients_infused = serializers.IntegerField(help_text="Patients with a course first infused in the period.")
    crs_max_grade = CrsGradesSerializer(help_text='Patients by their worst CRS grade, "0" to "5".')
    icans_max_grade = IcansGradesSerializer(help_text='Patients by their worst ICANS grade, "0" to "5".')
    crs_onset_days = OnsetDaysSerializer(help_text="Days from the infusion (day 0) to the first CRS.")
    icans_onset_days = OnsetDaysSerializer(help_text="Days from the infusion (day 0) to the first ICANS.")
    tocilizumab_patients = serializers.IntegerField(help_text="Patients given tocilizumab after the infusion.")
    steroid_patients = serializers.IntegerField(help_text="Patients given a corticosteroid after the infusion.")
    serious_events = SeriousEventsSerializer()
    deaths = serializers.IntegerField(help_text="Patients who died after the infusion.")
    secondary_malignancies = serializers.IntegerField(help_text="Patients with a secondary malignancy.")
    follow_up = FollowUpSerializer()
    rcv = RcvSerializer(help_text="Replication-competent virus tests at follow-up visits.")


class ProductFacilityFiguresSerializer(FiguresSerializer):
    product = serializers.CharField(help_text="Product code.")
    product_name = serializers.CharField()
    facility = serializers.CharField(help_text="Code of the facility that infused the patients.")
    facility_name = serializers.CharField()

    def to_representation(self, row: ProductFacilityFigures) -> dict[str, Any]:
        return {
            "product": row.product_code,
            "product_name": row.product_name,
            "facility": row.facility_code,
            "facility_name": row.facility_name,
            **FiguresSerializer(row.figures).data,
        }


class SummaryFiltersSerializer(serializers.Serializer):
    product = serializers.CharField(allow_null=True)
    facility = serializers.CharField(allow_null=True)
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)


class AdverseEventCountSerializer(serializers.Serializer):
    term = serializers.CharField()
    term_label = serializers.CharField()
    grade = serializers.IntegerField()
    events = serializers.IntegerField()
    patients = serializers.IntegerField()


class HistogramBarSerializer(serializers.Serializer):
    label = serializers.CharField(help_text='The day after infusion, "15+" for the last bar.')  # type: ignore[assignment]
    day = serializers.IntegerField()
    patients = serializers.IntegerField()


class DeathCauseSerializer(serializers.Serializer):
    cause = serializers.CharField(help_text='The fatal adverse event\'s term, the cause a visit gives, or "unknown".')
    patients = serializers.IntegerField()


class TimepointComplianceSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The protocol's name of the visit, e.g. `Follow-up visit day 100`."
    )
    day = serializers.IntegerField(help_text="The median day after infusion these visits were due.")
    due = serializers.IntegerField()
    done_on_time = serializers.IntegerField()
    done_late = serializers.IntegerField()
    missed = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Due, not done, still within the grace period.")


class SummarySerializer(FiguresSerializer):
    filters = SummaryFiltersSerializer()
    as_of = serializers.DateTimeField(help_text="Deadlines and due dates are judged at this time.")
    facilities = serializers.ListField(child=serializers.CharField(), help_text="Codes of the facilities counted.")
    adverse_events = AdverseEventCountSerializer(many=True, help_text="Adverse events by term and grade.")
    crs_onset_histogram = HistogramBarSerializer(many=True)
    icans_onset_histogram = HistogramBarSerializer(many=True)
    death_causes = DeathCauseSerializer(many=True)
    follow_up_by_timepoint = TimepointComplianceSerializer(many=True)
    by_product_facility = ProductFacilityFiguresSerializer(
        many=True, help_text="The same figures for each product at each facility (the CSV's rows)."
    )

    def to_representation(self, summary: Summary) -> dict[str, Any]:
        return {
            **FiguresSerializer(summary.total).data,
            "filters": {
                "product": summary.product.code if summary.product else None,
                "facility": summary.facility.code if summary.facility else None,
                "since": summary.since.isoformat() if summary.since else None,
                "until": summary.until.isoformat() if summary.until else None,
            },
            "as_of": self.fields["as_of"].to_representation(summary.as_of),
            "facilities": [f.code for f in summary.facilities],
            "adverse_events": AdverseEventCountSerializer(summary.adverse_events, many=True).data,
            "crs_onset_histogram": HistogramBarSerializer(summary.crs_onset_histogram, many=True).data,
            "icans_onset_histogram": HistogramBarSerializer(summary.icans_onset_histogram, many=True).data,
            "death_causes": DeathCauseSerializer(summary.death_causes, many=True).data,
            "follow_up_by_timepoint": TimepointComplianceSerializer(summary.follow_up_by_timepoint, many=True).data,
            "by_product_facility": ProductFacilityFiguresSerializer(summary.rows, many=True).data,
        }


def _summary(request: Request) -> Summary:
    form = SurveillanceFilterForm(request.query_params, user=request.user)
    if not form.is_valid():
        raise serializers.ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return surveillance_summary(user=request.user, **form.summary_arguments())


class SurveillanceSummaryView(APIView):
    """Safety figures of the caller's facilities: patients infused, CRS and ICANS by worst grade and onset,
    tocilizumab and steroids, serious events by report status, deaths, secondary malignancies, follow-up
    compliance, RCV results, adverse events by term and grade. Computed in the database; see the README."""

    permission_classes = SURVEILLANCE

    @extend_schema(parameters=FILTERS, responses={200: SummarySerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        return Response(SummarySerializer(_summary(request)).data)


def figures_columns(figures: Figures) -> dict[str, Any]:
    """The figures flattened into named columns (the CSV's), in the contract's order."""
    columns: dict[str, Any] = {"patients_infused": figures.patients_infused}
    columns.update({f"crs_max_grade_{g}": n for g, n in figures.crs_max_grade.items()})
    columns.update({f"icans_max_grade_{g}": n for g, n in figures.icans_max_grade.items()})
    for what, onset in (("crs", figures.crs_onset_days), ("icans", figures.icans_onset_days)):
        columns.update({f"{what}_onset_days_{k}": getattr(onset, k) for k in ("median", "min", "max")})
    columns["tocilizumab_patients"] = figures.tocilizumab_patients
    columns["steroid_patients"] = figures.steroid_patients
    columns.update({f"serious_events_{k}": n for k, n in figures.serious_events.items()})
    columns["deaths"] = figures.deaths
    columns["secondary_malignancies"] = figures.secondary_malignancies
    columns.update({f"follow_up_{k}": n for k, n in figures.follow_up.items()})
    columns.update({f"rcv_{k}": n for k, n in figures.rcv.items()})
    return columns


def _cell(value: Any) -> str:
    """A CSV cell: numbers as JSON writes them, nothing for null, and text that a spreadsheet would read as a
    formula (=, +, -, @) made inert with a leading apostrophe (OWASP, CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return str(data).encode(self.charset)  # the CSV text; errors are JSON (finalize_response)


def summary_csv(summary: Summary) -> str:
    """One row per product and facility, with a header row: the same figures as the summary's `by_product_facility`.
    The filters are in every row, so a row read alone still says what it counts."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    filters = {
        "since": summary.since.isoformat() if summary.since else "",
        "until": summary.until.isoformat() if summary.until else "",
    }
    header = ["product", "product_name", "facility", "facility_name", *filters, *figures_columns(summary.total)]
    writer.writerow(header)
    for row in summary.rows:
        values = [row.product_code, row.product_name, row.facility_code, row.facility_name, *filters.values()]
        writer.writerow([_cell(v) for v in [*values, *figures_columns(row.figures).values()]])
    return out.getvalue()


class SurveillanceSummaryCsvView(APIView):
    """The summary's figures as CSV: one row per product and facility, with a header row."""

    permission_classes = SURVEILLANCE
    renderer_classes = [CsvRenderer, JSONRenderer]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error is JSON ({"detail"} or field errors), whatever the client asked for, as on every API route.
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=FILTERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="A header row, then one row per product and facility: `product`, `product_name`, "
                "`facility`, `facility_name`, `since`, `until`, `patients_infused`, `crs_max_grade_0`.."
                "`crs_max_grade_5`, `icans_max_grade_0`..`icans_max_grade_5`, `crs_onset_days_median` / `_min` / "
                "`_max`, `icans_onset_days_median` / `_min` / `_max`, `tocilizumab_patients`, `steroid_patients`, "
                "`serious_events_total`, `serious_events_reported_on_time`, `serious_events_reported_late`, "
                "`serious_events_pending`, `serious_events_overdue`, `serious_events_expedited`, `deaths`, "
                "`secondary_malignancies`, `follow_up_due`, `follow_up_done`, `follow_up_overdue`, "
                "`follow_up_done_on_time`, `follow_up_done_late`, `rcv_tests`, `rcv_negative`, `rcv_positive`, "
                "`rcv_pending`, `rcv_patients_tested`, `rcv_patients_positive`. Empty cells are nulls.",
            ),
            # DRF answers a `format` it has no renderer for (other than csv and json) as a missing page.
            404: OpenApiResponse(description="`format` is neither `csv` nor `json`."),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        summary = _summary(request)
        name = f"surveillance-summary-{timezone.localdate().isoformat()}.csv"
        return Response(
            summary_csv(summary),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
