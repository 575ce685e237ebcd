"""URLs of the read models: the patient timeline and the FHIR export."""

urlpatterns: list = []
