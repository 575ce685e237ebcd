from django.urls import path

from tracker import views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/<int:patient_id>/", views.patient_page, name="patient-page"),
    path(
        "patients/<int:patient_id>/reminders/<int:reminder_id>/acknowledge/",
        views.reminder_acknowledge_page,
        name="reminder-acknowledge-page",
    ),
]
