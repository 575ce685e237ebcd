"""The README's code map names every module.

The rule: every `.py` file under config/, devstack/, products/ and tracker/, except those in a `migrations/`
directory, is named in the code map (the fenced block under the README's "## The code" heading) by its path from
the repository root, e.g. `tracker/api/views.py`; an `__init__.py` may instead be named by its package's
directory, e.g. `tracker/api/`. And every such path the map names exists, so the map never describes a module
that is gone.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("config", "devstack", "products", "tracker")
PATH = re.compile(r"(?<![\w/.])((?:" + "|".join(CHECKED) + r")(?:/\w+)*(?:\.py|/))(?![\w/])")


def _code_map() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## The code\n", 1)[1]
    return section.split("```\n", 2)[1]


def _named() -> set[str]:
    return set(PATH.findall(_code_map()))


def _modules() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for top in CHECKED
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_every_module_is_in_the_code_map():
    named = _named()
    missing = [
        str(module)
        for module in _modules()
        if str(module) not in named and not (module.name == "__init__.py" and f"{module.parent}/" in named)
    ]
    assert missing == [], "add a line for each to the code map in README.md"


def test_the_code_map_names_only_what_exists():
    gone = sorted(path for path in _named() if not (ROOT / path).exists())
    assert gone == []
