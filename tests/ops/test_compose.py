"""docker-compose.yml must stay in step with the settings (no Docker engine runs here to try it)."""

import ast
import importlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from config.paths import BASE_DIR

COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "beat"]


def settings_environment_names() -> set[str]:
    """Every variable config/settings.py reads: os.environ.get("X") and the env_* helpers."""
    tree = ast.parse((BASE_DIR / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in {"os.environ.get", "env_bool", "env_int", "env_list"}:
                names.add(node.args[0].value)
    return names


def command_text(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_stack_has_every_service_with_a_health_check():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_read_only_variables_the_settings_know(name):
    environment = SERVICES[name]["environment"]
    unknown = set(environment) - settings_environment_names()
    assert not unknown, f"{name} sets variables config/settings.py never reads: {sorted(unknown)}"
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "DEBUG"} <= set(environment)
    assert environment["DEBUG"] == "0"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_need_the_keys_production_requires(name):
    # Without DEBUG the settings refuse to start without these: compose says so up front (`:?`).
    environment = SERVICES[name]["environment"]
    for variable in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
        assert environment[variable].startswith(f"${{{variable}:?"), variable


def test_the_plain_http_stack_turns_the_https_redirect_off_and_the_health_check_is_exempt():
    from django.conf import settings

    environment = SERVICES["web"]["environment"]
    assert environment["SECURE_SSL_REDIRECT"] == "${SECURE_SSL_REDIRECT:-0}"
    assert environment["SECURE_COOKIES"] == "${SECURE_COOKIES:-0}"
    # The health check is reached over plain HTTP even when the redirect is on.
    assert "/api/v1/health/" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert any(re.match(pattern, "api/v1/health/") for pattern in settings.SECURE_REDIRECT_EXEMPT)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(name):
    depends = SERVICES[name]["depends_on"]
    assert depends == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_database_url_matches_the_postgres_service():
    url = urlsplit(SERVICES["web"]["environment"]["DATABASE_URL"])
    postgres = SERVICES["postgres"]["environment"]
    assert url.scheme.startswith("postgres")
    assert url.hostname == "postgres"
    assert (url.username, url.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
    assert url.path.lstrip("/") == postgres["POSTGRES_DB"]


def test_redis_url_matches_the_redis_service():
    url = urlsplit(SERVICES["worker"]["environment"]["REDIS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)


def test_web_runs_migrations_then_gunicorn_on_the_wsgi_application():
    command = command_text(SERVICES["web"])
    assert re.search(r"manage\.py migrate --noinput\s*&&\s*gunicorn config\.wsgi:application", command)
    module, attribute = "config.wsgi", "application"
    assert hasattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize(("name", "verb"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_project_app(name, verb):
    assert command_text(SERVICES[name]).startswith(f"celery -A config {verb}")
    assert importlib.import_module("config").celery_app.main == "tracker"


def test_image_installs_the_locked_dependencies():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert all(SERVICES[name]["build"] == "." for name in APP_SERVICES)
    assert Path(BASE_DIR / "requirements.lock").exists()
