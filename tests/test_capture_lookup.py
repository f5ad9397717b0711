"""What the extension needs from the server for capture: "already captured on …" (same permalink, else
same text), the Google platform, and the fields kept apart (badge, owner's response, typed author)."""
import hashlib

import pytest

from conftest import log_in, make_capture


def post(client, **overrides):
    response = client.post("/api/captures", json=make_capture(**overrides))
    assert response.status_code == 201, response.json
    return response.json["id"]


def lookup(client, **params):
    response = client.get("/api/captures", query_string=params)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_earlier_capture_found_by_permalink_else_by_text_hash(client):
    first = post(client, permalink="https://www.facebook.com/p/1?comment_id=7", text="Pessimi.")
    post(client, permalink="https://www.facebook.com/p/1?comment_id=8", text="Altro commento.")
    no_link = post(client, permalink=None, text="Senza indirizzo.")
    assert lookup(client, permalink="https://www.facebook.com/p/1?comment_id=7") == [first]
    assert lookup(client, text_sha256=sha("Senza indirizzo.")) == [no_link]
    assert lookup(client, permalink="https://www.facebook.com/p/1?comment_id=9") == []
    assert lookup(client, permalink="https://www.facebook.com/p/1?comment_id=9", text_sha256=sha("Pessimi.")) == [first]


def test_an_erased_case_never_matches(client):
    case_id = post(client, kind="testimonial", permalink="https://www.facebook.com/p/1?comment_id=5", text="Bravi!")
    client.post(f"/api/captures/{case_id}/revocation", json={"received_at": "2026-11-23", "received_via": "email"})
    assert lookup(client, permalink="https://www.facebook.com/p/1?comment_id=5") == []
    assert lookup(client, text_sha256=sha("Bravi!")) == []


@pytest.mark.parametrize("params, field", [
    ({"permalink": "not a url"}, "permalink"),
    ({"permalink": "javascript:alert(1)"}, "permalink"),
    ({"text_sha256": "abc"}, "text_sha256"),
    ({"text_sha256": "G" * 64}, "text_sha256"),
    ({"text_sha256": "A" * 64}, "text_sha256"),
])
def test_bad_lookup_parameters_are_refused_by_name(client, params, field):
    response = client.get("/api/captures", query_string=params)
    assert response.status_code == 400
    assert response.json["error"]["field"] == field


def test_google_review_keeps_badge_and_owner_response_apart(client):
    body = make_capture(page_url="https://www.google.com/maps/place/Demo/@1,2,15z", platform=None,
                        author={"name": "Rosalba P", "profile_url": "https://www.google.com/maps/contrib/1/reviews",
                                "badge": "Local Guide"},
                        owner_response={"text": "Grazie!", "posted_at_text": "3 weeks ago"}, truncated=True)
    case = client.get(f"/api/captures/{client.post('/api/captures', json=body).json['id']}").json
    assert case["platform"] == "google"
    assert case["author"]["badge"] == "Local Guide" and "entered_by_user" not in case["author"]
    assert case["owner_response"] == {"text": "Grazie!", "posted_at_text": "3 weeks ago"}
    assert case["truncated"] is True


def test_author_typed_by_the_user_is_marked(client):
    body = make_capture(author={"name": "Mario (scritto da me)", "profile_url": None, "entered_by_user": True})
    case = client.get(f"/api/captures/{client.post('/api/captures', json=body).json['id']}").json
    assert case["author"]["entered_by_user"] is True


@pytest.mark.parametrize("overrides, field", [
    ({"owner_response": "Grazie"}, "owner_response"),
    ({"owner_response": {"text": "x", "extra": 1}}, "owner_response"),
    ({"truncated": "yes"}, "truncated"),
    ({"author": {"name": "A", "badge": 5}}, "author.badge"),
    ({"author": {"name": "A", "entered_by_user": "yes"}}, "author.entered_by_user"),
])
def test_bad_new_fields_are_refused_by_name(client, store, overrides, field):
    response = client.post("/api/captures", json=make_capture(**overrides))
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"].startswith(field.split(".")[0])
    assert store.count() == 0


def test_report_prints_not_recorded_ip_truncation_typed_author_and_owner_response():
    from server.render import samples
    from test_documents import render_checked, text_of

    record = samples.offence()
    record["context"] = {**record["context"], "server_ip": None}
    record.update(truncated=True, author={**record["author"], "entered_by_user": True},
                  owner_response={"text": "Ci dispiace, la aspettiamo.", "posted_at_text": "2 settimane fa"})
    text = text_of(render_checked("incident_report", record, lang="it"))
    assert "non registrato" in text
    assert "il testo riportato può essere incompleto" in text
    assert "il nome è stato inserito dall'utente" in text
    assert "Ci dispiace, la aspettiamo." in text and "2 settimane fa" in text


def test_case_page_shows_the_notes_typed_in_the_dialog_and_the_truncation(client, store):
    case_id = post(client, truncated=True, offence={"category": "insult", "notes": "Mai stato nostro cliente."})
    page = log_in(client, store.data_dir).get(f"/cases/{case_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    assert "Mai stato nostro cliente." in html
    assert 'data-field="truncated"' in html


@pytest.mark.parametrize("url, platform", [
    ("https://www.instagram.com/p/DQinvent0Ab/", "instagram"),
    ("https://www.google.it/maps/place/Demo/@1,2,15z", "google"),
    ("https://www.google.com/search?q=demo", "other"),
])
def test_platform_inferred_from_the_page(client, url, platform):
    case_id = post(client, page_url=url, platform=None)
    assert client.get(f"/api/captures/{case_id}").json["platform"] == platform
