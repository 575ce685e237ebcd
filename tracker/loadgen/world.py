"""The programme the generated patients belong to: facilities, their staff and the product catalogue.

A few dozen rows, written through the ORM and the catalogue service (product_create checks the release
specification and the storage range as for any product). Everything is named `load-...`, so the generated
world never meets demo data or another load in the same database.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User

from products.choices import DoseUnit, FacilityKind, Modality, Role, Source
from products.models import Facility, FacilityMembership, MonitoringProtocol, Product, ReleaseTest
from products.services.catalog import product_create

PREFIX = "load"

# (code suffix, FIN) of each kind. Hospitals take patients by Zipf's law (the first is the busiest), as
# referral centres do; the FINs start with L so they meet no other facility's.
COLLECTION_SITES = [("apheresis-1", "L0101"), ("apheresis-2", "L0102"), ("apheresis-3", "L0103")]
FACTORIES = [("factory-1", "L0201"), ("factory-2", "L0202")]
HOSPITALS = [(f"hospital-{n:02d}", f"L03{n:02d}") for n in range(1, 11)]
CLINICIANS_PER_HOSPITAL = 3

# What the generated batches are tested for; values that pass, as a factory's release report would have them.
CAR_T_SPEC = [
    {"test": "viability", "name": "Viability", "unit": "%", "min": Decimal("70")},
    {"test": "car_expression", "name": "CAR expression", "unit": "%", "min": Decimal("15")},
    {"test": "vcn", "name": "Vector copy number", "unit": "copies/cell", "max": Decimal("5")},
    {"test": "sterility", "name": "Sterility", "expected": "negative"},
    {"test": "endotoxin", "name": "Endotoxin", "unit": "EU/mL", "max": Decimal("5")},
]
TIL_SPEC = [
    {"test": "viability", "name": "Viability", "unit": "%", "min": Decimal("70")},
    {"test": "cd3_purity", "name": "CD3+ purity", "unit": "%", "min": Decimal("90")},
    {"test": "sterility", "name": "Sterility", "expected": "negative"},
    {"test": "endotoxin", "name": "Endotoxin", "unit": "EU/mL", "max": Decimal("5")},
]
# (code, name, modality, gene modified, protocol, spec, share of the patients)
CATALOGUE = [
    ("cart-cd19", "Anti-CD19 CAR-T", Modality.CAR_T, True, "car_t_standard", CAR_T_SPEC, 0.5),
    ("cart-bcma", "Anti-BCMA CAR-T", Modality.CAR_T, True, "car_t_standard", CAR_T_SPEC, 0.4),
    ("til-melanoma", "Tumour-infiltrating lymphocytes", Modality.TIL, False, "msc_standard", TIL_SPEC, 0.1),
]


@dataclass
class LoadProduct:
    product: Product
    share: float
    spec: list[ReleaseTest]


@dataclass
class World:
    collection_sites: list[Facility]
    factories: list[Facility]
    hospitals: list[Facility]
    # Staff by facility id: who records, verifies and signs there.
    coordinators: dict[int, User]
    clinicians: dict[int, list[User]]
    qa: dict[int, User]
    manufacturing: dict[int, User]
    products: list[LoadProduct] = field(default_factory=list)


def _facility(code: str, name: str, kind: str, fin: str) -> Facility:
    facility, _ = Facility.objects.get_or_create(
        code=f"{PREFIX}-{code}", defaults={"name": name, "kind": kind, "fin": fin}
    )
    return facility


def _user(username: str, role: str, facilities: list[Facility], *, first: str, last: str) -> User:
    """Staff reach the API with tokens (the benchmark issues its own): no password is set."""
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        user = users.create(username=username, first_name=first, last_name=last, email=f"{username}@{PREFIX}.invalid")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=role)])
    for facility in facilities:
        FacilityMembership.objects.get_or_create(user=user, facility=facility)
    return user


def build_world() -> World:
    collection_sites = [
        _facility(code, f"Apheresis Centre {n}", FacilityKind.COLLECTION, fin)
        for n, (code, fin) in enumerate(COLLECTION_SITES, 1)
    ]
    factories = [
        _facility(code, f"Cell Factory {n}", FacilityKind.MANUFACTURING, fin)
        for n, (code, fin) in enumerate(FACTORIES, 1)
    ]
    hospitals = [
        _facility(code, f"Hospital {n}", FacilityKind.TREATMENT, fin) for n, (code, fin) in enumerate(HOSPITALS, 1)
    ]
    world = World(
        collection_sites=collection_sites,
        factories=factories,
        hospitals=hospitals,
        coordinators={},
        clinicians={},
        qa={},
        manufacturing={},
    )
    for n, hospital in enumerate(hospitals, 1):
        # A hospital's coordinator also works at the apheresis centre its patients are collected at.
        site = collection_sites[(n - 1) % len(collection_sites)]
        world.coordinators[hospital.id] = _user(
            f"{PREFIX}-coordinator-{n:02d}", Role.COORDINATOR, [hospital, site], first="Coordinator", last=f"H{n}"
        )
        world.clinicians[hospital.id] = [
            _user(f"{PREFIX}-clinician-{n:02d}-{k}", Role.CLINICIAN, [hospital], first="Clinician", last=f"H{n}-{k}")
            for k in range(1, CLINICIANS_PER_HOSPITAL + 1)
        ]
    for n, factory in enumerate(factories, 1):
        world.qa[factory.id] = _user(f"{PREFIX}-qa-{n}", Role.QA, [factory], first="QA", last=f"F{n}")
        world.manufacturing[factory.id] = _user(
            f"{PREFIX}-manufacturing-{n}", Role.MANUFACTURING, [factory], first="Operator", last=f"F{n}"
        )
    catalogue_actor = world.coordinators[hospitals[0].id]
    for code, name, modality, gene_modified, protocol, spec, share in CATALOGUE:
        product = Product.objects.filter(code=f"{PREFIX}-{code}").first() or product_create(
            actor=catalogue_actor,
            monitoring_protocol=MonitoringProtocol.objects.get(code=protocol),
            release_spec=spec,  # type: ignore[arg-type]
            code=f"{PREFIX}-{code}",
            name=name,
            modality=modality,
            source=Source.AUTOLOGOUS,
            gene_modified=gene_modified,
            cryopreserved=True,
            shelf_life_days=270,
            shelf_life_after_thaw_minutes=90,
            storage_max_temp_c=Decimal("-120"),
            dose_unit=DoseUnit.CELLS,
        )
        world.products.append(LoadProduct(product, share, list(product.release_spec.order_by("test"))))
    return world
