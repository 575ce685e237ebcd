"""Fuzzing the API against the schema it serves (schemathesis), in-process over WSGI, on the real database.

Every operation of `/api/schema/` gets generated requests, valid and invalid (wrong types, missing fields,
boundary values, NUL characters, huge numbers, far dates, methods the path does not take). Each is sent twice,
with real tokens: as a user with broad rights (a superuser with every role and facility, so that requests reach
the services) and as a restricted one (the manufacturing role: no patient data, the product side of one site).
Path parameters are drawn from generated values and from the ids of records that exist, so that requests get
past the lookups. A run fails on any 5xx, a status code the operation does not document, a body or header
outside its documented schema, an undocumented content type, an undeclared method not answered 405, or an
operation that ignores missing credentials.

Bounded and deterministic for CI: FUZZ_EXAMPLES examples per operation and phase (default 10), the `examples` and
`fuzzing` phases, a fixed seed (FUZZ_SEED), schemathesis' `deterministic` generation and no example database.
To hunt for bugs, more, with the boundary-value phase too (about 20 minutes):

    FUZZ_EXAMPLES=100 FUZZ_PHASES=examples,coverage,fuzzing make test PYTEST_ARGS="tests/api/test_fuzzing.py"
"""

import contextlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from products.choices import Role
from products.models import Batch, Collection, Facility, Hold, Product, QCResult, Unit
from products.services.holds import hold_open
from products.services.tokens import token_issue
from tests import journey
from tests.factories import UserFactory
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    BedsideCheck,
    Conditioning,
    FollowUpVisit,
    Intervention,
    Patient,
    Reminder,
    ScheduledCheck,
    TherapyOrder,
    Webhook,
)
from tracker.services.scan import monitoring_scan

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
FUZZ_PHASES = set(os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(","))

CHECKS = {
    "not_a_server_error": {"enabled": True},
    "status_code_conformance": {"enabled": True},
    "content_type_conformance": {"enabled": True},
    "response_schema_conformance": {"enabled": True},
    "response_headers_conformance": {"enabled": True},
    "ignored_auth": {"enabled": True},
    "unsupported_method": {"enabled": True},
    # Rules the schema cannot state (a unit may be given once, QC needs a batch in process...) refuse much of what
    # the schema allows, and the fuzzer cannot know which ids exist: acceptance of valid data is the other
    # tests' business.
    "positive_data_acceptance": {"enabled": False},
    "negative_data_rejection": {"enabled": False},
    "use_after_free": {"enabled": False},
    "ensure_resource_availability": {"enabled": False},
    "missing_required_header": {"enabled": False},
    "object_level_authorization": {"enabled": False},
    "allow_header_conformance": {"enabled": False},
}


def fuzz_config() -> SchemathesisConfig:
    # No example database: a failure saved by an earlier run (in .hypothesis/) is never replayed, so a run depends
    # on the seed and the code alone.
    generation = {"mode": "all", "max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none"}
    return SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "suppress-health-check": ["all"],
            "generation": generation,
            "checks": CHECKS,
            "phases": {
                **{phase: {"enabled": phase in FUZZ_PHASES} for phase in ("examples", "coverage", "fuzzing")},
                "stateful": {"enabled": False},
            },
        }
    )


@dataclass
class Known:
    """Values of path parameters that name existing records, by the path they appear in."""

    values: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def add(self, prefix: str, parameter: str, values: list[Any]) -> None:
        self.values.setdefault((prefix, parameter), []).extend(v for v in values if v not in (None, ""))

    def for_path(self, path: str, parameter: str) -> list[Any]:
        # The longest prefix naming this parameter: `batches/{id}/qc-results/{result_id}/` has both.
        matches = [(p, v) for (p, name), v in self.values.items() if name == parameter and path.startswith(p)]
        return max(matches, key=lambda m: len(m[0]))[1] if matches else []


def record_ids() -> Known:
    known = Known()
    by_prefix = {
        "/api/v1/administrations/": Administration,
        "/api/v1/adverse-events/": AdverseEvent,
        "/api/v1/assessments/": Assessment,
        "/api/v1/batches/": Batch,
        "/api/v1/bedside-checks/": BedsideCheck,
        "/api/v1/checks/": ScheduledCheck,
        "/api/v1/collections/": Collection,
        "/api/v1/conditioning/": Conditioning,
        "/api/v1/follow-up-visits/": FollowUpVisit,
        "/api/v1/holds/": Hold,
        "/api/v1/interventions/": Intervention,
        "/api/v1/patients/": Patient,
        "/api/v1/reminders/": Reminder,
        "/api/v1/webhooks/": Webhook,
    }
    for prefix, model in by_prefix.items():
        known.add(prefix, "id", list(model.objects.values_list("id", flat=True)))
    known.add("/api/v1/batches/{id}/qc-results/", "result_id", list(QCResult.objects.values_list("id", flat=True)))
    known.add("/api/v1/units/", "unit_id", list(Unit.objects.values_list("unit_id", flat=True)))
    known.add("/api/v1/orders/", "coi", list(TherapyOrder.objects.values_list("chain__coi", flat=True)))
    known.add("/api/v1/facilities/", "code", list(Facility.objects.values_list("code", flat=True)))
    known.add("/api/v1/products/", "code", list(Product.objects.values_list("code", flat=True)))
    return known


def build_records() -> journey.World:
    """Records at every stage, each made by the services: the ids the fuzzer's path parameters may name."""
    world = journey.build_world()
    product = journey.product_of(world)
    journey.storied_patient(world, days_ago=6)
    journey.bedside(world)
    journey.started_batch(world, product=product)
    order = journey.make_order(world, product=product, patient=journey.make_patient(world, mrn="MRN-HELD"))
    unit = journey.released_unit(world, order, unit_id="UNIT-HELD")
    hold_open(actor=world.qa, kind="recall", reason="Fuzzing: a held bag", unit_id=unit.unit_id)
    journey.elsewhere(world, product)
    Webhook.objects.create(name="ward", url="https://ehr.example.org/hook", secret="s" * 40, facility=world.hospital)
    monitoring_scan(now=timezone.now())
    return world


@pytest.fixture
def fuzz_settings(settings):
    # Requests go through the real WSGI application, which closes the database connection at the end of each
    # request: Django's test client turns that off while a test's transaction is open, and so does this.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # The fuzzer sends thousands of requests a minute from one address: throttling is tested elsewhere.
    settings.API_THROTTLE_RATES = {"user": "1000000/minute", "address": "1000000/minute"}
    # schemathesis' WSGI client sends `Host: localhost`.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    yield settings
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class RequestPerSavepoint:
    """The WSGI application with each request in a savepoint of the test's transaction.

    In production every request runs in its own connection state (autocommit): a request that fails in the
    database leaves nothing behind. Inside one test transaction it would abort the transaction, and every later
    request would fail too, hiding which one failed first. A savepoint per request restores that isolation.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: Counter[tuple[str, str]] = Counter()  # (credentials, method)

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        self.requests[environ.get("HTTP_AUTHORIZATION", ""), environ["REQUEST_METHOD"]] += 1
        savepoint = transaction.savepoint_create()
        try:
            result = self.app(environ, start_response)
            try:
                body = list(result)
            finally:
                getattr(result, "close", lambda: None)()
        finally:
            try:
                transaction.savepoint_commit(savepoint)
            except DatabaseError:
                transaction.savepoint_rollback(savepoint)
        return body


@dataclass
class Fuzzing:
    """The two callers' tokens, the schema served, and the application that answers (counting its requests)."""

    callers: dict[str, str]  # who -> token
    app: RequestPerSavepoint
    schema: Any = None
    started: float = field(default_factory=time.monotonic)

    def report(self, request: pytest.FixtureRequest) -> None:
        # The figures of the run, in the test output: they say how much a passing run has tried.
        operations = len(list(self.schema.get_all_operations()))
        elapsed = time.monotonic() - self.started
        lines = [
            f"fuzzing: {operations} operations in {elapsed:.0f} s, FUZZ_EXAMPLES={FUZZ_EXAMPLES} per operation and "
            f"phase, phases {','.join(sorted(FUZZ_PHASES))}, seed {FUZZ_SEED}"
        ]
        for who, token in self.callers.items():
            sent = {method: n for (credentials, method), n in self.app.requests.items() if token in credentials}
            methods = ", ".join(f"{method} {n}" for method, n in sorted(sent.items()))
            lines.append(f"  as {who}: {sum(sent.values())} requests ({methods})")
        unauthenticated = sum(n for (credentials, _), n in self.app.requests.items() if not credentials)
        lines.append(f"  without credentials (ignored_auth): {unauthenticated} requests")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            print("\n" + "\n".join(lines), flush=True)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request) -> None:
    # schemathesis 4.32's per-operation reports read and rename `Node._nodeid`, which pytest 9.2 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def fuzzing(request, db, fuzz_settings) -> Iterator[Fuzzing]:
    world = build_records()
    broad = UserFactory(
        username="fuzz-admin", roles=[role.value for role in Role], facilities=list(Facility.objects.all())
    )
    broad.is_superuser = broad.is_staff = True
    broad.save()
    callers = {
        "a superuser with every role and facility": token_issue(user=broad).key,
        "the manufacturing role at one site": token_issue(user=world.manufacturing).key,
    }
    # The project's WSGI application, built now: its middleware reads the test settings (plain HTTP).
    app = RequestPerSavepoint(get_wsgi_application())
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        app,
        config=fuzz_config(),
        headers={"Authorization": f"Token {callers['a superuser with every role and facility']}"},
    )
    known = record_ids()

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        # Each parameter may name a record that exists (else every request stops at the lookup's 404).
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        choices = {}
        for name, value in path_parameters.items():
            existing = known.for_path(context.operation.path, name)
            choices[name] = st.sampled_from([value, *existing]) if existing else st.just(value)
        return st.fixed_dictionaries(choices)

    run = Fuzzing(callers=callers, app=app, schema=schema)
    yield run
    run.report(request)


@pytest.fixture
def served_schema(fuzzing: Fuzzing) -> Any:
    return fuzzing.schema


schema = schemathesis.pytest.from_fixture("served_schema")


# Minutes, not seconds: `make test` (CI) runs it, `make test-fast` (the edit-test loop) does not.
@pytest.mark.slow
@schema.parametrize()
def test_the_api_answers_every_generated_request_as_its_schema_says(case, fuzzing):
    # Each generated request is sent as both callers: what one may do, the other may be refused (403, 404).
    for token in fuzzing.callers.values():
        case.call_and_validate(headers={"Authorization": f"Token {token}"})
