"""The access matrix: every API route and every admin changelist, for every role, on a record of the user's own
facilities and on one of another facility, against the answer the tables below state.

The routes come from the URL configuration (django.urls' resolver) and the admin's registry: a new route or
admin without a row here fails `test_every_route_and_changelist_has_a_rule`. The expectations are data, one row
per route: (answer on our record, answer on the other facility's), per role. On the API another facility's
record answers 404, exactly as a record that does not exist (tests/api/test_no_leaks.py compares the bodies);
in the admin it is not listed.

Two hospitals' worlds are built through the services, each with its own facilities and users and a patient's
whole journey; the users are world A's. Each request runs in a savepoint rolled back afterwards, so that what one
role's POST changes never changes another's answer.
"""

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from products.choices import FacilityKind, Role
from products.models import Facility, MonitoringProtocol
from products.services.catalog import product_create
from products.services.holds import hold_open
from products.services.tokens import token_issue
from tests import allogeneic, journey
from tests.factories import FacilityFactory, UserFactory
from tracker.models import Webhook
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db

ROLES = ("coordinator", "clinician", "qa", "manufacturing", "integration", "superuser", "anonymous")
LISTED, HIDDEN = "listed", "hidden"
SEEN, OTHERS_TOO, NOT_SEEN, FORBIDDEN = (LISTED, HIDDEN), (LISTED, LISTED), (HIDDEN, HIDDEN), (403, 403)

# Rows the tables share: one answer per role, (own facility, other facility), in ROLES' order.
PUBLIC = dict(zip(ROLES, [(200, 200)] * 7, strict=True))
SIGNED_IN = dict(zip(ROLES, [(200, 200)] * 6 + [(401, 401)], strict=True))
REFERENCE_LIST = dict(zip(ROLES, [(LISTED, LISTED)] * 6 + [(401, 401)], strict=True))
# The product side: every role of world A sees its chain (collected at the coordinator's centre, made at QA's
# and manufacturing's factory, given at the clinician's hospital); nobody but a superuser sees world B's.
PRODUCT = dict(zip(ROLES, [(200, 404)] * 5 + [(200, 200), (401, 401)], strict=True))
PRODUCT_LIST = dict(zip(ROLES, [(LISTED, HIDDEN)] * 5 + [(LISTED, LISTED), (401, 401)], strict=True))
# The patient side: the hospital's staff; QA's factory has no patients; the manufacturing role none at all.
PATIENT = dict(
    zip(ROLES, [(200, 404), (200, 404), (404, 404), (403, 403), (200, 404), (200, 200), (401, 401)], strict=True)
)
PATIENT_LIST = dict(zip(ROLES, [SEEN, SEEN, NOT_SEEN, FORBIDDEN, SEEN, OTHERS_TOO, (401, 401)], strict=True))
# Reminders about a patient: as the patient side, but the manufacturing role reads reminders (product-side ones).
PATIENT_REMINDER = PATIENT | {"manufacturing": (404, 404)}
PATIENT_REMINDER_LIST = PATIENT_LIST | {"manufacturing": (HIDDEN, HIDDEN)}
# The surveillance figures: coordinators and superusers of these roles (and the safety role, which the matrix's
# worlds do not hold: tests/api/test_surveillance_api.py); aggregates, so no record is named.
SURVEILLANCE = dict(
    zip(ROLES, [(200, 200), (403, 403), (403, 403), (403, 403), (403, 403), (200, 200), (401, 401)], strict=True)
)
# Patients lost to follow-up: coordinators' work, a list of patients (the answer's status only: nobody is lost).
LOST_TO_FOLLOW_UP = SURVEILLANCE
# Webhooks: coordinators only.
COORDINATORS = dict(
    zip(ROLES, [(200, 404), (403, 403), (403, 403), (403, 403), (403, 403), (200, 200), (401, 401)], strict=True)
)
COORDINATORS_LIST = COORDINATORS | {"coordinator": (LISTED, HIDDEN), "superuser": (LISTED, LISTED)}
# Donors: patient-side routes (closed to the manufacturing role), a donor seen where the donor's cells go: the
# collection site (coordinator), the manufacturing site (QA) and integrations; not the treating hospital.
DONOR = PATIENT | {"clinician": (404, 404), "qa": (200, 404)}
DONOR_LIST = PATIENT_LIST | {"clinician": NOT_SEEN, "qa": SEEN}


def posting(row: dict[str, tuple[Any, Any]], own: Any) -> dict[str, tuple[Any, Any]]:
    """An action POSTed with an empty body: the record is looked up first (404 when not yours), then the input
    is checked (`own`, usually 400) for whoever may reach the record."""
    return {role: (own if a == 200 else a, b if b != 200 else own) for role, (a, b) in row.items()}


@dataclass(frozen=True)
class ApiRule:
    model: str | None  # the record the route names (None: no record, e.g. `me/`)
    kwargs: dict[str, str]  # URL kwarg -> attribute of the record
    key: str | None  # a list: the field of each result that identifies the record
    expect: dict[str, tuple[Any, Any]]


API: dict[str, ApiRule] = {
    "health": ApiRule(None, {}, None, PUBLIC),
    "me": ApiRule(None, {}, None, SIGNED_IN),
    "facility-list": ApiRule("products.Facility", {}, "code", REFERENCE_LIST),
    "facility-detail": ApiRule("products.Facility", {"code": "code"}, None, SIGNED_IN),
    "product-list": ApiRule("products.Product", {}, "code", REFERENCE_LIST),
    "product-detail": ApiRule("products.Product", {"code": "code"}, None, SIGNED_IN),
    "collection-list": ApiRule("products.Collection", {}, "id", PRODUCT_LIST),
    "collection-detail": ApiRule("products.Collection", {"id": "pk"}, None, PRODUCT),
    "collection-label": ApiRule("products.Collection", {"id": "pk"}, None, PRODUCT),
    "batch-list": ApiRule("products.Batch", {}, "id", PRODUCT_LIST),
    "batch-detail": ApiRule("products.Batch", {"id": "pk"}, None, PRODUCT),
    "batch-steps": ApiRule("products.Batch", {"id": "pk"}, None, PRODUCT),
    "batch-qc-results": ApiRule("products.Batch", {"id": "pk"}, None, PRODUCT),
    "batch-qc-result-invalidate": ApiRule(
        "products.QCResult", {"id": "batch_id", "result_id": "pk"}, None, posting(PRODUCT, 400)
    ),
    # Only the roles that make batches complete one (403 for the others); ours is released already (409).
    "batch-complete": ApiRule(
        "products.Batch", {"id": "pk"}, None, posting(PRODUCT, 409) | {"clinician": (403, 404), "qa": (403, 404)}
    ),
    "batch-review": ApiRule("products.Batch", {"id": "pk"}, None, PRODUCT),
    "batch-release": ApiRule("products.Batch", {"id": "pk"}, None, posting(PRODUCT, 400)),
    "batch-reject": ApiRule("products.Batch", {"id": "pk"}, None, posting(PRODUCT, 400)),
    "unit-list": ApiRule("products.Unit", {}, "unit_id", PRODUCT_LIST),
    "unit-detail": ApiRule("products.Unit", {"unit_id": "unit_id"}, None, PRODUCT),
    "unit-label": ApiRule("products.Unit", {"unit_id": "unit_id"}, None, PRODUCT),
    "unit-custody": ApiRule("products.Unit", {"unit_id": "unit_id"}, None, PRODUCT),
    "hold-list": ApiRule("products.Hold", {}, "id", PRODUCT_LIST),
    "hold-detail": ApiRule("products.Hold", {"id": "pk"}, None, PRODUCT),
    "hold-decide": ApiRule("products.Hold", {"id": "pk"}, None, posting(PRODUCT, 400)),
    "patient-list": ApiRule("tracker.Patient", {}, "id", PATIENT_LIST),
    "patient-detail": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "patient-weight-list": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "patient-timeline": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "patient-fhir": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "patient-wristband": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "bedside-check-list": ApiRule("tracker.BedsideCheck", {}, "id", PATIENT_LIST),
    "bedside-check-detail": ApiRule("tracker.BedsideCheck", {"id": "pk"}, None, PATIENT),
    "order-list": ApiRule("tracker.TherapyOrder", {}, "coi", PATIENT_LIST),
    "order-detail": ApiRule("tracker.TherapyOrder", {"coi": "coi"}, None, PATIENT),
    "order-plan": ApiRule("tracker.TherapyOrder", {"coi": "coi"}, None, posting(PATIENT, 400)),
    # The board: every signed-in role gets its own facilities' figures (the scoping is tests/tracker/test_board.py's).
    "board": ApiRule(None, {}, None, SIGNED_IN),
    "administration-list": ApiRule("tracker.Administration", {}, "id", PATIENT_LIST),
    "administration-detail": ApiRule("tracker.Administration", {"id": "pk"}, None, PATIENT),
    "administration-void": ApiRule("tracker.Administration", {"id": "pk"}, None, posting(PATIENT, 400)),
    "administration-correct-time": ApiRule("tracker.Administration", {"id": "pk"}, None, posting(PATIENT, 400)),
    "assessment-list": ApiRule("tracker.Assessment", {}, "id", PATIENT_LIST),
    "assessment-detail": ApiRule("tracker.Assessment", {"id": "pk"}, None, PATIENT),
    "intervention-list": ApiRule("tracker.Intervention", {}, "id", PATIENT_LIST),
    "intervention-detail": ApiRule("tracker.Intervention", {"id": "pk"}, None, PATIENT),
    "conditioning-list": ApiRule("tracker.Conditioning", {}, "id", PATIENT_LIST),
    "conditioning-detail": ApiRule("tracker.Conditioning", {"id": "pk"}, None, PATIENT),
    "adverse-event-list": ApiRule("tracker.AdverseEvent", {}, "id", PATIENT_LIST),
    "adverse-event-detail": ApiRule("tracker.AdverseEvent", {"id": "pk"}, None, PATIENT),
    "adverse-event-report-submitted": ApiRule("tracker.AdverseEvent", {"id": "pk"}, None, posting(PATIENT, 200)),
    # The matrix's event is not in a clinical investigation: whoever may reach it learns there is no sponsor (409).
    "adverse-event-sponsor-notified": ApiRule("tracker.AdverseEvent", {"id": "pk"}, None, posting(PATIENT, 409)),
    "follow-up-visit-list": ApiRule("tracker.FollowUpVisit", {}, "id", PATIENT_LIST),
    "follow-up-visit-detail": ApiRule("tracker.FollowUpVisit", {"id": "pk"}, None, PATIENT),
    "check-list": ApiRule("tracker.ScheduledCheck", {}, "id", PATIENT_LIST),
    "check-detail": ApiRule("tracker.ScheduledCheck", {"id": "pk"}, None, PATIENT),
    "reminder-list": ApiRule("tracker.Reminder", {}, "id", PATIENT_REMINDER_LIST),
    "reminder-detail": ApiRule("tracker.Reminder", {"id": "pk"}, None, PATIENT_REMINDER),
    "reminder-acknowledge": ApiRule("tracker.Reminder", {"id": "pk"}, None, posting(PATIENT_REMINDER, 200)),
    "reminder-resolve": ApiRule("tracker.Reminder", {"id": "pk"}, None, posting(PATIENT_REMINDER, 200)),
    "donor-list": ApiRule("products.Donor", {}, "id", DONOR_LIST),
    "donor-detail": ApiRule("products.Donor", {"id": "pk"}, None, DONOR),
    "donor-screening-list": ApiRule("products.Donor", {"id": "pk"}, None, DONOR),
    "donor-test-list": ApiRule("products.Donor", {"id": "pk"}, None, DONOR),
    "donor-determination": ApiRule("products.Donor", {"id": "pk"}, None, DONOR),
    # The first order of a world is autologous: nothing to allocate to it (409), whoever may see it.
    "order-allocate": ApiRule("tracker.TherapyOrder", {"coi": "coi"}, None, posting(PATIENT, 409)),
    "order-allocation-list": ApiRule("tracker.TherapyOrder", {"coi": "coi"}, None, PATIENT),
    "order-allocation-release": ApiRule(
        "products.Allocation", {"coi": "chain.coi", "allocation_id": "pk"}, None, posting(PATIENT, 400)
    ),
    "surveillance-summary": ApiRule(None, {}, None, SURVEILLANCE),
    "surveillance-summary-csv": ApiRule(None, {}, None, SURVEILLANCE),
    "lost-to-follow-up": ApiRule(None, {}, None, LOST_TO_FOLLOW_UP),
    "patient-registry": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "patient-transfers": ApiRule("tracker.Patient", {"id": "pk"}, None, PATIENT),
    "webhook-list": ApiRule("tracker.Webhook", {}, "id", COORDINATORS_LIST),
    "webhook-detail": ApiRule("tracker.Webhook", {"id": "pk"}, None, COORDINATORS),
}

# The admin: staff (coordinators, QA, manufacturing) see a changelist if their role has the model's view
# permission (403 otherwise), and in it only their facilities' records; clinicians and integrations are not
# staff, and like anonymous visitors are sent to the login page (302).
NOT_STAFF = {"clinician": (302, 302), "integration": (302, 302), "anonymous": (302, 302)}
SUPER = {"superuser": (LISTED, LISTED)}


def staff(coordinator: tuple, qa: tuple, manufacturing: tuple) -> dict[str, tuple[Any, Any]]:
    return {"coordinator": coordinator, "qa": qa, "manufacturing": manufacturing, **NOT_STAFF, **SUPER}


# An admin without facility-scoped records (accounts, login attempts, the audit log): the page's answer only.
UNSCOPED_SUPER = {"superuser": (200, 200)}

ADMIN: dict[str, dict[str, tuple[Any, Any]]] = {
    "products.Facility": staff(OTHERS_TOO, OTHERS_TOO, OTHERS_TOO),
    "products.FacilityMembership": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "products.ApiToken": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "auth.User": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "products.ChainOfIdentity": staff(SEEN, SEEN, SEEN),
    "products.Collection": staff(SEEN, SEEN, SEEN),
    "products.Hold": staff(SEEN, SEEN, SEEN),
    "products.Batch": staff(SEEN, SEEN, SEEN),
    "products.ProcessingStep": staff(SEEN, SEEN, SEEN),
    "products.QCResult": staff(SEEN, SEEN, SEEN),
    "products.Signature": staff(SEEN, SEEN, SEEN),
    "products.MonitoringProtocol": staff((200, 200), (200, 200), (403, 403)) | UNSCOPED_SUPER,
    "products.Product": staff(OTHERS_TOO, OTHERS_TOO, OTHERS_TOO),
    "products.Unit": staff(SEEN, SEEN, SEEN),
    "products.CustodyRecord": staff(SEEN, SEEN, SEEN),
    "products.Donor": staff(SEEN, SEEN, SEEN),
    "products.InventoryUnit": staff(SEEN, SEEN, SEEN),
    "tracker.DonorIdentity": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Patient": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.TherapyOrder": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Administration": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Conditioning": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Assessment": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Intervention": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.AdverseEvent": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.FollowUpVisit": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.PatientWeight": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.ScheduledCheck": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Reminder": staff(SEEN, NOT_SEEN, NOT_SEEN),
    "tracker.Notification": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "tracker.Webhook": staff(SEEN, FORBIDDEN, FORBIDDEN),
    "auth.Group": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN) | UNSCOPED_SUPER,
    "axes.AccessAttempt": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN) | UNSCOPED_SUPER,
    "axes.AccessLog": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN) | UNSCOPED_SUPER,
    "axes.AccessFailureLog": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN) | UNSCOPED_SUPER,
    "pghistory.Events": staff(FORBIDDEN, FORBIDDEN, FORBIDDEN) | UNSCOPED_SUPER,
}
# Admins whose records belong to no facility: only the page's status is checked.
UNSCOPED = {
    "products.MonitoringProtocol",
    "auth.Group",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
    "pghistory.Events",
}


# The routes, from the configuration ----------------------------------------------------------------------------


def api_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def admin_models() -> set[str]:
    return {model._meta.label for model in admin.site._registry}


def test_every_route_and_changelist_has_a_rule():
    assert api_route_names() == set(API), "a route without a rule, or a rule without a route"
    assert admin_models() == set(ADMIN), "an admin without a rule, or a rule without an admin"
    for name, rule in API.items():
        assert set(rule.expect) == set(ROLES), name
    for label, expect in ADMIN.items():
        assert set(expect) == set(ROLES), label


# The two worlds -------------------------------------------------------------------------------------------------


def world_b() -> journey.World:
    """Another hospital, with its own collection centre, factory and users: none of world A's."""
    sites = {
        "collection_site": FacilityFactory(code="b-apheresis", kind=FacilityKind.COLLECTION, fin="W2234"),
        "factory_site": FacilityFactory(code="b-factory", kind=FacilityKind.MANUFACTURING, fin="W2678"),
        "hospital": FacilityFactory(code="b-hospital", kind=FacilityKind.TREATMENT, fin="W2321"),
        "other_hospital": FacilityFactory(code="b-elsewhere", kind=FacilityKind.TREATMENT, fin="W2765"),
    }
    everywhere = [sites["collection_site"], sites["factory_site"], sites["hospital"]]
    return journey.World(
        **sites,
        coordinator=UserFactory(
            username="b-coord", roles=[Role.COORDINATOR], facilities=[sites["collection_site"], sites["hospital"]]
        ),
        clinician=UserFactory(username="b-doc", roles=[Role.CLINICIAN], facilities=[sites["hospital"]]),
        other_clinician=UserFactory(
            username="b-otherdoc", roles=[Role.CLINICIAN], facilities=[sites["other_hospital"]]
        ),
        qa=UserFactory(username="b-qa", roles=[Role.QA], facilities=[sites["factory_site"]]),
        manufacturing=UserFactory(username="b-mfg", roles=[Role.MANUFACTURING], facilities=[sites["factory_site"]]),
        integration=UserFactory(username="b-integ", roles=[Role.INTEGRATION], facilities=everywhere),
    )


def allogeneic_journey(world: journey.World) -> None:
    """An eligible donor, a released batch of units in inventory, and one of them allocated to an order."""
    product = allogeneic.msc_product(world, code=f"msc-{world.hospital.code}")
    donor = allogeneic.register_donor(world).donor
    assert donor is not None
    allogeneic.screen(world, donor)
    allogeneic.record_tests(world, donor)
    qa = UserFactory(
        username=f"qa-donors-{world.hospital.code}",
        roles=[Role.QA],
        facilities=[world.collection_site, world.factory_site],
    )
    allogeneic.determine(world, donor, signer=qa)
    allogeneic.donor_batch(world, allogeneic.donor_collection(world, donor, product))
    allogeneic.allocate(world, allogeneic.msc_order(world, product))


def journey_of(world: journey.World) -> None:
    """A patient's whole journey, a held bag, a webhook, a token, the reminders the scan raises, and an allogeneic
    unit allocated from inventory."""
    journey.storied_patient(world, days_ago=6)
    allogeneic_journey(world)
    product = journey.product_of(world)
    order = journey.make_order(world, product, journey.make_patient(world, mrn=f"HELD-{world.hospital.code}"))
    unit = journey.released_unit(world, order, unit_id=f"HELD-{world.hospital.code}")
    hold_open(actor=world.qa, kind="recall", reason="Access matrix", unit_id=unit.unit_id)
    Webhook.objects.create(name="ward", url="https://ehr.example.org/hook", secret="s" * 40, facility=world.hospital)
    token_issue(user=world.coordinator)
    monitoring_scan()


@dataclass
class Worlds:
    users: dict[str, Any]  # role -> world A's user (None: anonymous)
    own: dict[str, set[Any]]  # model label -> pks of world A's records
    other: dict[str, set[Any]]  # model label -> pks of world B's


def snapshot() -> dict[str, set[Any]]:
    return {model._meta.label: set(model.objects.values_list("pk", flat=True)) for model in apps.get_models()}


@pytest.fixture
def worlds(settings) -> Worlds:
    settings.API_THROTTLE_RATES = {"user": "100000/minute", "address": "100000/minute"}
    before = snapshot()
    a = journey.build_world()
    journey_of(a)
    after_a = snapshot()
    b = world_b()
    product_create(
        actor=b.coordinator,
        monitoring_protocol=MonitoringProtocol.objects.get(code="msc_standard"),
        release_spec=[{"test": "sterility", "expected": "negative"}],
        code="b-msc",
        name="B's MSC",
        modality="msc",
        source="allogeneic",
        cryopreserved=False,
    )
    journey_of(b)
    after_b = snapshot()
    superuser = UserFactory(username="root", facilities=[a.hospital])
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    users = {role: getattr(a, role) for role in ROLES if hasattr(a, role)}
    users |= {"superuser": superuser, "anonymous": None}
    own = {label: after_a[label] - before[label] for label in after_a}
    other = {label: after_b[label] - after_a[label] for label in after_b}
    # Reference data made by migrations (the standard protocols, the role groups) belongs to both.
    return Worlds(users=users, own=own, other=other)


# Asking --------------------------------------------------------------------------------------------------------


def rolled_back(call: Callable[[], Any]) -> Any:
    """The request's effects undone: one role's POST never changes what the next one sees."""
    savepoint = transaction.savepoint_create()
    try:
        return call()
    finally:
        transaction.savepoint_rollback(savepoint)


def api_answer(client: APIClient, name: str, rule: ApiRule, record: Model | None, listed_key: Any) -> Any:
    kwargs = {kwarg: attrgetter(attribute)(record) for kwarg, attribute in rule.kwargs.items()}
    path = reverse(name, kwargs=kwargs)
    view = get_resolver().resolve(path).func.view_class
    if "get" in view.http_method_names and hasattr(view, "get"):
        response = rolled_back(lambda: client.get(path, {"page_size": 500}))
    else:
        response = rolled_back(lambda: client.post(path, {}, format="json"))
    if rule.key is None or response.status_code != 200:
        return response.status_code
    return LISTED if listed_key in [result[rule.key] for result in response.json()["results"]] else HIDDEN


def admin_answer(client: Client, label: str, own: set[Any], other: set[Any]) -> tuple[Any, Any]:
    app_label, model_name = label.lower().split(".")
    response = rolled_back(lambda: client.get(reverse(f"admin:{app_label}_{model_name}_changelist"), {"all": ""}))
    if response.status_code != 200 or label in UNSCOPED:
        return response.status_code, response.status_code
    shown = {obj.pk for obj in response.context["cl"].result_list}
    return (LISTED if own & shown else HIDDEN), (LISTED if other & shown else HIDDEN)


def record_of(label: str, pks: set[Any]) -> Model:
    model = apps.get_model(label)
    assert pks, f"the worlds have no {label} to ask about: add one to journey_of()"
    return model.objects.get(pk=min(pks))


def test_every_role_gets_the_answer_the_matrix_states_on_its_own_and_another_facilitys_records(worlds):
    clients = {role: APIClient() for role in ROLES}
    for role, client in clients.items():
        if worlds.users[role] is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=worlds.users[role]).key}")
    observed_api: dict[str, dict[str, tuple[Any, Any]]] = {}
    for name, rule in sorted(API.items()):
        for role in ROLES:
            client = clients[role]
            if rule.model is None:
                answers = (api_answer(client, name, rule, None, None),) * 2
            else:
                records = [
                    record_of(rule.model, worlds.own[rule.model]),
                    record_of(rule.model, worlds.other[rule.model]),
                ]
                key = rule.key
                answers = tuple(
                    api_answer(client, name, rule, record, getattr(record, key) if key else None) for record in records
                )
            observed_api.setdefault(name, {})[role] = answers

    observed_admin: dict[str, dict[str, tuple[Any, Any]]] = {}
    for label in sorted(ADMIN):
        for role in ROLES:
            client = Client()
            if worlds.users[role] is not None:
                client.force_login(worlds.users[role])
            own = worlds.own.get(label, set())
            other = worlds.other.get(label, set())
            if label not in UNSCOPED:
                assert own and other, f"the worlds have no {label} of each facility to ask about"
            observed_admin.setdefault(label, {})[role] = admin_answer(client, label, own, other)

    api_differences = {
        f"{name} as {role}": {"expected": rule.expect[role], "observed": observed_api[name][role]}
        for name, rule in API.items()
        for role in ROLES
        if observed_api[name][role] != rule.expect[role]
    }
    admin_differences = {
        f"{label} as {role}": {"expected": expect[role], "observed": observed_admin[label][role]}
        for label, expect in ADMIN.items()
        for role in ROLES
        if observed_admin[label][role] != expect[role]
    }
    assert api_differences == {}
    assert admin_differences == {}
    assert Facility.objects.filter(code__startswith="b-").count() == 4
