from django.urls import path

from tracker import bedside_page, views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/<int:patient_id>/", views.patient_page, name="patient-page"),
    path("bedside/", bedside_page.bedside_page, name="bedside"),
    path(
        "patients/<int:patient_id>/reminders/<int:reminder_id>/acknowledge/",
        views.reminder_acknowledge_page,
        name="reminder-acknowledge-page",
    ),
]
