"""Demo data for the product side; idempotent (get_or_create on stable codes)."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from products.choices import FacilityKind, Modality, Role, Source
from products.models import Facility, MonitoringProtocol, Product
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
    ("safety", Role.SAFETY, ["city-hospital"]),
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


CART_SPEC = [
    {"test": "viability", "name": "Viability", "unit": "%", "min": Decimal("70")},
    {"test": "car_expression", "name": "CAR expression", "unit": "%", "min": Decimal("15")},
    {"test": "vcn", "name": "Vector copy number", "unit": "copies/cell", "max": Decimal("5")},
    {"test": "sterility", "name": "Sterility", "expected": "negative"},
    {"test": "mycoplasma", "name": "Mycoplasma", "expected": "negative"},
    {"test": "endotoxin", "name": "Endotoxin", "unit": "EU/mL", "max": Decimal("5")},
]
CART_PASSING = {
    "viability": "91.5",
    "car_expression": "42",
    "vcn": "1.8",
    "sterility": "negative",
    "mycoplasma": "negative",
    "endotoxin": "0.4",
}
MSC_SPEC = [
    {"test": "viability", "name": "Viability", "unit": "%", "min": Decimal("80")},
    {"test": "cd73_cd90_cd105", "name": "CD73/CD90/CD105 positive", "unit": "%", "min": Decimal("95")},
    {"test": "sterility", "name": "Sterility", "expected": "negative"},
]


def seed_products(actor: User) -> dict[str, Product]:
    """A gene-modified autologous CAR-T and an allogeneic MSC product with their release specifications."""
    from products.services.catalog import product_create

    catalogue: dict[str, dict[str, Any]] = {  # product_create's arguments, with the protocol's code
        "demo-cart": dict(
            name="Demo CAR-T (anti-CD19)",
            modality=Modality.CAR_T,
            source=Source.AUTOLOGOUS,
            gene_modified=True,
            cryopreserved=True,
            shelf_life_days=270,
            shelf_life_after_thaw_minutes=90,
            storage_max_temp_c=Decimal("-120"),
            dose_unit="cells_per_kg",
            protocol="car_t_standard",
            spec=CART_SPEC,
        ),
        "demo-msc": dict(
            name="Demo MSC (bone-marrow derived)",
            modality=Modality.MSC,
            source=Source.ALLOGENEIC,
            gene_modified=False,
            cryopreserved=True,
            shelf_life_days=365,
            shelf_life_after_thaw_minutes=180,
            storage_max_temp_c=Decimal("-135"),
            dose_unit="cells_per_kg",
            protocol="msc_standard",
            spec=MSC_SPEC,
            # 21 CFR 1271.85(a) for every donor, (b) HTLV-I/II and CMV: marrow is viable and leukocyte-rich.
            required_donor_tests=["hiv_1_2", "hbv", "hcv", "syphilis", "htlv_1_2", "cmv"],
            hla_match_min=0,
        ),
    }
    products = {}
    for code, fields in catalogue.items():
        existing = Product.objects.filter(code=code).first()
        if existing is not None:
            products[code] = existing
            continue
        protocol = MonitoringProtocol.objects.get(code=fields.pop("protocol"))
        spec = fields.pop("spec")
        products[code] = product_create(
            actor=actor, monitoring_protocol=protocol, release_spec=spec, code=code, **fields
        )
    return products
