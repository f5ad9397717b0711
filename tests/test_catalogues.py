"""The gettext catalogues (server/locales/<lang>/LC_MESSAGES/testimone.po): every message in every language,
with the same placeholders, the side-by-side comments current, and every key the code asks for present."""
import ast
import re
import string
from pathlib import Path

import pytest

from server import i18n
from server.domain import legal, profile, vocabulary
from server.domain.vocabulary import LANGUAGES
from server.render import document_types, pdf
from server.trust import witness

SERVER = Path(i18n.__file__).parent
DASHBOARD_TEMPLATES = SERVER / "templates"
PDF_TEMPLATES = pdf.TEMPLATE_DIR
SHARED_PDF_TEMPLATES = ("base.html", "_macros.html")


def entries(lang: str) -> dict[tuple[str, str], object]:
    """Every message of the file, empty and fuzzy ones included."""
    return {(m.context or "", m.id): m for m in i18n.read(lang) if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def keys_of(context: str) -> set[str]:
    return {key for found, key in i18n.messages(LANGUAGES[0]) if found == context}


# -- the files -----------------------------------------------------------------------------------------

def test_one_po_file_per_language_and_nothing_else():
    assert sorted(p.parent.parent.name for p in i18n.LOCALES.glob("*/LC_MESSAGES/*.po")) == sorted(LANGUAGES)
    assert not list(i18n.LOCALES.rglob("*.mo"))  # read from the .po files, no compiled copies to go stale


def incomplete(catalogues: dict) -> dict[str, set]:
    """{lang: messages another language has that this one lacks, leaves empty or marks fuzzy}."""
    def named(message):
        return message.context or "", message.id

    every = set().union(*({named(m) for m in catalogue if m.id} for catalogue in catalogues.values()))
    usable = {lang: {named(m) for m in catalogue if m.id and m.string and not m.fuzzy}
              for lang, catalogue in catalogues.items()}
    return {lang: every - usable[lang] for lang in catalogues if every - usable[lang]}


def test_every_message_is_in_every_language_translated_and_not_fuzzy():
    catalogues = {lang: i18n.read(lang) for lang in LANGUAGES}
    assert incomplete(catalogues) == {}
    for lang in LANGUAGES:  # and what the code reads is all of it
        assert set(i18n.messages(lang)) == {(m.context or "", m.id) for m in catalogues[lang] if m.id}
    assert len(i18n.messages(LANGUAGES[0])) > 600


def test_a_missing_empty_or_fuzzy_message_is_caught():
    catalogues = {lang: i18n.read(lang) for lang in LANGUAGES}
    english = catalogues["en"]
    english.delete("page", context="document")
    english.get("title", context="consent_request").string = ""
    english.get("s1", context="consent_request").flags.add("fuzzy")
    assert incomplete(catalogues) == {"en": {("document", "page"), ("consent_request", "title"),
                                             ("consent_request", "s1")}}


def test_placeholders_are_the_same_in_every_language():
    for key, text in i18n.messages(LANGUAGES[0]).items():
        wanted = placeholders(text)
        for lang in LANGUAGES[1:]:
            assert placeholders(i18n.messages(lang)[key]) == wanted, (lang, key)
            # and each text formats with them: no stray brace
            i18n.messages(lang)[key].format(**dict.fromkeys(wanted, "x"))


def test_the_side_by_side_comments_are_current():
    """Each entry shows the other languages' text ("#. it: ..."): run `python -m server.i18n` after editing."""
    assert i18n.stale() == [], "run: python -m server.i18n"
    english = entries("en")[("consent_request", "title")]
    assert english.auto_comments == [f"it: {i18n.text('consent_request', 'title', 'it')}"]


def test_a_missing_message_names_itself():
    with pytest.raises(KeyError, match="'no.such.key' in context 'dashboard'"):
        i18n.text("dashboard", "no.such.key", "en")
    with pytest.raises(KeyError):
        i18n.messages("fr")


# -- the keys the code asks for ------------------------------------------------------------------------

T_LITERAL = re.compile(r"""\bt\(\s*["']([\w.\-]+)["']""")
T_ELSE = re.compile(r"""\bt\(\s*["'][\w.\-]+["']\s+if\s[^)]*?\belse\s+["']([\w.\-]+)["']""")
T_PREFIX = re.compile(r"""\bt\(\s*f?["']([\w.\-]+\.)(?:["']\s*~|\{)""")


def used_keys(source: str) -> tuple[set[str], set[str]]:
    """(literal keys, prefixes of computed keys) that `t(...)` calls in a template or module ask for."""
    literal = set(T_LITERAL.findall(source)) | set(T_ELSE.findall(source))
    prefixes = set(T_PREFIX.findall(source))
    return {key for key in literal if not key.endswith(".")}, prefixes


def test_every_key_a_document_template_uses_exists():
    shared = "".join((PDF_TEMPLATES / name).read_text() for name in SHARED_PDF_TEMPLATES)
    for kind in document_types.TYPES.values():
        source = (PDF_TEMPLATES / kind.template).read_text() + shared
        if kind.name == "incident_report":
            source += Path(document_types.__file__).read_text()  # its context builders call t() too
        literal, prefixes = used_keys(source)
        assert literal, kind.name
        known = keys_of(kind.catalogue) | keys_of("document")
        assert literal - known == set(), (kind.name, literal - known)
        for prefix in prefixes:
            assert any(key.startswith(prefix) for key in known), (kind.name, prefix)
    literal, _ = used_keys(shared)
    assert literal - keys_of("document") == set()  # what every document shows is in the shared context


def test_every_key_the_dashboard_uses_exists():
    literal, prefixes = set(), set()
    for source in [p.read_text() for p in DASHBOARD_TEMPLATES.glob("*.html")] + [(SERVER / "dashboard.py").read_text()]:
        found, computed = used_keys(source)
        literal |= found
        prefixes |= computed
        prefixes |= {f"{group}." for group in re.findall(r"""\blabel\(\s*["'](\w+)["']""", source)}
    known = keys_of("dashboard")
    assert literal and literal - known == set(), literal - known
    assert prefixes and {p for p in prefixes if not any(k.startswith(p) for k in known)} == set()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_vocabulary_value_has_its_words(lang):
    """The values the documents and the dashboard name have a text (a new one would still show as itself)."""
    def has(context, key):
        return i18n.get(context, key, lang) is not None

    for platform in vocabulary.PLATFORMS:
        assert has("document", f"platform.{platform}") and has("dashboard", f"platform.{platform}"), platform
    for category in vocabulary.OFFENCE_CATEGORIES:
        assert category in legal.CATEGORY_LABELS and category in legal.CATEGORY_NOTES, category
        assert has("incident_report", f"category.{category}"), category
    for action in vocabulary.ACTION_TYPES:
        assert has("dashboard", f"action.{action}") and has("incident_report", f"action.{action}"), action
    for purpose in vocabulary.PURPOSES:
        assert has("consent_request", f"purpose.{purpose}"), purpose
    for kind in vocabulary.KINDS:
        assert has("dashboard", f"kind.{kind}"), kind
    for outcome in witness.OUTCOMES:
        assert has("witness", f"outcome.{outcome}"), outcome
    for event in document_types.EVENTS:
        assert has("incident_report", f"event.{event}"), event
    assert set(legal.LABELS) == set(legal.BASIS)
    assert set(profile.FIELD_NAMES) == set(profile.FIELDS) - {"default_language"}
    assert [i18n.get("document", f"month.{n}", lang) for n in range(1, 13)].count(None) == 0
    assert len(legal.ADVICE[lang]) == 2


def test_every_document_type_has_its_button_and_one_version():
    for kind in document_types.TYPES.values():
        versions = {i18n.text(kind.catalogue, "version", lang) for lang in LANGUAGES}
        assert len(versions) == 1, (kind.name, versions)  # the wording's version is not translated
        assert all(i18n.get(kind.catalogue, kind.label, lang) for lang in LANGUAGES), kind.name


def test_every_key_the_python_code_asks_for_exists():
    """i18n.text("legal", "disclaimer"...) with literal keys, and the fixed part of computed ones (f"weekday.{n}")."""
    call = re.compile(r"""i18n\.(text|get|both|has|table|numbered)\(\s*["'](\w+)["'],\s*(f?)["']([\w.\-]+)""")
    found = []
    for path in SERVER.rglob("*.py"):
        found += [(path.name, *match) for match in call.findall(path.read_text())]
    assert len(found) > 20
    every = set(i18n.messages(LANGUAGES[0]))
    for module, function, context, computed, key in found:
        if computed or function in ("table", "numbered"):  # a prefix: "weekday." + n, table("legal", "deadline", ...)
            prefix = key if computed else f"{key}."
            assert any(c == context and k.startswith(prefix) for c, k in every), (module, context, prefix)
        else:
            assert (context, key) in every, (module, context, key)


# -- the API's error messages ("api" context) ----------------------------------------------------------

ERRORS = {"Invalid", "NotAllowed", "NotFound", "DomainError"}


def api_keys_in(source: str) -> list[tuple[str, set[str] | None]]:
    """(key, the values given, or None when unknown) of each "api" message a module names: the key of a domain
    error (`Invalid(field, "key", value=...)`), of `say("key", ...)` in the API adapter, a document type's
    `refusal="key"`, and the keys that functions returning (key, values) hand to a raise (schemas, profile)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            position = 1 if name in ERRORS else 0 if name == "say" else None
            arguments = node.args[position] if position is not None and len(node.args) > position else None
            if isinstance(arguments, ast.Constant) and isinstance(arguments.value, str):
                given = {k.arg for k in node.keywords if k.arg != "code"}
                found.append((arguments.value, None if None in given else given | {"field"}))
            found += [(k.value.value, set()) for k in node.keywords
                      if k.arg == "refusal" and isinstance(k.value, ast.Constant) and k.value.value]
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
            key, values = node.value.elts
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(values, ast.Dict):
                found.append((key.value, {k.value for k in values.keys if isinstance(k, ast.Constant)} | {"field"}))
        elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("PATTERNS", "LIMITS"):
            found += [(v.value, None) for v in node.value.values if isinstance(v, ast.Constant)]
    return found


def missing_api_messages(found: list[tuple[str, set[str] | None]]) -> list:
    """The keys some language lacks, and the keys whose text asks for a value the code does not give."""
    wrong = []
    for key, given in found:
        texts = [i18n.get("api", key, lang) for lang in LANGUAGES]
        if None in texts:
            wrong.append((key, "missing"))
        elif given is not None and placeholders(texts[0]) - given:
            wrong.append((key, sorted(placeholders(texts[0]) - given)))
    return wrong


def test_every_api_message_the_code_raises_exists_in_every_language():
    found = []
    for path in SERVER.rglob("*.py"):
        found += api_keys_in(path.read_text())
    assert len(found) > 60
    assert missing_api_messages(found) == []
    # and nothing is raised with a sentence instead of a key
    assert [key for key, _ in found if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", key)] == []


def test_a_missing_api_message_or_value_is_caught():
    source = ('raise Invalid("lang", "lang.unknown")\nraise NotFound("id", "case.unknown")\n'
              'raise NotFound("id", "no.such.key", id=1)\nreturn "field.choice", {}\nsay("busy", seconds=3)')
    assert sorted(missing_api_messages(api_keys_in(source)), key=str) == [
        ("case.unknown", ["id"]), ("field.choice", ["allowed"]), ("no.such.key", "missing")]
    only_english = {lang: i18n.read(lang) for lang in LANGUAGES}
    only_english["it"].delete("busy", context="api")
    assert incomplete(only_english) == {"it": {("api", "busy")}}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_domain_error_speaks_each_language(lang):
    from server.domain.errors import Invalid
    error = Invalid("lang", "field.choice", allowed="it, en")
    assert error.message_in(lang) == i18n.text("api", "field.choice", lang).format(field="lang", allowed="it, en")
    assert error.message == str(error) == "'lang' must be one of it, en."  # English for the command line
    assert (error.field, error.code) == ("lang", "invalid_field")
