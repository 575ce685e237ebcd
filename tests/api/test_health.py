import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_health_answers_without_credentials_with_both_dependencies_up(anon_client):
    response = anon_client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}


def test_health_reports_503_quickly_when_the_broker_is_down(anon_client, tmp_path):
    # A socket nobody listens on: the same failure as a stopped Redis.
    with override_settings(CELERY_BROKER_URL=f"redis+socket://{tmp_path}/absent.sock", BROKER_TIMEOUT_SECONDS=1):
        response = anon_client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": True, "broker": False}


def test_health_reports_503_when_the_broker_does_not_answer_on_tcp(anon_client):
    # 127.0.0.1:9 (discard) refuses the connection; the check must not hang.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0", BROKER_TIMEOUT_SECONDS=1):
        response = anon_client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["broker"] is False
