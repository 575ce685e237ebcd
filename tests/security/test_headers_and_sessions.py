"""Headers and sessions: no-store on every dynamic answer, a Content-Security-Policy on pages, HTTPS only (HSTS and
the redirect) without DEBUG, an idle session timeout, no password-reset pages without mail, and a production
configuration that `manage.py check --deploy` finds nothing to warn about."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from config.paths import BASE_DIR
from config.urls import account_urlpatterns
from tests import journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_every_api_answer_and_patient_page_is_no_store(client, world, api_client_for):
    patient = journey.make_patient(world)
    api = api_client_for(world.clinician)
    answers = [
        api.get("/api/v1/patients/"),
        api.get(f"/api/v1/patients/{patient.id}/"),
        api.get(f"/api/v1/patients/{patient.id}/timeline/"),
        api.get("/api/v1/patients/999999/"),  # 404
        api.post("/api/v1/patients/", {}, format="json"),  # 400
        api.get("/api/v1/health/"),
        client.get("/api/v1/patients/"),  # 401
    ]
    client.force_login(world.clinician)
    answers += [client.get("/"), client.get(f"/patients/{patient.id}/"), client.get("/admin/")]
    for response in answers:
        assert no_store(response), f"{response.status_code} {response.get('Cache-Control')}"


def test_pages_carry_a_content_security_policy_with_a_fresh_nonce(client, world):
    client.force_login(world.coordinator)
    first, second = client.get("/api/docs/"), client.get("/api/docs/")
    policy = first["Content-Security-Policy"]

    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in first.content.decode()  # Swagger UI's one inline style carries it
    assert nonce not in second["Content-Security-Policy"]
    for path in ("/accounts/login/", "/admin/login/"):
        assert "default-src 'self'" in client.get(path)["Content-Security-Policy"]


def test_without_debug_plain_http_is_redirected_to_https_but_the_health_check(client, world, settings):
    settings.SECURE_SSL_REDIRECT = True  # production's value (tests/conftest.py turns it off for the HTTP client)

    for path in ("/", "/accounts/login/", "/admin/", "/api/v1/facilities/"):
        response = client.get(path)
        assert response.status_code == 301 and response["Location"].startswith("https://"), path
    assert client.get("/api/v1/health/").status_code == 200  # probes inside the network speak plain HTTP


def test_https_answers_carry_hsts(client, settings):
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")  # never over plain HTTP


def test_a_session_expires_after_its_idle_timeout_and_activity_keeps_it(client, world, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(world.clinician)
    for minutes in (20, 40, 60, 85):  # each request within 30 minutes of the one before
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200, minutes
    with time_machine.travel(start + timedelta(minutes=85 + 31), tick=False):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_password_reset_pages_exist_only_when_mail_is_configured(client):
    assert client.get("/accounts/password_reset/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
    assert client.get("/accounts/login/").status_code == 200

    names = {p.name for p in account_urlpatterns(password_reset=True)}
    assert {"password_reset", "password_reset_confirm", "login", "password_change"} <= names
    assert not {"password_reset", "password_reset_confirm"} & {
        p.name for p in account_urlpatterns(password_reset=False)
    }


def production_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "SESSION_", "DEBUG"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="tracker.example.org",
        CSRF_TRUSTED_ORIGINS="https://tracker.example.org",
        FIELD_ENCRYPTION_KEYS="QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        EMAIL_HOST="smtp.example.org",
        DATABASE_URL=os.environ.get("DATABASE_URL", ""),
        **extra,
    )
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_finds_nothing_to_warn_about_in_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_does_warn_when_production_settings_are_weakened():
    # The same check, with HTTPS turned off: it fails, so the test above can fail too.
    env = production_environment(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", SECURE_COOKIES="0")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


def test_without_an_encryption_key_production_does_not_start():
    env = production_environment()
    del env["FIELD_ENCRYPTION_KEYS"]
    result = manage("check", env=env)
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_the_tests_webhook_allowance_is_an_error_in_a_deployment_check(settings):
    from products.checks import no_test_allowances_check

    assert no_test_allowances_check() == []
    settings.WEBHOOK_TEST_ALLOW_LOOPBACK = True
    assert [error.id for error in no_test_allowances_check()] == ["products.E002"]


def test_the_security_settings_read_the_environment():
    code = (
        "from django.conf import settings as s;"
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), s.SESSION_COOKIE_AGE,"
        " s.API_THROTTLE_RATES['user'], s.API_THROTTLE_RATES['address'], s.SECURE_HSTS_SECONDS,"
        " s.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    env = production_environment(
        LOGIN_FAILURE_LIMIT="7",
        LOGIN_LOCKOUT_MINUTES="20",
        SESSION_IDLE_MINUTES="10",
        API_THROTTLE_USER_RATE="50/minute",
        API_THROTTLE_ADDRESS_RATE="90/minute",
        SECURE_HSTS_SECONDS="600",
        BEHIND_TLS_PROXY="1",
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["7", "1200", "600", "50/minute", "90/minute", "600", "1"], result.stderr
