"""The benchmark's baseline (benchmarks/baseline.py): the SQL our endpoint ran, replayed through psycopg and
served as orjson by a bare WSGI function. If it broke, every ratio of `make bench` would be wrong."""

import io
import json

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.baseline import OPERATION_HEADER, Operation, load_operations, make_app
from tests import journey
from tracker.models import Patient

pytestmark = pytest.mark.django_db


def call(app, operation: str, method: str = "GET", body: bytes = b"") -> tuple[str, bytes]:
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": method,
        OPERATION_HEADER: operation,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    chunks = app(environ, lambda s, headers: status.append(s))
    return status[0], b"".join(chunks)


@pytest.fixture
def world():
    return journey.build_world()


def test_a_read_replays_our_sql_and_returns_its_rows(world, api_client_for):
    patient = journey.make_patient(world, mrn="MRN-BASE-1")
    client = api_client_for(world.clinician)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/patients/{patient.id}/")
    assert response.status_code == 200
    app = make_app({"patient": Operation([q["sql"] for q in captured], write=False)}, lambda: connection.connection)
    status, body = call(app, "patient")
    assert status == "200 OK"
    assert "MRN-BASE-1" in json.dumps(orjson.loads(body))


def test_a_write_runs_its_statements_and_rolls_them_back(world):
    patient = journey.make_patient(world, mrn="MRN-BASE-2")
    update = f"UPDATE tracker_patient SET given_name = 'Changed' WHERE id = {patient.id} RETURNING given_name"  # noqa: S608 (an id)
    app = make_app({"rename": Operation([update], write=True)}, lambda: connection.connection)
    status, body = call(app, "rename", "POST", b'{"ignored": true}')
    assert status == "201 Created"
    assert orjson.loads(body) == [[["Changed"]]]
    patient.refresh_from_db()
    assert patient.given_name != "Changed"  # the same work every time, nothing kept


def test_an_unknown_operation_is_a_404():
    app = make_app({}, lambda: connection.connection)
    assert call(app, "nothing")[0].startswith("404")


def test_operations_load_from_the_file_the_benchmark_writes(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"op": {"statements": ["SELECT 1"], "write": False}}))
    assert load_operations(str(path)) == {"op": Operation(["SELECT 1"], write=False)}
    assert Patient.objects.count() == 0
