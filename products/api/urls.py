from django.urls import path

from products.api import labels, views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("me/", views.MeView.as_view(), name="me"),
    path("facilities/", views.FacilityListCreate.as_view(), name="facility-list"),
    path("facilities/<slug:code>/", views.FacilityDetail.as_view(), name="facility-detail"),
    path("products/", views.ProductListCreate.as_view(), name="product-list"),
    path("products/<slug:code>/", views.ProductDetail.as_view(), name="product-detail"),
    path("collections/", views.CollectionListCreate.as_view(), name="collection-list"),
    path("collections/<int:id>/", views.CollectionDetail.as_view(), name="collection-detail"),
    path("collections/<int:id>/label.pdf", labels.CollectionLabelView.as_view(), name="collection-label"),
    path("batches/", views.BatchListCreate.as_view(), name="batch-list"),
    path("batches/<int:id>/", views.BatchDetail.as_view(), name="batch-detail"),
    path("batches/<int:id>/steps/", views.BatchStepListCreate.as_view(), name="batch-steps"),
    path("batches/<int:id>/qc-results/", views.BatchQCResultListCreate.as_view(), name="batch-qc-results"),
    path(
        "batches/<int:id>/qc-results/<int:result_id>/invalidate/",
        views.QCResultInvalidate.as_view(),
        name="batch-qc-result-invalidate",
    ),
    path("batches/<int:id>/complete/", views.BatchComplete.as_view(), name="batch-complete"),
    path("batches/<int:id>/review/", views.BatchReleaseReview.as_view(), name="batch-review"),
    path("batches/<int:id>/release/", views.BatchRelease.as_view(), name="batch-release"),
    path("batches/<int:id>/reject/", views.BatchReject.as_view(), name="batch-reject"),
    path("units/", views.UnitListCreate.as_view(), name="unit-list"),
    path("units/<str:unit_id>/", views.UnitDetail.as_view(), name="unit-detail"),
    path("units/<str:unit_id>/custody/", views.UnitCustodyListCreate.as_view(), name="unit-custody"),
    path("units/<str:unit_id>/label.pdf", labels.UnitLabelView.as_view(), name="unit-label"),
    path("holds/", views.HoldListCreate.as_view(), name="hold-list"),
    path("holds/<int:id>/", views.HoldDetail.as_view(), name="hold-detail"),
    path("holds/<int:id>/decide/", views.HoldDecide.as_view(), name="hold-decide"),
]
