"""One vocabulary: defined in server/domain/vocabulary.py, read by the schema, the rules, the dashboard,
the documents, and published to the extension as extension/lib/vocabulary.js."""
from pathlib import Path

from click.testing import CliRunner

from conftest import make_capture
from server.cli import main
from server.domain import kinds, schemas, vocabulary
from server.render import ics, pdf, samples

PUBLISHED = Path(__file__).resolve().parent.parent / "extension" / "lib" / "vocabulary.js"


def test_the_extension_copy_is_current():
    assert PUBLISHED.read_text() == vocabulary.javascript(), \
        "extension/lib/vocabulary.js is out of date: run  testimone vocabulary > extension/lib/vocabulary.js"


def test_the_command_prints_the_extension_copy():
    result = CliRunner().invoke(main, ["vocabulary"])
    assert result.exit_code == 0 and result.output == PUBLISHED.read_text()


def test_the_schema_and_the_kinds_use_it():
    properties = schemas.CAPTURE_SCHEMA["properties"]
    assert properties["kind"]["enum"] == vocabulary.KINDS == list(kinds.KINDS)
    assert properties["platform"]["enum"] == vocabulary.PLATFORMS + [None]
    assert properties["offence"]["properties"]["category"]["enum"] == vocabulary.OFFENCE_CATEGORIES
    assert set(vocabulary.PLATFORM_HOSTS) <= set(vocabulary.PLATFORMS)


def test_platform_of_host():
    assert vocabulary.platform_of("m.facebook.com") == "facebook"
    assert vocabulary.platform_of("www.tripadvisor.co.uk.") == "tripadvisor"
    assert vocabulary.platform_of("facebook.com.evil.example") == "other"


def test_a_missing_label_shows_the_value_instead_of_failing(monkeypatch):
    assert vocabulary.label({"a": {"it": "uno"}}, "a", "it") == "uno"
    assert vocabulary.label({"a": {"it": "uno"}}, "a", "en") == "a"
    assert vocabulary.label({}, "new_platform", "it") == "new platform"
    # A platform added to the vocabulary before any catalogue names it: the PDF and the feed still render.
    monkeypatch.setattr(vocabulary, "PLATFORMS", vocabulary.PLATFORMS + ["mastodon"])
    record = {**samples.offence(), "platform": "mastodon"}
    html = pdf.render_html("incident_report", record, samples.PROFILE, "en", None)
    assert "mastodon" in html
    record["offence"] = {**record["offence"], "category": "brand_new_category"}
    feed = ics.deadlines_feed([(record, record["deadlines"][0])], "it", "http://127.0.0.1:8765")
    assert b"brand new category" in feed


def test_a_capture_from_a_new_host_is_other():
    fields, _ = schemas.capture_from_body(make_capture(page_url="https://social.example/@x/1", platform=None))
    assert fields["platform"] == "other"
