"""URLs of the read models: the patient timeline and the FHIR export."""

from django.urls import path

from tracker.api import reading_views

urlpatterns = [
    path("patients/<int:id>/timeline/", reading_views.PatientTimelineView.as_view(), name="patient-timeline"),
    path("patients/<int:id>/fhir/", reading_views.PatientFhirView.as_view(), name="patient-fhir"),
]
