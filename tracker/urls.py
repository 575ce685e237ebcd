from django.urls import path

from tracker import bedside_page, surveillance_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/<int:patient_id>/", views.patient_page, name="patient-page"),
    path("bedside/", bedside_page.bedside_page, name="bedside"),
    path(
        "patients/<int:patient_id>/reminders/<int:reminder_id>/acknowledge/",
        views.reminder_acknowledge_page,
        name="reminder-acknowledge-page",
    ),
    # post-market surveillance and long-term follow-up
    path("surveillance/", surveillance_views.surveillance_page, name="surveillance"),
    path("follow-up/lost/", surveillance_views.lost_to_follow_up_page, name="lost-to-follow-up-page"),
    path("patients/<int:patient_id>/transfer/", surveillance_views.patient_transfer_page, name="patient-transfer-page"),
    path("patients/<int:patient_id>/registry/", surveillance_views.patient_registry_page, name="patient-registry-page"),
]
