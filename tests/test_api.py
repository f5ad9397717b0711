import hashlib
import json

import pytest

from conftest import MHTML, TOKEN, b64, make_capture, png_bytes, tree_digest


def post(client, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/captures", data=data, content_type="application/json", **kwargs)


def test_health_needs_no_token(client):
    response = client.get("/api/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json["status"] == "ok"


@pytest.mark.parametrize("kind", ["offence", "testimonial"])
def test_capture_is_stored_with_hashes(client, store, kind):
    body = make_capture(kind)
    response = post(client, body)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["kind"] == kind
    assert response.headers["Location"] == f"/api/captures/{created['id']}"

    case = client.get(created["links"]["self"]).json
    assert case["text"] == body["text"]
    assert case["author"] == body["author"]
    assert case["platform"] == "facebook"
    assert case["sha256"] == created["sha256"]
    folder = store.data_dir / "cases" / created["id"]
    assert hashlib.sha256((folder / "capture.json").read_bytes()).hexdigest() == created["sha256"]
    by_name = {e["name"]: e for e in case["evidence"]}
    assert set(by_name) == {"screenshot.png", "page.mhtml", "comment.html"}
    for name, entry in by_name.items():
        data = (folder / name).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert (folder / "page.mhtml").read_bytes() == MHTML
    assert (folder / "comment.html").read_text() == body["comment_html"]
    assert case["history"][0]["event"] == "capture.created"


def test_offence_fields(client):
    case = client.get(post(client, make_capture("offence")).json["links"]["self"]).json
    assert case["status"] == "documented"
    assert case["known_since"] == "2026-11-22"
    assert case["offence"]["category"] == "defamation"
    assert case["screenshot_rect"] == {"x": 10, "y": 20, "width": 300, "height": 120}
    assert case["context"]["server_ip"] == "157.240.0.35"


def test_offence_answer_carries_the_advice_and_a_testimonial_does_not(client):
    offence = post(client, make_capture("offence")).json
    assert offence["advice"][0].startswith("Prima contatta il cliente")
    english = post(client, make_capture("offence", context={"language": "en"})).json
    assert english["advice"][1] == "Document and escalate only what is false, insulting or blackmail."
    assert "advice" not in post(client, make_capture("testimonial")).json


def test_deadline_statuses_follow_the_calendar_on_read(client, store):
    created = post(client, make_capture("offence")).json
    store.update(created["id"], lambda r: r["deadlines"][0].update(status="open", due="2000-01-01"), "test.stale")
    case = client.get(created["links"]["self"]).json
    assert case["deadlines"][0]["kind"] == "querela" and case["deadlines"][0]["due"] == "2027-02-22"
    listed = client.get("/api/captures").json["items"][0]
    assert listed["deadlines"] == case["deadlines"]


def test_testimonial_fields(client):
    case = client.get(post(client, make_capture("testimonial")).json["links"]["self"]).json
    assert case["status"] == "consent_requested"
    assert case["testimonial"] == {"purposes": ["website", "social"], "photo": False}
    assert "offence" not in case


def test_known_since_defaults_to_today(client):
    body = make_capture("offence", offence={"category": "insult"})
    case = client.get(post(client, body).json["links"]["self"]).json
    from server.domain.schemas import today_in_italy
    assert case["known_since"] == today_in_italy().isoformat()


@pytest.mark.parametrize("url, platform", [
    ("https://www.facebook.com/a/posts/1", "facebook"),
    ("https://m.facebook.com/story.php?id=1", "facebook"),
    ("https://fb.com/x", "facebook"),
    ("https://www.tripadvisor.it/Restaurant_Review-g1-d2-Reviews-X.html", "tripadvisor"),
    ("https://www.tripadvisor.co.uk/Hotel_Review-g1-d2", "tripadvisor"),
    ("https://www.tripadvisor.com.au/x", "tripadvisor"),
    ("https://tripadvisor.fr/x", "tripadvisor"),
    ("https://notfacebook.com/x", "other"),
    ("https://facebook.com.evil.example/x", "other"),
    ("https://www.example.org/review", "other"),
])
def test_platform_inferred_from_url(client, url, platform):
    body = make_capture(page_url=url)
    del body["permalink"]
    created = post(client, body)
    assert created.status_code == 201
    assert client.get(created.json["links"]["self"]).json["platform"] == platform


def test_minimal_capture(client):
    response = post(client, {"kind": "testimonial", "page_url": "https://example.org/", "text": "Bravi!"})
    assert response.status_code == 201
    case = client.get(response.json["links"]["self"]).json
    assert case["evidence"] == []
    assert case["platform"] == "other"


def test_hostile_text_is_stored_verbatim(client):
    hostile = '<script>alert(1)</script><img src="file:///etc/passwd"> \u202eevil 😀 ' + "x" * 100
    response = post(client, make_capture(text=hostile, author={"name": "<b>Bold</b>", "profile_url": None}))
    assert response.status_code == 201
    case = client.get(response.json["links"]["self"]).json
    assert case["text"] == hostile
    assert response.headers["Content-Type"] == "application/json"


NOT_PNG = b64(b"GIF89a not a png at all")
BAD = [
    # (description, body or raw text, expected field, expected status)
    ("malformed JSON", '{"kind": "offence",', "body", 400),
    ("JSON array", "[1, 2]", "body", 400),
    ("NaN constant", '{"kind": "offence", "page_url": "https://a.b", "text": "x", "rating": NaN}', "body", 400),
    ("invalid UTF-8", b'{"kind": "\xff"}', "body", 400),
    ("lone surrogate", '{"kind": "offence", "page_url": "https://a.b", "text": "\\ud800"}', "text", 400),
    ("missing kind", {"page_url": "https://a.b", "text": "x"}, "kind", 400),
    ("missing page_url", {"kind": "testimonial", "text": "x"}, "page_url", 400),
    ("missing text", {"kind": "testimonial", "page_url": "https://a.b"}, "text", 400),
    ("unknown kind", make_capture(kind="compliment"), "kind", 400),
    ("unknown field", make_capture(colour="red"), "colour", 400),
    ("text not a string", make_capture(text=42), "text", 400),
    ("text too long", make_capture(text="x" * 20_001), "text", 400),
    ("rating out of range", make_capture(rating=6), "rating", 400),
    ("rating a string", make_capture(rating="5"), "rating", 400),
    ("author not an object", make_capture(author="Mario"), "author", 400),
    ("javascript URL", make_capture(page_url="javascript:alert(1)"), "page_url", 400),
    ("file URL", make_capture(page_url="file:///etc/passwd"), "page_url", 400),
    ("data URL", make_capture(page_url="data:text/html,<b>x</b>"), "page_url", 400),
    ("URL without host", make_capture(page_url="https:///path"), "page_url", 400),
    ("URL with broken IPv6 host", make_capture(page_url="HttP://:]"), "page_url", 400),
    ("bad permalink", make_capture(permalink="ftp://x.y/z"), "permalink", 400),
    ("bad profile URL", make_capture(author={"name": "A", "profile_url": "javascript:x"}), "author.profile_url", 400),
    ("invalid base64", make_capture(screenshot={"media_type": "image/png", "data": "%%%not base64%%%"}),
     "screenshot.data", 400),
    ("PNG claimed, GIF sent", make_capture(screenshot={"media_type": "image/png", "data": NOT_PNG}),
     "screenshot.media_type", 400),
    ("unsupported screenshot type", make_capture(screenshot={"media_type": "image/gif", "data": NOT_PNG}),
     "screenshot.media_type", 400),
    ("MHTML claimed, PNG sent", make_capture(page_snapshot={"media_type": "multipart/related",
                                                            "data": b64(png_bytes())}),
     "page_snapshot.media_type", 400),
    ("HTML snapshot not UTF-8", make_capture(page_snapshot={"media_type": "text/html", "data": b64(b"\xff\xfe<")}),
     "page_snapshot.media_type", 400),
    ("screenshot without data", make_capture(screenshot={"media_type": "image/png"}), "screenshot.data", 400),
    ("rect with a string", make_capture(screenshot={"media_type": "image/png", "data": b64(png_bytes()),
                                                     "rect": {"x": "1", "y": 0, "width": 1, "height": 1}}),
     "screenshot.rect.x", 400),
    ("offence without details", make_capture("offence", offence=None), "offence", 400),
    ("unknown category", make_capture("offence", offence={"category": "rudeness"}), "offence.category", 400),
    ("known_since in the future", make_capture("offence", offence={"category": "insult",
                                                                   "known_since": "2999-01-01"}),
     "offence.known_since", 400),
    ("known_since not a date", make_capture("offence", offence={"category": "insult",
                                                                "known_since": "2026-02-30"}),
     "offence.known_since", 400),
    ("offence details on a testimonial", make_capture("testimonial", offence={"category": "insult"}),
     "offence", 400),
    ("unknown purpose", make_capture("testimonial", testimonial={"purposes": ["billboard"], "photo": False}),
     "testimonial.purposes.0", 400),
    ("photo not a boolean", make_capture("testimonial", testimonial={"purposes": [], "photo": "yes"}),
     "testimonial.photo", 400),
    ("posted_at not a date", make_capture(posted_at="yesterday"), "posted_at", 400),
    ("language unknown", make_capture(context={"language": "fr"}), "context.language", 400),
]


@pytest.mark.parametrize("description, body, field, status", BAD, ids=[case[0] for case in BAD])
def test_bad_capture_is_refused_and_nothing_is_written(client, store, description, body, field, status):
    before = tree_digest(store.data_dir)
    response = post(client, body)
    assert response.status_code == status
    assert response.json["error"]["field"] == field
    assert response.json["error"]["message"]
    assert tree_digest(store.data_dir) == before
    assert store.count() == 0


def test_body_over_the_limit_is_413(tmp_path):
    from server import create_app
    app = create_app({"DATA_DIR": str(tmp_path), "TOKEN": TOKEN, "MAX_CONTENT_LENGTH": 50_000})
    client = app.test_client()
    before = tree_digest(tmp_path)
    response = client.post("/api/captures", data=json.dumps(make_capture(text="x" * 60_000)),
                           content_type="application/json",
                           headers={"Host": "127.0.0.1:8765", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert tree_digest(tmp_path) == before
    app.extensions["testimone.store"].close()


# -- listing ----------------------------------------------------------------------------------------

def test_list_newest_first_with_filters_and_paging(client):
    ids = []
    for index in range(7):
        kind = "offence" if index % 2 else "testimonial"
        url = "https://www.tripadvisor.it/x" if index < 3 else "https://www.facebook.com/x"
        body = make_capture(kind, page_url=url, text=f"commento numero {index} Zebra" if index == 5 else f"c {index}")
        ids.append(post(client, body).json["id"])
    listed = client.get("/api/captures").json
    assert [item["id"] for item in listed["items"]] == ids[::-1]
    assert listed["next_cursor"] is None

    offences = client.get("/api/captures?kind=offence").json["items"]
    assert [item["id"] for item in offences] == [ids[5], ids[3], ids[1]]
    assert [i["id"] for i in client.get("/api/captures?platform=tripadvisor").json["items"]] == ids[2::-1]
    assert [i["id"] for i in client.get("/api/captures?q=zebra").json["items"]] == [ids[5]]
    assert len(client.get("/api/captures?q=ottavio").json["items"]) == 7
    assert client.get("/api/captures?status=documented").json["items"][0]["id"] == ids[5]

    first = client.get("/api/captures?limit=3").json
    second = client.get(f"/api/captures?limit=3&cursor={first['next_cursor']}").json
    third = client.get(f"/api/captures?limit=3&cursor={second['next_cursor']}").json
    assert [i["id"] for i in first["items"] + second["items"] + third["items"]] == ids[::-1]
    assert third["next_cursor"] is None


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("kind=praise", "kind"),
    ("platform=myspace", "platform"), ("cursor=garbage!", "cursor"), ("q=" + "x" * 201, "q"),
    ("status=%3Cscript%3E", "status"), ("colour=red", "colour"),
])
def test_list_bad_parameters(client, query, field):
    response = client.get(f"/api/captures?{query}")
    assert response.status_code == 400
    assert response.json["error"]["field"] == field


def test_unknown_case_is_404(client):
    response = client.get("/api/captures/20260101-000000-abcdef")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_unknown_route_and_method_answer_json(client):
    assert client.get("/api/nothing").json["error"]["code"] == "not_found"
    assert client.delete("/api/captures").json["error"]["code"] == "method_not_allowed"


# -- security ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_token_is_required(client, store, header):
    headers = {"Authorization": header} if header is not None else {"Authorization": ""}
    before = tree_digest(store.data_dir)
    for method, path in [("get", "/api/captures"), ("post", "/api/captures"), ("get", "/api/openapi.json"),
                         ("get", "/api/captures/x")]:
        response = getattr(client, method)(path, headers=headers, json=make_capture())
        assert response.status_code == 401, (method, path)
        assert response.json["error"]["field"] == "Authorization"
    assert tree_digest(store.data_dir) == before


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1:9999", "localhost",
                                  "127.0.0.1.nip.io:8765"])
def test_foreign_host_header_is_refused(client, host):
    for path in ("/api/health", "/api/captures", "/"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 403
        assert response.json["error"]["code"] == "host_not_allowed"


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765"])
def test_own_host_names_are_accepted(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["chrome-extension://abcdefghijklmnopabcdefghijklmnop",
                                    "moz-extension://0b1f3c3e-4d7a-4c1b-9a57-2f2d7a1b5e0c"])
def test_cors_allows_the_extension(client, origin):
    preflight = client.options("/api/captures", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type", "Authorization": ""})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = client.get("/api/captures", headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", ["https://www.facebook.com", "http://127.0.0.1:8765", "null",
                                    "https://chrome-extension.evil.example", "chrome-extension://short"])
def test_cors_refuses_web_origins(client, origin):
    preflight = client.options("/api/captures", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = client.get("/api/captures", headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in response.headers


# -- the language of error messages -----------------------------------------------------------------------

ITALIAN = {"Accept-Language": "it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7"}  # what a browser in Italian sends


def refusals(client, headers=None):
    """(a) malformed JSON, (b) a missing field, (c) a bad `lang`, (d) an unknown case, (e) an unknown route."""
    case_id = post(client, make_capture("offence")).json["id"]
    return [
        post(client, '{"kind": "offence",', headers=headers),
        post(client, {"kind": "testimonial", "page_url": "https://a.b"}, headers=headers),
        client.get(f"/api/captures/{case_id}/document.pdf?lang=fr", headers=headers),
        client.get("/api/captures/20260101-000000-abcdef", headers=headers),
        client.get("/api/nothing", headers=headers),
    ]


def test_error_messages_are_english_by_default(client):
    answers = [response.json["error"] for response in refusals(client)]
    assert [(a["code"], a["field"]) for a in answers] == [
        ("malformed_json", "body"), ("invalid_field", "text"), ("invalid_field", "lang"),
        ("not_found", "id"), ("not_found", None)]
    assert answers[0]["message"].startswith("The body is not valid JSON: ")
    assert answers[1]["message"] == "'text' is required."
    assert answers[2]["message"] == "'lang' must be 'it' or 'en'."
    assert answers[3]["message"] == "No case with id '20260101-000000-abcdef'."
    assert answers[4]["message"].startswith("The requested URL was not found on the server.")


@pytest.mark.parametrize("header", [ITALIAN, {"Accept-Language": "it"}])
def test_error_messages_follow_an_italian_accept_language(client, header):
    english = [response.json["error"] for response in refusals(client)]
    italian = [response.json["error"] for response in refusals(client, header)]
    # the same code and field (the contract), the text in Italian
    assert [(a["code"], a["field"]) for a in italian] == [(a["code"], a["field"]) for a in english]
    assert italian[0]["message"].startswith("Il corpo non è JSON valido: ")
    assert italian[1]["message"] == "'text' è obbligatorio."
    assert italian[2]["message"] == "'lang' deve essere 'it' o 'en'."
    assert italian[3]["message"] == "Nessun caso con id '20260101-000000-abcdef'."
    assert italian[4]["message"].startswith("L'indirizzo richiesto non esiste su questo server.")


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "fr-FR,fr;q=0.9", "*", "de, en;q=0.8, it;q=0.5"])
def test_english_wins_unless_italian_is_preferred(client, accept):
    response = client.get("/api/captures/20260101-000000-abcdef", headers={"Accept-Language": accept})
    assert response.json["error"]["message"] == "No case with id '20260101-000000-abcdef'."


def test_a_schema_failure_is_told_in_our_words_in_both_languages(client):
    """jsonschema's own texts are English: the API names the field with its own template instead."""
    body = make_capture(rating=6)
    assert post(client, body).json["error"]["message"] == "'rating' must be at most 5."
    assert post(client, body, headers=ITALIAN).json["error"]["message"] == "'rating' deve essere al massimo 5."
    unknown = make_capture(kind="compliment")
    assert post(client, unknown, headers=ITALIAN).json["error"]["message"] == (
        "'kind' deve essere uno tra testimonial, offence.")


@pytest.mark.parametrize("header, first", [({}, "The disk"), (ITALIAN, "Il disco")])
def test_a_full_disk_is_told_in_both_languages_the_preferred_first(client, header, first):
    from server.api import disk_full
    from server.store import StoreFull
    with client.application.test_request_context("/api/captures", method="POST", headers=header):
        response, status = disk_full(StoreFull(28, "disk full: nothing was stored"))
    message = response.json["error"]["message"]
    assert status == 507 and message.startswith(first) and "full" in message and "pieno" in message


def test_access_refusals_follow_the_accept_language_too(client):
    """A wrong token, a foreign Host, a web page's Origin: the same code and field, the text in Italian."""
    cases = [({"Authorization": "Bearer wrong-token"}, 401, "unauthorized", "Authorization", "Token di abbinamento"),
             ({"Host": "evil.example:8765"}, 403, "host_not_allowed", "Host", "Questo server risponde solo"),
             ({"Origin": "https://evil.example"}, 403, "origin_not_allowed", "Origin", "Solo l'estensione")]
    for headers, status, code, field, italian in cases:
        for language, start in ((None, None), (ITALIAN, italian)):
            response = client.get("/api/captures", headers={**headers, **(language or {})})
            error = response.json["error"]
            assert (response.status_code, error["code"], error["field"]) == (status, code, field)
            assert error["message"].startswith(start) if start else error["message"].isascii()
