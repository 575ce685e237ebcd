"""The served schema documents every status code each operation can answer, every error body, every error code,
and a maximum length for every text a request may carry. The fuzzing test (test_fuzzing.py) checks the same
from the other side: what the API really answers, against this schema."""

from typing import Any

import pytest
from django.urls import resolve
from rest_framework.permissions import AllowAny, IsAuthenticated

from products.errors import DomainError
from products.integrity import CONFLICT, DUPLICATE

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}
SAMPLE = {"{id}": "1", "{result_id}": "1", "{allocation_id}": "1", "{unit_id}": "U-1", "{coi}": "COI-1", "{code}": "c"}


@pytest.fixture
def schema(make_user, api_client_for) -> dict[str, Any]:
    return api_client_for(make_user()).get("/api/schema/?format=json").json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def view_of(path: str, method: str) -> Any:
    for placeholder, value in SAMPLE.items():
        path = path.replace(placeholder, value)
    view = resolve(path).func.view_class()
    view.request = None
    view.method = method.upper()
    return view


def expected_codes(path: str, method: str, operation: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """What an operation can answer, from what it is (the table in products/api/schema.py, stated again)."""
    permissions = view_of(path, method).get_permissions()
    public = all(isinstance(p, AllowAny) for p in permissions)
    writes = method in {"post", "put", "patch", "delete"}
    codes = {"400", "406", "429"}  # a NUL character in the URL; an Accept nobody serves; throttling
    if public:
        codes |= {"503"} if path.endswith("/health/") else set()
    else:
        codes.add("401")
    if not public and (writes or any(not isinstance(p, (IsAuthenticated, AllowAny)) for p in permissions)):
        codes.add("403")
    success = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    paginated = "results" in schema["components"]["schemas"].get(success.get("$ref", "#/").split("/")[-1], {}).get(
        "properties", {}
    )
    if "{" in path or (method == "get" and paginated):
        codes.add("404")  # not found or not yours; a page past the last
    if writes:
        codes.add("409")
    if "requestBody" in operation:
        codes |= {"413", "415"}
    return codes


def test_the_schema_has_every_api_operation(schema):
    assert len(operations(schema)) > 70
    assert {"/api/v1/health/", "/api/v1/patients/{id}/fhir/", "/api/v1/webhooks/{id}/"} <= set(schema["paths"])


def test_every_operation_documents_every_status_code_it_can_answer(schema):
    missing = {
        f"{method.upper()} {path}": sorted(expected_codes(path, method, op, schema) - set(op["responses"]))
        for path, method, op in operations(schema)
    }
    assert {op: codes for op, codes in missing.items() if codes} == {}


def test_every_error_answer_documents_its_json_body(schema):
    undocumented = [
        f"{method.upper()} {path} {code}"
        for path, method, operation in operations(schema)
        for code, response in operation["responses"].items()
        if code >= "400" and not response.get("content")
    ]
    assert undocumented == []


def test_the_codes_of_refusals_are_every_domain_errors_code_and_the_databases(schema):
    codes, pending = set(), [DomainError]
    while pending:
        error = pending.pop()
        codes.add(error.code)
        pending.extend(error.__subclasses__())
    documented = schema["components"]["schemas"]["DomainError"]["properties"]["code"]["enum"]
    assert set(documented) == codes | {DUPLICATE, CONFLICT, "permission_denied"}
    assert {"identity_mismatch", "unit_on_hold", "export_too_large", "duplicate"} <= set(documented)
    conflict = schema["paths"]["/api/v1/batches/"]["post"]["responses"]["409"]
    assert "duplicate" in conflict["description"]


def test_health_documents_503_and_no_credentials(schema):
    responses = schema["paths"]["/api/v1/health/"]["get"]["responses"]
    assert {"200", "503"} <= set(responses)
    assert "401" not in responses and "403" not in responses


def _strings_without_a_bound(node: Any, components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        if name in seen:
            return []
        return _strings_without_a_bound(components[name], components, where, seen | {name})
    found = []
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            found += _strings_without_a_bound(part, components, where, seen)
    if node.get("type") == "object":
        for name, child in node.get("properties", {}).items():
            if not child.get("readOnly"):
                found += _strings_without_a_bound(child, components, f"{where}.{name}", seen)
        if isinstance(node.get("additionalProperties"), dict):
            found += _strings_without_a_bound(node["additionalProperties"], components, f"{where}.*", seen)
    elif node.get("type") == "array":
        found += _strings_without_a_bound(node["items"], components, f"{where}[]", seen)
    elif node.get("type") == "string" and "enum" not in node and node.get("format") not in {"date", "date-time"}:
        if "maxLength" not in node:
            found.append(where)
    return found


def test_every_text_a_request_body_takes_has_a_maximum_length(schema):
    components = schema["components"]["schemas"]
    unbounded = [
        text
        for path, method, operation in operations(schema)
        for media, body in operation.get("requestBody", {}).get("content", {}).items()
        for text in _strings_without_a_bound(body["schema"], components, f"{method.upper()} {path} {media}", set())
    ]
    assert unbounded == []
    note = components["CollectionInputRequest"]["properties"]["note"]
    assert note["maxLength"] == 10_000
    assert components["BatchInputRequest"]["properties"]["coi"]["maxLength"] == 24  # a reference: its key's length


def test_an_api_url_that_matches_no_route_is_a_json_404(make_user, api_client_for):
    response = api_client_for(make_user()).get("/api/v1/patients/not-a-number/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_method_an_operation_does_not_declare_is_a_json_405_naming_those_it_does(schema, make_user, api_client_for):
    client = api_client_for(make_user("coordinator"))
    checked = 0
    for path, item in schema["paths"].items():
        declared = {method.upper() for method in item if method in METHODS}
        concrete = path
        for placeholder, value in SAMPLE.items():
            concrete = concrete.replace(placeholder, value)
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - declared):
            response = client.generic(method, concrete)
            assert response.status_code == 405, f"{method} {path}"
            # JSON, in the operation's own flavour (the FHIR export answers application/fhir+json).
            assert response["Content-Type"].endswith("json"), f"{method} {path}"
            assert declared <= set(response["Allow"].replace(" ", "").split(",")), f"{method} {path}"
            checked += 1
    assert checked > 150
