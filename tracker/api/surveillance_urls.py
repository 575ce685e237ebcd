"""URLs of post-market surveillance: the summary (JSON and CSV), registry documents, lost to follow-up, transfers."""

from django.urls import path

from tracker.api import surveillance

urlpatterns = [
    path("surveillance/summary/", surveillance.SurveillanceSummaryView.as_view(), name="surveillance-summary"),
    path(
        "surveillance/summary.csv", surveillance.SurveillanceSummaryCsvView.as_view(), name="surveillance-summary-csv"
    ),
]
