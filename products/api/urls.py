from django.urls import path

from products.api import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("me/", views.MeView.as_view(), name="me"),
    path("facilities/", views.FacilityListCreate.as_view(), name="facility-list"),
    path("facilities/<slug:code>/", views.FacilityDetail.as_view(), name="facility-detail"),
]
