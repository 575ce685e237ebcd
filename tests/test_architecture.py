"""The code keeps its shape: typed services, no test library at run time, products never imports tracker, and
clinical clocks only in rules/."""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import products.services
import tracker.services

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = [ROOT / "products", ROOT / "tracker", ROOT / "config"]


def _services() -> list[tuple[str, object]]:
    found = []
    for package in (products.services, tracker.services):
        for module_info in pkgutil.iter_modules(package.__path__):
            if module_info.name == "common":
                continue  # the helpers services share (model_update, given), not services
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ == module.__name__ and not name.startswith("_"):
                    found.append((f"{module.__name__}.{name}", function))
    return found


@pytest.mark.parametrize(("name", "service"), _services(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_service_takes_arbitrary_keywords(name, service):
    """Every service names what it takes (keyword-only and typed): no `**fields`, so no form or serializer decides
    what a service writes."""
    parameters = inspect.signature(service).parameters.values()
    assert not [p.name for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD], name
    assert all(p.annotation is not inspect.Parameter.empty for p in parameters), name


def _python_files(*roots: Path) -> list[Path]:
    return sorted(path for root in roots for path in root.rglob("*.py") if "migrations" not in path.parts)


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_runtime_code_never_imports_a_test_library():
    """seed_demo and the services take `now`: time_machine (and pytest, factory_boy) stay in tests/."""
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _python_files(*RUNTIME)
        for module in _imports(path)
        if module.split(".")[0] in {"time_machine", "pytest", "factory"}
    ]
    assert offenders == []


def test_products_never_imports_tracker():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _python_files(ROOT / "products")
        for module in _imports(path)
        if module.split(".")[0] == "tracker"
    ]
    assert offenders == []


# Module-level clocks that are operational, not clinical: how the software behaves, not what care needs.
OPERATIONAL = {
    "products/services/collections.py": {"CLOCK_SKEW"},  # workstation clock drift
    "products/services/tokens.py": {"LAST_USED_RESOLUTION"},  # how often a token's last use is written
    "tracker/services/notifications.py": {"CLAIM_TIMEOUT"},  # a worker that died while sending
}


def test_clinical_clocks_live_in_rules():
    """A timedelta at module level in a service, selector, view or read model is a clinical threshold in the
    wrong place (rules/ holds them), unless it is one of the few operational ones above."""
    places = [
        *(ROOT / "products" / "services").glob("*.py"),
        *(ROOT / "tracker" / "services").glob("*.py"),
        ROOT / "products" / "selectors.py",
        ROOT / "products" / "alerts.py",
        ROOT / "tracker" / "selectors.py",
        ROOT / "tracker" / "worklist.py",
        ROOT / "tracker" / "views.py",
        *(ROOT / "tracker" / "api").glob("*.py"),
        *(ROOT / "products" / "api").glob("*.py"),
    ]
    offenders = []
    for path in sorted(places):
        allowed = OPERATIONAL.get(str(path.relative_to(ROOT)), set())
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call)]
            if any(getattr(c.func, "id", getattr(c.func, "attr", "")) == "timedelta" for c in calls):
                offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names - allowed]
    assert offenders == []
