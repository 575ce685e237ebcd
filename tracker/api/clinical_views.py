"""Bedside and after: administrations, assessments, interventions, conditioning, adverse events, follow-up
visits, monitoring checks and reminders.

Reads go through tracker.selectors (scoped to the caller's facilities, joins done once); every write is one
call of a tracker service, which holds the rules: the views only check shapes (400) and render the result.
"""

from typing import Any

from django.db.models import Case, IntegerField, Model, QuerySet, Value, When
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from products.api.mixins import ServiceActionMixin, ServiceCreateMixin, actor_of
from products.api.views import write_responses
from products.choices import Severity
from tracker import selectors
from tracker.api import clinical_filters as filters
from tracker.api import clinical_serializers as s
from tracker.api.views import PATIENT_DATA
from tracker.services.administrations import administration_record
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    adverse_event_update,
    assessment_record,
    conditioning_record,
    follow_up_record,
    intervention_record,
)
from tracker.services.monitoring import (
    administration_void,
    reminder_acknowledge,
    reminder_resolve,
    schedule_reschedule,
)


class RecordActionView(ServiceActionMixin, generics.GenericAPIView):
    """POST an action on one record (found among those the caller may see, else 404)."""

    lookup_url_kwarg = "id"
    filter_backends: list = []


# Administrations -------------------------------------------------------------------------------------------


def _administrations(request: Request) -> QuerySet:
    return selectors.administrations_visible_to(request.user).order_by("-administered_at", "-id")


@extend_schema_view(
    post=extend_schema(
        request=s.AdministrationInputSerializer,
        responses=write_responses(201, s.AdministrationSerializer),
        description="Record an administration after the bedside check. Two people: `verifier_username` and "
        "`verifier_password` are required (400 without them); the verifier is another active clinician or "
        "coordinator of the patient's facility (else a 400 on `verifier_username`). Two patient identifiers: the "
        "wristband's MRN (`scanned_patient`) and birth date (`scanned_birth_date`, required) must be the order's "
        "patient's, and the scanned bag the order's unit: else 409 `identity_mismatch`. The unit's state: 409 "
        "`unit_not_released`, `unit_expired`, `unit_not_at_site`, `already_administered`, `unit_not_thawed`, "
        "`out_of_sequence`. The caller's rights (403 `permission_denied`), the order, the identity, the unit's "
        "state and the verifier are all checked before the verifier's password is tried: a caller who may not "
        "record the administration learns nothing about any password and adds no signature failure. A wrong "
        "password is then a 403 `invalid_signature` (the failure stays on record; after 5 within 15 minutes, "
        "403 `signing_locked`). Nothing else is written when refused. One course, one schedule: the first unit "
        "given under an order starts the product's monitoring schedule (see `checks/`) in the same transaction; "
        "further units of the order join it, and `course_dose_cells(_per_kg)` sum the course. The dose per kg "
        "uses the patient's weight on the infusion day (`patients/{id}/weights/`).",
    )
)
class AdministrationListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = s.AdministrationSerializer
    input_serializer_class = s.AdministrationInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.AdministrationFilter

    def get_queryset(self) -> QuerySet:
        return _administrations(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        order, unit = data.pop("coi"), data.pop("unit")
        administration = administration_record(
            actor=actor_of(self.request), coi=order.coi, unit_id=unit.unit_id, **data
        )
        return self.get_queryset().get(pk=administration.pk)


class AdministrationDetail(generics.RetrieveAPIView):
    serializer_class = s.AdministrationSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _administrations(self.request)


class AdministrationActionView(RecordActionView):
    serializer_class = s.AdministrationSerializer
    permission_classes = PATIENT_DATA

    def get_queryset(self) -> QuerySet:
        return _administrations(self.request)


@extend_schema_view(
    post=extend_schema(
        request=s.VoidInputSerializer,
        responses=write_responses(200, s.AdministrationSerializer),
        description="Void an administration entered in error: the unit returns to its state before. When no other "
        "unit of the order stands, the open checks are cancelled and their reminders resolved; when the first of "
        "several is voided, the schedule passes to the next infusion and its open checks move to that time. "
        "409 `illegal_transition` if already voided.",
    )
)
class AdministrationVoid(AdministrationActionView):
    input_serializer_class = s.VoidInputSerializer

    def act(self, record: Any, data: dict[str, Any]) -> None:
        administration_void(administration_id=record.id, actor=actor_of(self.request), **data)


@extend_schema_view(
    post=extend_schema(
        request=s.CorrectTimeInputSerializer,
        responses=write_responses(200, s.AdministrationSerializer),
        description="Correct the administration time: when it is (or becomes) the first infusion of its order's "
        "course, every still-open protocol check moves with it. 409 `illegal_transition` for a voided "
        "administration.",
    )
)
class AdministrationCorrectTime(AdministrationActionView):
    input_serializer_class = s.CorrectTimeInputSerializer

    def act(self, record: Any, data: dict[str, Any]) -> None:
        schedule_reschedule(administration_id=record.id, actor=actor_of(self.request), **data)


# Assessments, interventions, conditioning, follow-up visits ------------------------------------------------


def _assessments(request: Request) -> QuerySet:
    return selectors.assessments_visible_to(request.user).order_by("-assessed_at", "-id")


@extend_schema_view(
    post=extend_schema(
        request=s.AssessmentInputSerializer,
        responses=write_responses(201, s.AssessmentSerializer),
        description="Record the raw measurements; `crs_grade` and `icans_grade` are computed from them "
        "(ASTCT 2019). Impossible values are a 400 naming the field. `ice_items` are all five or none. Patients "
        "under 12 on the assessment date are graded for ICANS with the CAPD (`capd_score`, `capd_unable`): an ICE "
        "score or items for them is a 400, and a CAPD for anyone older is a 400. `fever_masked` is a 400 unless CRS "
        "was graded before (an earlier assessment with fever) or an antipyretic or anti-cytokine intervention is "
        "recorded before the assessment. A grade >= 2 raises an urgent reminder in the same transaction (see "
        "`reminders/`) and schedules 4-hourly toxicity checks.",
    )
)
class AssessmentListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = s.AssessmentSerializer
    input_serializer_class = s.AssessmentInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.AssessmentFilter

    def get_queryset(self) -> QuerySet:
        return _assessments(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return assessment_record(actor=actor_of(self.request), **data)


class AssessmentDetail(generics.RetrieveAPIView):
    serializer_class = s.AssessmentSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _assessments(self.request)


def _interventions(request: Request) -> QuerySet:
    return selectors.interventions_visible_to(request.user).order_by("-given_at", "-id")


@extend_schema_view(
    post=extend_schema(request=s.InterventionInputSerializer, responses=write_responses(201, s.InterventionSerializer))
)
class InterventionListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    """Treatments of toxicity: tocilizumab, corticosteroids and others, with dose and time."""

    serializer_class = s.InterventionSerializer
    input_serializer_class = s.InterventionInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.InterventionFilter

    def get_queryset(self) -> QuerySet:
        return _interventions(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return intervention_record(actor=actor_of(self.request), **data)


class InterventionDetail(generics.RetrieveAPIView):
    serializer_class = s.InterventionSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _interventions(self.request)


def _conditioning(request: Request) -> QuerySet:
    return selectors.conditioning_visible_to(request.user).order_by("-given_on", "drug", "-id")


@extend_schema_view(
    post=extend_schema(
        request=s.ConditioningInputSerializer,
        responses=write_responses(201, s.ConditioningSerializer),
        description="One drug of the lymphodepleting regimen given before infusion, for the order given by COI.",
    )
)
class ConditioningListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = s.ConditioningSerializer
    input_serializer_class = s.ConditioningInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.ConditioningFilter

    def get_queryset(self) -> QuerySet:
        return _conditioning(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        conditioning = conditioning_record(actor=actor_of(self.request), order=data.pop("coi"), **data)
        return self.get_queryset().get(pk=conditioning.pk)


class ConditioningDetail(generics.RetrieveAPIView):
    serializer_class = s.ConditioningSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _conditioning(self.request)


def _follow_ups(request: Request) -> QuerySet:
    return selectors.follow_ups_visible_to(request.user).order_by("-visit_date", "-id")


@extend_schema_view(
    post=extend_schema(
        request=s.FollowUpVisitInputSerializer,
        responses=write_responses(201, s.FollowUpVisitSerializer),
        description="A follow-up visit; it completes the patient's due follow-up, malignancy-screen and (with a "
        "result) replication-competent-virus checks. A visit recording death ends the monitoring schedule: the "
        "open checks close as `deceased` and their reminders are resolved.",
    )
)
class FollowUpVisitListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = s.FollowUpVisitSerializer
    input_serializer_class = s.FollowUpVisitInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.FollowUpVisitFilter

    def get_queryset(self) -> QuerySet:
        return _follow_ups(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return follow_up_record(actor=actor_of(self.request), **data)


class FollowUpVisitDetail(generics.RetrieveAPIView):
    serializer_class = s.FollowUpVisitSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _follow_ups(self.request)


# Adverse events --------------------------------------------------------------------------------------------


def _adverse_events(request: Request) -> QuerySet:
    return selectors.adverse_events_visible_to(request.user).order_by("-onset_at", "-id")


@extend_schema_view(
    post=extend_schema(
        request=s.AdverseEventInputSerializer,
        responses=write_responses(201, s.AdverseEventSerializer),
        description="Record an adverse event. `expected` is required (no default: it decides the deadline). "
        "`report_due_at` and `report_rule` are computed: serious and unexpected events are due to the regulator 15 "
        "calendar days after awareness (21 CFR 600.80). Grade 4 or 5, or `outcome` `fatal`, makes the event serious "
        "whatever `serious` says (ICH E2A); grade 5 is fatal. A fatal event ends the patient's monitoring "
        "schedule: the open checks close as `deceased` and their reminders are resolved.",
    )
)
class AdverseEventListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = s.AdverseEventSerializer
    input_serializer_class = s.AdverseEventInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.AdverseEventFilter

    def get_queryset(self) -> QuerySet:
        return _adverse_events(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return adverse_event_record(actor=actor_of(self.request), **data)


@extend_schema_view(
    patch=extend_schema(
        request=s.AdverseEventChangeSerializer,
        responses=write_responses(200, s.AdverseEventSerializer),
        description="Change an adverse event (resolution, outcome, grade, seriousness, expectedness...): the "
        "fields given are set and the report clock is computed again. `aware_at` (the start of the report clock) "
        "moves freely while no deadline is set; once one is, only with `aware_at_reason` (400 without it; who, when "
        "and why are kept on the event and in the audit trail); once the report is submitted, never (409 "
        "`illegal_transition`).",
    )
)
class AdverseEventDetail(generics.RetrieveAPIView):
    serializer_class = s.AdverseEventSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _adverse_events(self.request)

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        changes = s.AdverseEventChangeSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        changes.is_valid(raise_exception=True)
        adverse_event_update(actor=actor_of(request), event_id=event.id, **changes.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data)


@extend_schema_view(
    post=extend_schema(
        request=s.ReportSubmittedInputSerializer,
        responses=write_responses(200, s.AdverseEventSerializer),
        description="Record that the expedited report was submitted; its deadline reminders are resolved.",
    )
)
class AdverseEventReportSubmitted(RecordActionView):
    serializer_class = s.AdverseEventSerializer
    input_serializer_class = s.ReportSubmittedInputSerializer
    permission_classes = PATIENT_DATA

    def get_queryset(self) -> QuerySet:
        return _adverse_events(self.request)

    def act(self, record: Any, data: dict[str, Any]) -> None:
        adverse_event_mark_reported(
            actor=actor_of(self.request), event_id=record.id, at=data.get("report_submitted_at")
        )


# Monitoring: scheduled checks and reminders ----------------------------------------------------------------


def _checks(request: Request) -> QuerySet:
    return selectors.checks_visible_to(request.user).order_by("due_at", "id")


class ScheduledCheckList(generics.ListAPIView):
    """The monitoring schedule: what each patient is due, from the product's protocol or a toxicity escalation
    (read-only; clinical records complete the checks)."""

    serializer_class = s.ScheduledCheckSerializer
    permission_classes = PATIENT_DATA
    filterset_class = filters.ScheduledCheckFilter

    def get_queryset(self) -> QuerySet:
        return _checks(self.request)


class ScheduledCheckDetail(generics.RetrieveAPIView):
    serializer_class = s.ScheduledCheckSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _checks(self.request)


URGENT_FIRST = Case(When(severity=Severity.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField())


def _reminders(request: Request) -> QuerySet:
    return selectors.reminders_visible_to(request.user).order_by(URGENT_FIRST, "due_at", "id")


class ReminderList(generics.ListAPIView):
    """Reminders of the caller's facilities, urgent first, then by due time. The manufacturing role sees only
    product-side reminders (no patient)."""

    serializer_class = s.ReminderSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = filters.ReminderFilter

    def get_queryset(self) -> QuerySet:
        return _reminders(self.request)


class ReminderDetail(generics.RetrieveAPIView):
    serializer_class = s.ReminderSerializer
    permission_classes = [IsAuthenticated]
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _reminders(self.request)


class ReminderActionView(RecordActionView):
    serializer_class = s.ReminderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet:
        return _reminders(self.request)


@extend_schema_view(
    post=extend_schema(
        request=None,
        responses=write_responses(200, s.ReminderSerializer),
        description="Acknowledge an open reminder (who and when are recorded); it no longer escalates. "
        "409 `illegal_transition` if it is not open.",
    )
)
class ReminderAcknowledge(ReminderActionView):
    def act(self, record: Any, data: dict[str, Any]) -> None:
        reminder_acknowledge(reminder_id=record.id, actor=actor_of(self.request))


@extend_schema_view(
    post=extend_schema(
        request=s.ResolveInputSerializer,
        responses=write_responses(200, s.ReminderSerializer),
        description="Resolve a reminder, saying what was done. 409 `illegal_transition` if already resolved.",
    )
)
class ReminderResolve(ReminderActionView):
    input_serializer_class = s.ResolveInputSerializer

    def act(self, record: Any, data: dict[str, Any]) -> None:
        reminder_resolve(reminder_id=record.id, actor=actor_of(self.request), **data)
