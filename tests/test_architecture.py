"""The layers hold: adapters (api/, dashboard.py, cli.py) -> services/ -> domain/ -> store.py.

These read the source (imports and names), not the behaviour: each names the module that breaks a rule.
"""
import ast
import re
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"
MODULES = sorted(p for p in SERVER.rglob("*.py") if "bundle_assets" not in p.parts)  # that one runs elsewhere


def name(path: Path) -> str:
    return path.relative_to(SERVER.parent).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """Every name `path` imports, as absolute dotted names (`from a import b` gives a.b; relative resolved)."""
    package = name(path).split(".") if path.name == "__init__.py" else name(path).split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def offenders(modules, forbidden, harmless=()) -> dict:
    """{module: the forbidden imports it has}; `forbidden` are module names (their submodules count too)."""
    found = {}
    for path in modules:
        hits = sorted(i for i in imports(path) - set(harmless)
                      if any(i == f or i.startswith(f + ".") for f in forbidden))
        if hits:
            found[name(path)] = hits
    return found


def test_no_production_code_calls_the_app_through_http_or_a_test_client():
    words = ("test_client", "EnvironBuilder", "from_app", "werkzeug.test")
    found = {name(p): [w for w in words if w in p.read_text()] for p in MODULES}
    assert {module: hits for module, hits in found.items() if hits} == {}


def test_only_the_outside_witnesses_open_network_connections():
    """A module that can make a request could call this server's own address: only the ones that fetch
    outside URLs (the TSA, the permalink, NTP, the signature's TSA) may."""
    clients = ("urllib.request", "http.client", "requests", "socket", "pyhanko.sign.timestamps")
    harmless = {"urllib.request.url2pathname"}  # a file: URL to a path, no request
    assert set(offenders(MODULES, clients, harmless)) == {"server.trust.timestamps", "server.trust.witness",
                                                "server.trust.clock", "server.trust.signing"}


def test_domain_is_pure_and_below_everything():
    domain = [p for p in MODULES if "domain" in p.parts]
    assert domain
    assert offenders(domain, ("flask", "server.api", "server.dashboard", "server.services", "server.store",
                              "server.render", "server.trust", "server.cli")) == {}


def test_services_are_plain_python_and_know_no_adapter():
    services = [p for p in MODULES if "services" in p.parts]
    assert offenders(services, ("flask", "werkzeug", "server.api", "server.dashboard", "server.cli")) == {}


def test_dashboard_and_cli_do_not_go_through_the_api_module():
    adapters = [SERVER / "dashboard.py", SERVER / "cli.py"]
    assert offenders(adapters, ("server.api",)) == {}


# What opens, writes, lists or removes files, or joins a path onto the data directory.
FILE_ACCESS = re.compile(r"\bopen\(|\.(?:read|write)_(?:bytes|text)\(|\bos\.(?:replace|rename|remove|unlink)\b|"
                         r"\.(?:unlink|mkdir|iterdir|rmdir|chmod|glob|rglob)\(|\bshutil\.|sqlite3\.connect|"
                         r"data_dir\)? /|cases_dir /")
# Modules that touch files that are not the data directory, or that open a file the store names. Each entry
# says why; a new one needs a reason as good.
FILES_ELSEWHERE = {
    "server.case_index": {"sqlite3.connect"},  # index.sqlite3 at the path the store gives it
    "server.verify_marks": {"sqlite3.connect"},  # verified.sqlite3 at the path the store gives it
    "server.render.pdf": {"open(", ".read_bytes(", ".rglob("},  # its templates, strings, fonts (package); Image.open(bytes)
    "server.render.bundle": {".read_bytes(", ".mkdir(", ".iterdir(", ".write_bytes("},  # bundle_assets/ (package);
    # to_folder writes the export into the folder the user names
    "server.i18n": {"open(", ".read_bytes(", ".write_bytes("},  # its .po catalogues (package); `python -m
    # server.i18n` rewrites their side-by-side comments
    "server.services.documents": {".mkdir(", ".write_bytes("},  # render-samples writes into the folder the user names
    "server.cli": {".write_bytes("},  # `testimone export x.zip` writes the zip the user names
    "server.trust.timestamps": {".read_bytes("},  # TESTIMONE_TSA_CA_FILE, a certificate file the user names
    "server.render.ics": {".read_bytes("},  # its own source, the deadline rules, the catalogues (package): the
    # version of the feed events the index keeps
}


def test_only_the_store_touches_the_data_directory():
    """Issue 9.6: case paths, the audit log, the token, login links, the signing key: server/store.py only."""
    found = {}
    for path in MODULES:
        if name(path) == "server.store":
            continue
        hits = {match.group(0).rstrip(")").strip() for match in FILE_ACCESS.finditer(path.read_text())}
        if hits:
            found[name(path)] = hits
    assert found == FILES_ELSEWHERE
