"""Read models over HTTP: the patient timeline (the page's selector, the page's filters) and the FHIR export."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products.api.renderers import OrjsonRenderer
from products.api.serializers import DomainErrorSerializer
from products.errors import ExportTooLarge
from tracker.api.permissions import MaySeePatients
from tracker.api.timeline_serializers import TimelineSerializer
from tracker.fhir import patient_fhir_bundle
from tracker.forms import TimelineFilterForm
from tracker.selectors import patients_visible_to
from tracker.timeline.kinds import TimelineKind
from tracker.timeline.query import patient_timeline

PATIENT_DATA = [IsAuthenticated, MaySeePatients]
NOT_YOURS = OpenApiResponse(description="No such patient at your facilities.")
NO_PATIENT_DATA = OpenApiResponse(description="Your role has no access to patient data (manufacturing).")
TOO_LARGE = OpenApiResponse(
    DomainErrorSerializer,
    description="`export_too_large`: more records than one answer holds (EXPORT_MAX_RECORDS, 20,000 by default).",
)


def require_exportable(count: int, what: str, narrow: str) -> None:
    """An export answer holds at most EXPORT_MAX_RECORDS records: a bound on what one request may cost."""
    if count > settings.EXPORT_MAX_RECORDS:
        raise ExportTooLarge(f"{count} {what}: more than the {settings.EXPORT_MAX_RECORDS} one answer holds. {narrow}")


TIMELINE_PARAMETERS = [
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        many=True,
        explode=True,
        enum=TimelineKind.values,
        description="Only these kinds of event (repeat, or separate with commas); every kind when absent.",
    ),
    OpenApiParameter(
        "since",
        OpenApiTypes.STR,
        description="Events at or after this date (YYYY-MM-DD) or date-time (ISO 8601 with offset).",
    ),
    OpenApiParameter(
        "until",
        OpenApiTypes.STR,
        description="Events before this date-time; a date (YYYY-MM-DD) includes that whole day.",
    ),
    OpenApiParameter("first_day", OpenApiTypes.INT, description="First day relative to the infusion (day 0), e.g. -7."),
    OpenApiParameter("last_day", OpenApiTypes.INT, description="Last day relative to the infusion, included, e.g. 14."),
]


class PatientTimelineView(APIView):
    """A patient's whole story in time order: the same events, with the same filters, as the patient page."""

    permission_classes = PATIENT_DATA

    @extend_schema(
        parameters=TIMELINE_PARAMETERS,
        responses={
            200: TimelineSerializer,
            400: OpenApiResponse(description='Invalid filter: `{"field": ["message", ...]}`.'),
            403: NO_PATIENT_DATA,
            404: NOT_YOURS,
            409: TOO_LARGE,
        },
    )
    def get(self, request: Request, id: int) -> Response:
        patient = get_object_or_404(patients_visible_to(request.user), id=id)
        form = TimelineFilterForm(request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [str(message) for message in errors] for field, errors in form.errors.items()}
            )
        timeline = patient_timeline(patient=patient, **form.timeline_arguments())
        require_exportable(len(timeline.events), "events", "Narrow the timeline with `since`, `until` or `kind`.")
        return Response(TimelineSerializer(timeline).data)


class FhirJSONRenderer(OrjsonRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class PatientFhirView(APIView):
    """The patient's record as a FHIR R4 Bundle (type `collection`)."""

    permission_classes = PATIENT_DATA
    renderer_classes = [FhirJSONRenderer, OrjsonRenderer]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "A FHIR R4 Bundle of type `collection`: Patient, BiologicallyDerivedProduct (each unit, with "
                    "its COI and ISBT 128 DIN), Procedure (each infusion), Observation (each assessment with its "
                    "CRS/ICANS grades and raw measurements), AdverseEvent, MedicationAdministration (interventions)."
                ),
            ),
            403: NO_PATIENT_DATA,
            404: NOT_YOURS,
            409: TOO_LARGE,
        },
    )
    def get(self, request: Request, id: int) -> Response:
        patient = get_object_or_404(patients_visible_to(request.user), id=id)
        bundle = patient_fhir_bundle(patient=patient)
        require_exportable(len(bundle.get("entry", [])), "resources", "Use the API's lists, which are paginated.")
        return Response(bundle)
