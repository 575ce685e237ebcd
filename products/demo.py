"""Demo data for the product side; idempotent (get_or_create on stable codes)."""

from django.conf import settings

from products.choices import FacilityKind, Role
from products.models import Facility
from products.services.accounts import user_create

DEMO_FACILITIES = [
    ("north-apheresis", "North Apheresis Centre", FacilityKind.COLLECTION, "W1234"),
    ("cellworks-mfg", "CellWorks Manufacturing", FacilityKind.MANUFACTURING, "W5678"),
    ("city-hospital", "City Hospital Cell Therapy Unit", FacilityKind.TREATMENT, "W4321"),
    ("river-hospital", "River Hospital Haematology", FacilityKind.TREATMENT, "W8765"),
]

# (username, role, facilities). Password: "<username>-demo" (documented in the README; DEBUG only).
DEMO_USERS = [
    ("coordinator", Role.COORDINATOR, ["north-apheresis", "city-hospital"]),
    ("clinician", Role.CLINICIAN, ["city-hospital"]),
    ("clinician-river", Role.CLINICIAN, ["river-hospital"]),
    ("qa", Role.QA, ["cellworks-mfg"]),
    ("manufacturing", Role.MANUFACTURING, ["cellworks-mfg"]),
    ("integration", Role.INTEGRATION, ["north-apheresis", "cellworks-mfg", "city-hospital", "river-hospital"]),
]


def demo_password(username: str) -> str:
    return f"{username}-demo"


def seed_facilities() -> dict[str, Facility]:
    facilities = {}
    for code, name, kind, fin in DEMO_FACILITIES:
        facility, _ = Facility.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "fin": fin})
        facilities[code] = facility
    return facilities


def seed_users() -> list[str]:
    """Demo logins exist only with DEBUG on: their passwords are public."""
    if not settings.DEBUG:
        return []
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    created = []
    for username, role, facility_codes in DEMO_USERS:
        if user_model.objects.filter(username=username).exists():
            continue
        user_create(username=username, roles=[role], facility_codes=facility_codes, password=demo_password(username))
        created.append(username)
    if not user_model.objects.filter(username="admin").exists():
        user_model.objects.create_superuser("admin", "admin@example.org", demo_password("admin"))
        created.append("admin")
    return created
