"""Hostile input (issue #10, items 10-12, 15, 16): a clear 4xx naming the field, never a 500, and no
record; documents and pages still render what was stored before the checks existed."""
import json

import pytest

from conftest import make_capture
from server.domain.schemas import capture_from_body

EXTREME_DATES = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "1969-12-31T23:00:00Z",
                 "2101-01-01T00:00:00+00:00"]


@pytest.mark.parametrize("value", EXTREME_DATES)
@pytest.mark.parametrize("field", ["posted_at", "context.captured_at_client", "context.screenshot_at_client",
                                   "context.sent_at_client"])
def test_out_of_range_dates_are_refused_naming_the_field(client, store, field, value):
    body = make_capture()
    if field == "posted_at":
        body["posted_at"] = value
    else:
        body["context"][field.split(".")[1]] = value
    response = client.post("/api/captures", json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == field
    assert "1970-01-02" in response.json["error"]["message"]
    assert store.list(limit=10)[0] == []


@pytest.mark.parametrize("value", ["1970-01-02T00:00:00Z", "2100-12-30T23:59:59-12:00", "2026-11-20T18:31:00"])
def test_dates_inside_the_range_are_accepted(client, value):
    assert client.post("/api/captures", json=make_capture(posted_at=value)).status_code == 201


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00"])
def test_a_stored_extreme_date_still_renders(client, store, value):
    """A record written before the range check (or edited on disk) must not make its pages fail."""
    fields, files = capture_from_body(make_capture())
    fields["posted_at"] = value
    fields["context"]["captured_at_client"] = value
    record = store.create_capture(fields, files, status="documented", known_since="2026-11-22", deadlines=[])
    pdf = client.get(f"/api/captures/{record['id']}/document.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/captures/{record['id']}").status_code == 200


@pytest.mark.parametrize("depth", [33, 5_000, 100_000])
@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_is_a_400(client, store, depth, opener, closer):
    body = '{"kind":' + opener * depth + "1" + closer * depth + "}"
    for path in ("/api/captures", "/api/profile"):
        method = client.post if path == "/api/captures" else client.put
        response = method(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code)
        assert response.json["error"] == {"code": "too_deep", "field": "body",
                                          "message": "The body is nested more than 32 levels deep."}
    assert store.list(limit=10)[0] == []


def test_an_oversize_field_is_named_not_echoed(client):
    response = client.post("/api/captures", json=make_capture(text="x" * 3_000_000))
    assert response.status_code == 400
    assert response.json["error"]["field"] == "text"
    assert response.json["error"]["message"] == "'text' is longer than 20000 characters."
    assert len(response.data) < 1000


def test_an_oversize_unknown_name_is_capped(client):
    body = make_capture()
    body["y" * 1_000_000] = 1
    response = client.post("/api/captures", json=body)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_field"
    assert len(response.data) < 1500


def test_other_oversize_values_are_capped(client):
    response = client.post("/api/captures", json=make_capture(kind="k" * 1_000_000))
    assert response.status_code == 400 and response.json["error"]["field"] == "kind"
    assert len(response.data) < 1500


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "/%5C/evil.example",
                                    "https://evil.example/", "/%0A/evil.example", "/%20/evil.example"])
def test_language_switch_never_leaves_the_site(client, target):
    response = client.get(f"/lang/en?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_returns_to_a_local_page(client):
    assert client.get("/lang/en?next=/cases/abc%3Fq%3Dx").headers["Location"] == "/cases/abc?q=x"


CHROME_ID = "abcdefghijklmnopabcdefghijklmnop"
FIREFOX_UUID = "0b1f3c3e-4d7a-4c1b-9a57-2f2d7a1b5e0c"


@pytest.mark.parametrize("origin", [
    "chrome-extension://abcdefghijklmnopqrstuvwxyzabcdef",  # letters Chrome never uses in an id
    f"CHROME-EXTENSION://{CHROME_ID}", f"chrome-extension://{CHROME_ID.upper()}",
    f"MOZ-EXTENSION://{FIREFOX_UUID}", f"moz-extension://{FIREFOX_UUID.upper()}",
    f"chrome-extension://{CHROME_ID}.evil.example", f"moz-extension://{FIREFOX_UUID}x", "null"])
def test_cors_refuses_ids_no_browser_issues(client, origin):
    preflight = client.options("/api/captures", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = client.post("/api/captures", json=make_capture(), headers={"Origin": origin})
    assert response.status_code == 403 and response.json["error"]["field"] == "Origin"


def test_once_paired_only_the_paired_extension_is_served(client, store):
    paired, other = f"chrome-extension://{CHROME_ID}", f"moz-extension://{FIREFOX_UUID}"
    assert client.post("/api/pair", headers={"Origin": paired}).status_code == 200
    assert store.get_setting("paired_extension")["origin"] == paired
    assert client.get("/api/captures", headers={"Origin": paired}).headers["Access-Control-Allow-Origin"] == paired
    refused = client.get("/api/captures", headers={"Origin": other})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "origin_not_paired"
    preflight = client.options("/api/captures", headers={"Origin": other, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    # No Origin (a calendar app, curl): the token alone decides.
    assert client.get("/api/captures").status_code == 200
    # The other extension pairs with the token: from then on it is the one served.
    assert client.post("/api/pair", headers={"Origin": other}).status_code == 200
    assert client.get("/api/captures", headers={"Origin": paired}).status_code == 403
    assert json.loads(client.get("/api/captures", headers={"Origin": other}).data)["items"] == []
