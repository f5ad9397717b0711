"""What the project promises about itself: every imported package is declared and justified, every
setting is documented."""
import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
PRODUCTION = [p for p in SERVER.rglob("*.py") if "bundle_assets" not in p.parts]  # that one is stdlib-only


def imported_distributions() -> set[str]:
    modules = set()
    for path in PRODUCTION:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m != "server"}
    owners = packages_distributions()
    return {owners[m][0].lower() for m in third_party}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~ \[]", requirement)[0].lower() for requirement in project["dependencies"]}


def test_every_imported_package_is_declared_and_justified():
    used = imported_distributions()
    assert used <= declared(), f"imported but not in pyproject.toml: {sorted(used - declared())}"
    adr = (ROOT / "docs" / "decisions" / "0002-dependencies.md").read_text().lower()
    unlisted = {name for name in declared() if not re.search(rf"(^|[|,\s`]){re.escape(name)}([|,\s`]|$)", adr, re.M)}
    assert not unlisted, f"declared but not justified in docs/decisions/0002-dependencies.md: {sorted(unlisted)}"


INTERNAL = {"ALLOWED_HOSTS", "SESSION_COOKIE_NAME", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_HTTPONLY",
            "PERMANENT_SESSION_LIFETIME", "BACKGROUND", "TESTING"}


def test_every_setting_is_in_the_readme_table():
    keys = set()
    for path in PRODUCTION:
        keys |= set(re.findall(r"config(?:\.get\(|\[|\.setdefault\()\"([A-Z_]+)\"", path.read_text()))
    from server import config

    keys |= set(config.DEFAULTS)
    readme = (ROOT / "README.md").read_text()
    undocumented = {k for k in keys - INTERNAL if f"| `TESTIMONE_{k}` |" not in readme}
    assert not undocumented, f"settings missing from the README's table: {sorted(undocumented)}"

