import pytest

from server.domain import profile
from server.domain.errors import Invalid
from server.render.samples import PROFILE


def test_sample_profile_is_valid_and_complete():
    assert profile.validate(PROFILE) == {**profile.DEFAULTS, **PROFILE}
    assert profile.missing_fields(PROFILE) == []


def test_empty_profile_gets_defaults_and_lists_every_required_field():
    assert profile.validate({}) == profile.DEFAULTS
    assert profile.missing_fields({}) == list(profile.REQUIRED)
    assert profile.missing_fields(None) == list(profile.REQUIRED)


def test_normalise_trims_blanks_and_vat_spacing():
    clean = profile.validate({"business_name": "  Osteria  ", "address": "   ", "vat_number": "it 0123 4567 897"})
    assert clean["business_name"] == "Osteria"
    assert clean["address"] is None
    assert clean["vat_number"] == "IT01234567897"
    assert profile.missing_fields(clean) == ["address", "email", "pec", "signatory_name"]


@pytest.mark.parametrize("field, value", [
    ("vat_number", "12-AB"),
    ("vat_number", 1234567890),
    ("email", "not-an-email"),
    ("pec", "pec@nodot"),
    ("website", "javascript:alert(1)"),
    ("website", "ftp://example.org"),
    ("phone", "call me"),
    ("default_language", "fr"),
    ("business_name", "x" * 201),
    ("address", ["Via Roma 1"]),
    ("signatory_name", {"first": "Ada"}),
])
def test_bad_values_name_their_field(field, value):
    with pytest.raises(Invalid) as error:
        profile.validate({**PROFILE, field: value})
    assert error.value.field == field
    assert field in error.value.message


def test_unknown_field_is_refused_by_name():
    with pytest.raises(Invalid) as error:
        profile.validate({**PROFILE, "iban": "IT60X0542811101000000123456"})
    assert error.value.field == "iban"


@pytest.mark.parametrize("body", [[], "profile", None, 3])
def test_profile_must_be_an_object(body):
    with pytest.raises(Invalid) as error:
        profile.validate(body)
    assert error.value.field is None


def test_null_clears_an_optional_field():
    assert profile.validate({**PROFILE, "phone": None, "dpo_contact": None})["phone"] is None


def test_placeholders_in_both_languages():
    assert profile.placeholder("address", "it") == "[indirizzo da completare]"
    assert profile.placeholder("address", "en") == "[address to be completed]"
    for field in profile.REQUIRED:
        assert profile.placeholder(field, "it") != profile.placeholder(field, "en")


def test_profile_hash_changes_with_content_not_with_defaults():
    assert profile.profile_hash({}) == profile.profile_hash(None) == profile.profile_hash({"default_language": "it"})
    assert profile.profile_hash(PROFILE) != profile.profile_hash({**PROFILE, "phone": "+39 06 000 0000"})


# -- GET/PUT /api/profile ------------------------------------------------------------------------------

def test_profile_starts_empty_with_every_required_field_missing(client):
    answer = client.get("/api/profile").json
    assert answer["profile"] == profile.DEFAULTS
    assert answer["missing_fields"] == list(profile.REQUIRED)


def test_put_profile_stores_it_and_reports_what_is_missing(client, store):
    response = client.put("/api/profile", json={**PROFILE, "pec": None, "vat_number": "it 0123 4567 897"})
    assert response.status_code == 200
    assert response.json["missing_fields"] == ["pec"]
    assert response.json["profile"]["vat_number"] == "IT01234567897"
    assert client.get("/api/profile").json == response.json
    assert store.get_setting("profile")["business_name"] == PROFILE["business_name"]


@pytest.mark.parametrize("body, field", [
    ({"email": "nope"}, "email"), ({"website": "javascript:alert(1)"}, "website"),
    ({"default_language": "de"}, "default_language"), ({"owner": "x"}, "owner"), ({"phone": 3}, "phone"),
])
def test_bad_profile_is_400_naming_the_field_and_changes_nothing(client, body, field):
    client.put("/api/profile", json=PROFILE)
    response = client.put("/api/profile", json={**PROFILE, **body})
    assert response.status_code == 400 and response.json["error"]["field"] == field
    assert client.get("/api/profile").json["profile"]["email"] == PROFILE["email"]


@pytest.mark.parametrize("raw", [b"{", b"[]", b"null", b'"x"'])
def test_profile_body_must_be_a_json_object(client, raw):
    response = client.put("/api/profile", data=raw, content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["field"] in ("body", None)
