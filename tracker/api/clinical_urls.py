"""URLs of the bedside, clinical records and reminders."""

from django.urls import path

from tracker.api import clinical_views as views

urlpatterns = [
    path("administrations/", views.AdministrationListCreate.as_view(), name="administration-list"),
    path("administrations/<int:id>/", views.AdministrationDetail.as_view(), name="administration-detail"),
    path("administrations/<int:id>/void/", views.AdministrationVoid.as_view(), name="administration-void"),
    path(
        "administrations/<int:id>/correct-time/",
        views.AdministrationCorrectTime.as_view(),
        name="administration-correct-time",
    ),
    path("assessments/", views.AssessmentListCreate.as_view(), name="assessment-list"),
    path("assessments/<int:id>/", views.AssessmentDetail.as_view(), name="assessment-detail"),
    path("interventions/", views.InterventionListCreate.as_view(), name="intervention-list"),
    path("interventions/<int:id>/", views.InterventionDetail.as_view(), name="intervention-detail"),
    path("conditioning/", views.ConditioningListCreate.as_view(), name="conditioning-list"),
    path("conditioning/<int:id>/", views.ConditioningDetail.as_view(), name="conditioning-detail"),
    path("adverse-events/", views.AdverseEventListCreate.as_view(), name="adverse-event-list"),
    path("adverse-events/<int:id>/", views.AdverseEventDetail.as_view(), name="adverse-event-detail"),
    path(
        "adverse-events/<int:id>/report-submitted/",
        views.AdverseEventReportSubmitted.as_view(),
        name="adverse-event-report-submitted",
    ),
    path(
        "adverse-events/<int:id>/sponsor-notified/",
        views.AdverseEventSponsorNotified.as_view(),
        name="adverse-event-sponsor-notified",
    ),
    path("follow-up-visits/", views.FollowUpVisitListCreate.as_view(), name="follow-up-visit-list"),
    path("follow-up-visits/<int:id>/", views.FollowUpVisitDetail.as_view(), name="follow-up-visit-detail"),
    path("checks/", views.ScheduledCheckList.as_view(), name="check-list"),
    path("checks/<int:id>/", views.ScheduledCheckDetail.as_view(), name="check-detail"),
    path("reminders/", views.ReminderList.as_view(), name="reminder-list"),
    path("reminders/<int:id>/", views.ReminderDetail.as_view(), name="reminder-detail"),
    path("reminders/<int:id>/acknowledge/", views.ReminderAcknowledge.as_view(), name="reminder-acknowledge"),
    path("reminders/<int:id>/resolve/", views.ReminderResolve.as_view(), name="reminder-resolve"),
]
