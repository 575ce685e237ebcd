"""URLs of post-market surveillance: the summary (JSON and CSV), registry documents, lost to follow-up, transfers."""

from django.urls import path

from tracker.api import follow_up, surveillance

urlpatterns = [
    path("surveillance/summary/", surveillance.SurveillanceSummaryView.as_view(), name="surveillance-summary"),
    path(
        "surveillance/summary.csv", surveillance.SurveillanceSummaryCsvView.as_view(), name="surveillance-summary-csv"
    ),
    path("patients/lost-to-follow-up/", follow_up.LostToFollowUpList.as_view(), name="lost-to-follow-up"),
    path("patients/<int:id>/registry/", follow_up.PatientRegistryView.as_view(), name="patient-registry"),
    path("patients/<int:id>/transfers/", follow_up.PatientTransferListCreate.as_view(), name="patient-transfers"),
]
