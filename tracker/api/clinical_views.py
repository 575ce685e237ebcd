"""Bedside and after: administrations, assessments, interventions, conditioning, adverse events, follow-up
visits, monitoring checks and reminders.

Reads go through tracker.selectors (scoped to the caller's facilities, joins done once); every write is one
call of a tracker service, which holds the rules: the views only check shapes (400) and render the result.
Each kind of record is one `Records` (selector, order, serializer, filterset) and one list/detail pair made by
tracker.api.records.record_views; actions on one record (void, acknowledge...) are small views of their own.
"""

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from products.api.mixins import ServiceActionMixin, actor_of
from products.api.views import write_responses
from products.choices import Severity
from tracker import selectors
from tracker.api import clinical_filters as filters
from tracker.api import clinical_serializers as s
from tracker.api.records import Records, record_views
from tracker.api.views import PATIENT_DATA
from tracker.services.administrations import administration_record
from tracker.services.clinical import (
    adverse_event_mark_reported,
    adverse_event_record,
    adverse_event_sponsor_notified,
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


ADMINISTRATIONS = Records(
    selector=selectors.administrations_visible_to,
    ordering=("-administered_at", "-id"),
    serializer=s.AdministrationSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.AdministrationFilter,
)

AdministrationListCreate, AdministrationDetail = record_views(
    "Administration",
    ADMINISTRATIONS,
    create=lambda actor, data: administration_record(
        actor=actor, coi=data.pop("coi").coi, unit_id=data.pop("unit").unit_id, **data
    ),
    input_serializer=s.AdministrationInputSerializer,
    refetch=True,
    create_description="Record an administration after the bedside check. Two people: `verifier_username` and "
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


class AdministrationActionView(RecordActionView):
    serializer_class = s.AdministrationSerializer
    permission_classes = PATIENT_DATA

    def get_queryset(self) -> QuerySet:
        return ADMINISTRATIONS.queryset(self.request)


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


ASSESSMENTS = Records(
    selector=selectors.assessments_visible_to,
    ordering=("-assessed_at", "-id"),
    serializer=s.AssessmentSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.AssessmentFilter,
)

AssessmentListCreate, AssessmentDetail = record_views(
    "Assessment",
    ASSESSMENTS,
    create=lambda actor, data: assessment_record(actor=actor, **data),
    input_serializer=s.AssessmentInputSerializer,
    create_description="Record the raw measurements; `crs_grade` and `icans_grade` are computed from them "
    "(ASTCT 2019). Impossible values are a 400 naming the field. `ice_items` are all five or none. Patients "
    "under 12 on the assessment date are graded for ICANS with the CAPD (`capd_score`, `capd_unable`): an ICE "
    "score or items for them is a 400, and a CAPD for anyone older is a 400. `fever_masked` is a 400 unless CRS "
    "was graded before (an earlier assessment with fever) or an antipyretic or anti-cytokine intervention is "
    "recorded before the assessment. A grade >= 2 raises an urgent reminder in the same transaction (see "
    "`reminders/`) and schedules 4-hourly toxicity checks.",
)

INTERVENTIONS = Records(
    selector=selectors.interventions_visible_to,
    ordering=("-given_at", "-id"),
    serializer=s.InterventionSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.InterventionFilter,
)

InterventionListCreate, InterventionDetail = record_views(
    "Intervention",
    INTERVENTIONS,
    doc="Treatments of toxicity: tocilizumab, corticosteroids and others, with dose and time.",
    create=lambda actor, data: intervention_record(actor=actor, **data),
    input_serializer=s.InterventionInputSerializer,
)

CONDITIONING = Records(
    selector=selectors.conditioning_visible_to,
    ordering=("-given_on", "drug", "-id"),
    serializer=s.ConditioningSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.ConditioningFilter,
)

ConditioningListCreate, ConditioningDetail = record_views(
    "Conditioning",
    CONDITIONING,
    create=lambda actor, data: conditioning_record(actor=actor, order=data.pop("coi"), **data),
    input_serializer=s.ConditioningInputSerializer,
    refetch=True,
    create_description="One drug of the lymphodepleting regimen given before infusion, for the order given by COI.",
)

FOLLOW_UPS = Records(
    selector=selectors.follow_ups_visible_to,
    ordering=("-visit_date", "-id"),
    serializer=s.FollowUpVisitSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.FollowUpVisitFilter,
)

FollowUpVisitListCreate, FollowUpVisitDetail = record_views(
    "FollowUpVisit",
    FOLLOW_UPS,
    create=lambda actor, data: follow_up_record(actor=actor, **data),
    input_serializer=s.FollowUpVisitInputSerializer,
    create_description="A follow-up visit; it completes the patient's due follow-up, malignancy-screen and (with a "
    "result) replication-competent-virus checks. A visit recording death ends the monitoring schedule: the "
    "open checks close as `deceased` and their reminders are resolved.",
)


# Adverse events --------------------------------------------------------------------------------------------


ADVERSE_EVENTS = Records(
    selector=selectors.adverse_events_visible_to,
    ordering=("-onset_at", "-id"),
    serializer=s.AdverseEventSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.AdverseEventFilter,
)


class AdverseEventChange(generics.GenericAPIView):
    # PATCH on an adverse event, mixed into its detail view (no docstring: the schema would show it as the
    # detail's description).

    @extend_schema(
        request=s.AdverseEventChangeSerializer,
        responses=write_responses(200, s.AdverseEventSerializer),
        description="Change an adverse event (resolution, outcome, grade, seriousness, expectedness...): the "
        "fields given are set and the report clock is computed again. `aware_at` (the start of the report clock) "
        "moves freely while no deadline is set; once one is, only with `aware_at_reason` (400 without it; who, when "
        "and why are kept on the event and in the audit trail); once the report is submitted, never (409 "
        "`illegal_transition`).",
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        changes = s.AdverseEventChangeSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        changes.is_valid(raise_exception=True)
        adverse_event_update(actor=actor_of(request), event_id=event.id, **changes.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data)


AdverseEventListCreate, AdverseEventDetail = record_views(
    "AdverseEvent",
    ADVERSE_EVENTS,
    create=lambda actor, data: adverse_event_record(actor=actor, order=data.pop("coi"), **data),
    input_serializer=s.AdverseEventInputSerializer,
    refetch=True,
    create_description="Record an adverse event. `expected` is required (no default: it decides the deadline). "
    "`report_due_at` and `report_rule` are computed from the status of the course the event is reported under "
    "(`coi`; its trial, else its product's `regulatory_status`), kept as `regulatory_status`: licensed, serious "
    "and unexpected: 15 calendar days after awareness (21 CFR 600.80(c)(1)(i)); investigational, serious, "
    "unexpected and `suspected`: 15 days (312.32(c)(1)), 7 days when fatal or life-threatening (grade 4 or 5, or "
    "`outcome` `fatal`; 312.32(c)(2)); otherwise no expedited report. `suspected` agrees with `relatedness` "
    "(400 otherwise). Grade 4 or 5, or `outcome` `fatal`, makes the event serious whatever `serious` says (ICH "
    "E2A); grade 5 is fatal. A serious event in a clinical investigation raises an urgent `sponsor_notification` "
    "reminder at once (21 CFR 312.64(b)), resolved by `adverse-events/{id}/sponsor-notified/`. A fatal event ends "
    "the patient's monitoring schedule: the open checks close as `deceased` and their reminders are resolved.",
    detail_mixins=(AdverseEventChange,),
)


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
        return ADVERSE_EVENTS.queryset(self.request)

    def act(self, record: Any, data: dict[str, Any]) -> None:
        adverse_event_mark_reported(
            actor=actor_of(self.request), event_id=record.id, at=data.get("report_submitted_at")
        )


@extend_schema_view(
    post=extend_schema(
        request=s.SponsorNotifiedInputSerializer,
        responses=write_responses(200, s.AdverseEventSerializer),
        description="Record that the investigator told the sponsor of the event (21 CFR 312.64(b)); the "
        "`sponsor_notification` reminder is resolved. 409 `illegal_transition` when the event is not reported under "
        "a clinical investigation (no sponsor) or the notification is already recorded; 400 on "
        "`sponsor_notified_at` before awareness or in the future.",
    )
)
class AdverseEventSponsorNotified(RecordActionView):
    serializer_class = s.AdverseEventSerializer
    input_serializer_class = s.SponsorNotifiedInputSerializer
    permission_classes = PATIENT_DATA

    def get_queryset(self) -> QuerySet:
        return ADVERSE_EVENTS.queryset(self.request)

    def act(self, record: Any, data: dict[str, Any]) -> None:
        adverse_event_sponsor_notified(
            actor=actor_of(self.request), event_id=record.id, at=data.get("sponsor_notified_at")
        )


# Monitoring: scheduled checks and reminders ----------------------------------------------------------------


CHECKS = Records(
    selector=selectors.checks_visible_to,
    ordering=("due_at", "id"),
    serializer=s.ScheduledCheckSerializer,
    permission_classes=PATIENT_DATA,
    filterset=filters.ScheduledCheckFilter,
)

ScheduledCheckList, ScheduledCheckDetail = record_views(
    "ScheduledCheck",
    CHECKS,
    doc="The monitoring schedule: what each patient is due, from the product's protocol or a toxicity escalation\n"
    "(read-only; clinical records complete the checks).",
)

URGENT_FIRST = Case(When(severity=Severity.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField())

# Open to every signed-in role: tracker.selectors.reminders_visible_to decides which reminders each one sees.
REMINDERS = Records(
    selector=selectors.reminders_visible_to,
    ordering=(URGENT_FIRST, "due_at", "id"),
    serializer=s.ReminderSerializer,
    permission_classes=[IsAuthenticated],
    filterset=filters.ReminderFilter,
)

ReminderList, ReminderDetail = record_views(
    "Reminder",
    REMINDERS,
    doc="Reminders of the caller's facilities, urgent first, then by due time. The manufacturing role sees only\n"
    "product-side reminders (no patient).",
)


class ReminderActionView(RecordActionView):
    serializer_class = s.ReminderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet:
        return REMINDERS.queryset(self.request)


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
