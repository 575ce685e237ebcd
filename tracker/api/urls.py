from django.urls import path

from tracker.api import (
    allocations,
    bedside_checks,
    board,
    clinical_urls,
    donors,
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
    path("orders/<str:coi>/allocate/", allocations.OrderAllocate.as_view(), name="order-allocate"),
    path("orders/<str:coi>/allocations/", allocations.OrderAllocationList.as_view(), name="order-allocation-list"),
    path(
        "orders/<str:coi>/allocations/<int:allocation_id>/release/",
        allocations.OrderAllocationRelease.as_view(),
        name="order-allocation-release",
    ),
    path("donors/", donors.DonorListCreate.as_view(), name="donor-list"),
    path("donors/<int:id>/", donors.DonorDetail.as_view(), name="donor-detail"),
    path("donors/<int:id>/screenings/", donors.DonorScreeningListCreate.as_view(), name="donor-screening-list"),
    path("donors/<int:id>/tests/", donors.DonorTestListCreate.as_view(), name="donor-test-list"),
    path(
        "donors/<int:id>/determination/",
        donors.DonorDeterminationListCreate.as_view(),
        name="donor-determination",
    ),
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
