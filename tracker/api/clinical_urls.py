"""URLs of the bedside, clinical records and reminders."""

urlpatterns: list = []
