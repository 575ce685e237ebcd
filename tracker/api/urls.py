from django.urls import path

from tracker.api import (
    bedside_checks,
    board,
    clinical_urls,
    labels,
    planning,
    reading_urls,
    surveillance_urls,
    views,
    webhooks,
)

urlpatterns = [
    path("patients/", views.PatientListCreate.as_view(), name="patient-list"),
    path("patients/<int:id>/", views.PatientDetail.as_view(), name="patient-detail"),
    path("patients/<int:id>/weights/", views.PatientWeightListCreate.as_view(), name="patient-weight-list"),
    path("patients/<int:id>/wristband.pdf", labels.WristbandView.as_view(), name="patient-wristband"),
    path("orders/", views.OrderListCreate.as_view(), name="order-list"),
    path("orders/<str:coi>/", views.OrderDetail.as_view(), name="order-detail"),
    path("orders/<str:coi>/plan/", planning.OrderPlan.as_view(), name="order-plan"),
    path("bedside-checks/", bedside_checks.BedsideCheckListCreate.as_view(), name="bedside-check-list"),
    path("bedside-checks/<int:id>/", bedside_checks.BedsideCheckDetail.as_view(), name="bedside-check-detail"),
    # bedside, clinical records and reminders
    *clinical_urls.urlpatterns,
    # read models: patient timeline and FHIR export
    *reading_urls.urlpatterns,
    # the coordinators' board (the admin's home page, for integrations)
    path("board/", board.BoardView.as_view(), name="board"),
    # post-market surveillance: figures, registry documents, lost to follow-up, transfers
    *surveillance_urls.urlpatterns,
    path("webhooks/", webhooks.WebhookListCreate.as_view(), name="webhook-list"),
    path("webhooks/<int:id>/", webhooks.WebhookDetail.as_view(), name="webhook-detail"),
]
