"""Case workflows through the API: consent, placements, withdrawal with erasure, offence steps, signals."""
import hashlib
import json

import pytest

from conftest import b64, log_in, make_capture, png_bytes, tree_digest
from server.store import Store


pytestmark = pytest.mark.usefixtures("pinned_today")


CONSENT_REPLY = "Va bene per il sito, firmato Ottavio Inventato".encode()
PARTIAL = {"decision": "partial",
           "purposes": {"website": True, "landing_page": False, "social": False, "print": False, "ads": False},
           "photo": False, "attribution": "first_name_initial", "received_via": "email",
           "received_at": "2026-11-23", "evidence": {"media_type": "text/plain", "data": b64(CONSENT_REPLY)}}


def create(client, kind="testimonial", **overrides):
    response = client.post("/api/captures", json=make_capture(kind, **overrides))
    assert response.status_code == 201, response.json
    return response.json["id"]


def every_file_bytes(folder) -> bytes:
    return b"\n".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_testimonial_lifecycle_ends_taken_down_with_nothing_personal_left(client, store):
    case_id = create(client)
    assert client.get(f"/api/captures/{case_id}").json["status"] == "consent_requested"

    answered = client.post(f"/api/captures/{case_id}/consent", json=PARTIAL)
    assert answered.status_code == 201, answered.json
    assert answered.json["status"] == "consent_partial"
    assert answered.json["consent"]["purposes"]["website"] == "granted"
    assert answered.json["consent"]["purposes"]["social"] == "denied"
    reply = answered.json["consent"]["answers"][0]["evidence"]
    assert store.read_evidence(case_id, reply["name"]) == CONSENT_REPLY

    placed = client.post(f"/api/captures/{case_id}/placements",
                         json={"channel": "website", "url": "https://trattoria.example/recensioni",
                               "description": "Pagina recensioni", "published_at": "2026-11-23"})
    assert placed.status_code == 201 and placed.json["id"] == "p1"
    refused = client.post(f"/api/captures/{case_id}/placements",
                          json={"channel": "social", "published_at": "2026-11-23"})
    assert refused.status_code == 409 and refused.json["error"]["field"] == "channel"
    assert "social" in refused.json["error"]["message"]

    # A second answer is added; the first one stays as it was (append-only log).
    wider = {**PARTIAL, "purposes": {**PARTIAL["purposes"], "landing_page": True}, "evidence": None}
    assert client.post(f"/api/captures/{case_id}/consent", json=wider).status_code == 201
    answers = client.get(f"/api/captures/{case_id}").json["consent"]["answers"]
    assert [a["purposes"]["landing_page"] for a in answers] == [False, True]

    digest_before = tree_digest(store.data_dir)
    assert b"Ottavio Inventato" in every_file_bytes(store.data_dir)
    withdrawn = client.post(f"/api/captures/{case_id}/revocation",
                            json={"received_at": "2026-11-23", "received_via": "email"})
    assert withdrawn.status_code == 200, withdrawn.json
    assert withdrawn.json["status"] == "consent_withdrawn"
    assert [p["id"] for p in withdrawn.json["to_take_down"]] == ["p1"]
    erased = withdrawn.json["erased"]
    assert set(erased) == {"screenshot.png", "page.mhtml", "comment.html", "capture.json", reply["name"]}
    assert erased["screenshot.png"] == digest_before[f"cases/{case_id}/screenshot.png"]

    everything = every_file_bytes(store.data_dir)
    for secret in (b"Ottavio", b"ottavio.inventato", b"Cena splendida", b"firmato", png_bytes()):
        assert secret not in everything
    assert sorted(p.name for p in (store.data_dir / "cases" / case_id).iterdir()) == []

    case = client.get(f"/api/captures/{case_id}").json
    assert case["text"] is None and case["author"] == {"name": None, "profile_url": None}
    assert case["evidence"] == [] and case["erasure"]["erased"] == erased
    assert case["consent"]["purposes"]["website"] == "withdrawn"
    audit = [json.loads(line) for line in (store.data_dir / "audit.log").read_text().splitlines()]
    assert audit[-1]["event"] == "consent.withdrawn" and audit[-1]["details"]["erased"] == erased

    for path, body in [("consent", PARTIAL), ("placements", {"channel": "website", "published_at": "2026-11-23"}),
                       ("revocation", {"received_at": "2026-11-23", "received_via": "email"})]:
        again = client.post(f"/api/captures/{case_id}/{path}", json=body)
        assert again.status_code == 409, path

    removed = client.patch(f"/api/captures/{case_id}/placements/p1",
                           json={"removed_at": "2026-11-23",
                                 "evidence": {"media_type": "image/png", "data": b64(png_bytes(color=(1, 2, 3)))}})
    assert removed.status_code == 200, removed.json
    assert removed.json["status"] == "taken_down"
    assert removed.json["placements"][0]["removed_at"] == "2026-11-23"
    again = client.patch(f"/api/captures/{case_id}/placements/p1", json={"removed_at": "2026-11-23"})
    assert again.status_code == 409 and again.json["error"]["field"] == "placement_id"


def test_withdrawal_with_nothing_published_is_taken_down_at_once(client):
    case_id = create(client)
    answer = client.post(f"/api/captures/{case_id}/revocation",
                         json={"received_at": "2026-11-23", "received_via": "paper"})
    assert answer.json["status"] == "taken_down" and answer.json["to_take_down"] == []


def test_answer_that_drops_a_published_channel_is_refused(client):
    case_id = create(client)
    client.post(f"/api/captures/{case_id}/consent", json={**PARTIAL, "evidence": None})
    client.post(f"/api/captures/{case_id}/placements", json={"channel": "website", "published_at": "2026-11-23"})
    narrower = {**PARTIAL, "decision": "denied", "evidence": None,
                "purposes": {p: False for p in PARTIAL["purposes"]}}
    refused = client.post(f"/api/captures/{case_id}/consent", json=narrower)
    assert refused.status_code == 409 and refused.json["error"]["field"] == "purposes.website"


def test_other_channel_needs_every_purpose(client):
    case_id = create(client)
    client.post(f"/api/captures/{case_id}/consent", json={**PARTIAL, "evidence": None})
    body = {"channel": "other", "description": "Fiera", "published_at": "2026-11-23"}
    assert client.post(f"/api/captures/{case_id}/placements", json=body).status_code == 409
    full = {**PARTIAL, "decision": "granted", "evidence": None, "purposes": {p: True for p in PARTIAL["purposes"]}}
    client.post(f"/api/captures/{case_id}/consent", json=full)
    assert client.post(f"/api/captures/{case_id}/placements", json=body).status_code == 201


def test_offence_lifecycle_steps_status_and_deadlines(client):
    case_id = create(client, "offence", offence={"category": "defamation", "known_since": "2025-01-10"})
    case = client.get(f"/api/captures/{case_id}").json
    assert case["status"] == "documented"
    assert [(d["kind"], d["due"]) for d in case["deadlines"]] == [("querela", "2025-04-10"),
                                                                   ("civil_damages", "2030-01-10")]

    def act(**body):
        response = client.post(f"/api/captures/{case_id}/actions", json=body)
        assert response.status_code == 201, response.json
        return response.json

    assert act(type="contacted", date="2025-01-11")["status"] == "contacted"
    demand = act(type="removal_demand_sent", date="2025-01-15", reference="PEC 123", due="2025-01-25")
    assert {"kind": "removal_demand", "due": "2025-01-25"}.items() <= demand["deadlines"][0].items()
    filed = act(type="complaint_filed", date="2025-04-10", reference="Carabinieri Stazione Centro")
    assert filed["status"] == "complaint_filed"
    statuses = {d["kind"]: d["status"] for d in filed["deadlines"]}
    assert statuses == {"querela": "met", "removal_demand": "missed", "civil_damages": "open"}
    assert len(filed["advice"]) == 2
    # A step dated earlier does not move the status back.
    assert act(type="platform_report", date="2025-01-12")["status"] == "complaint_filed"
    history = [e["event"] for e in client.get(f"/api/captures/{case_id}").json["history"]]
    assert history.count("action.recorded") == 4


def test_changing_known_since_recomputes_and_keeps_the_reason(client, store):
    case_id = create(client, "offence", offence={"category": "harassment", "known_since": "2026-08-31"})
    assert client.get(f"/api/captures/{case_id}").json["deadlines"][0]["due"] == "2027-02-28"
    missing = client.patch(f"/api/captures/{case_id}", json={"known_since": "2026-09-01"})
    assert missing.status_code == 400 and missing.json["error"]["field"] == "reason"
    changed = client.patch(f"/api/captures/{case_id}",
                           json={"known_since": "2026-09-01", "reason": "Letto il post solo il giorno dopo"})
    assert changed.status_code == 200, changed.json
    assert changed.json["known_since"] == "2026-09-01"
    assert changed.json["deadlines"][0] == {"kind": "querela_stalking", "due": "2027-03-01",
                                           "basis": "art. 124 c.p.; art. 612-bis c.p.", "status": "open",
                                           "uncertain": False, "counted_from": "2026-09-01",
                                           "counted_from_kind": "knowledge", "non_working": None, "file_by": None}
    assert changed.json["known_since_changes"][0]["reason"] == "Letto il post solo il giorno dopo"
    event = changed.json["history"][-1]
    assert event["known_since_from"] == "2026-08-31" and event["known_since_to"] == "2026-09-01"
    assert event["reason_sha256"] == hashlib.sha256("Letto il post solo il giorno dopo".encode()).hexdigest()
    assert "Letto il post" not in (store.data_dir / "audit.log").read_text()


def test_signals_and_the_author_view(client):
    first = create(client, "offence")
    second = create(client, "offence", offence={"category": "threat_or_blackmail", "known_since": "2026-11-20"})
    create(client, "offence", author={"name": "Altra Persona", "profile_url": "https://www.facebook.com/altra"})
    client.patch(f"/api/captures/{first}", json={"signals": ["verbal_aggression", "nonstop_contact"]})
    client.patch(f"/api/captures/{second}", json={"signals": ["review_blackmail", "nonstop_contact"]})
    view = client.get("/api/authors", query_string={"profile_url": "https://www.facebook.com/ottavio.inventato.7"})
    assert view.status_code == 200
    assert {c["id"] for c in view.json["cases"]} == {first, second}
    assert view.json["names"] == ["Ottavio Inventato"]
    assert view.json["signals"] == {"nonstop_contact": 2, "review_blackmail": 1, "verbal_aggression": 1}
    assert client.get(f"/api/captures/{first}").json["signals"] == ["nonstop_contact", "verbal_aggression"]


@pytest.mark.parametrize("path, kind, body", [
    ("consent", "offence", {**PARTIAL, "evidence": None}),
    ("placements", "offence", {"channel": "website", "published_at": "2026-11-23"}),
    ("revocation", "offence", {"received_at": "2026-11-23", "received_via": "email"}),
    ("actions", "testimonial", {"type": "contacted", "date": "2026-11-23"}),
])
def test_steps_of_the_other_kind_are_refused_and_change_nothing(client, store, path, kind, body):
    case_id = create(client, kind)
    before = tree_digest(store.data_dir)
    response = client.post(f"/api/captures/{case_id}/{path}", json=body)
    assert response.status_code == 409 and response.json["error"]["code"] == "wrong_kind"
    assert tree_digest(store.data_dir) == before


@pytest.mark.parametrize("method, path", [
    ("post", "/api/captures/20260101-000000-abcdef/consent"),
    ("post", "/api/captures/20260101-000000-abcdef/placements"),
    ("patch", "/api/captures/20260101-000000-abcdef/placements/p1"),
    ("post", "/api/captures/20260101-000000-abcdef/revocation"),
    ("post", "/api/captures/20260101-000000-abcdef/actions"),
    ("patch", "/api/captures/20260101-000000-abcdef"),
])
def test_unknown_case_is_404(client, method, path):
    bodies = {"consent": {**PARTIAL, "evidence": None},
              "placements": {"channel": "website", "published_at": "2026-11-23"},
              "p1": {"removed_at": "2026-11-23"},
              "revocation": {"received_at": "2026-11-23", "received_via": "email"},
              "actions": {"type": "contacted", "date": "2026-11-23"}, "20260101-000000-abcdef": {"signals": []}}
    response = getattr(client, method)(path, json=bodies[path.rsplit("/", 1)[1]])
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_unknown_placement_is_404(client):
    case_id = create(client)
    response = client.patch(f"/api/captures/{case_id}/placements/p9", json={"removed_at": "2026-11-23"})
    assert response.status_code == 404 and response.json["error"]["field"] == "placement_id"


BAD_CONSENT = [
    ({"decision": "maybe"}, "decision"),
    ({"purposes": {"website": True}}, "purposes.landing_page"),
    ({"purposes": {**PARTIAL["purposes"], "website": "yes"}}, "purposes.website"),
    ({"purposes": {**PARTIAL["purposes"], "tv": True}}, "purposes.tv"),
    ({"photo": None}, "photo"),
    ({"attribution": "nickname"}, "attribution"),
    ({"received_via": "pigeon"}, "received_via"),
    ({"received_at": "23/11/2026"}, "received_at"),
    ({"received_at": "2026-02-30"}, "received_at"),
    ({"received_at": "2999-01-01"}, "received_at"),
    ({"evidence": {"media_type": "application/zip", "data": "AAAA"}}, "evidence.media_type"),
    ({"evidence": {"media_type": "application/pdf", "data": "not base64!"}}, "evidence.data"),
    ({"evidence": {"media_type": "image/png", "data": b64(b"%PDF-1.7 not a png")}}, "evidence.media_type"),
    ({"decision": "denied"}, "purposes"),
    ({"purposes": {p: False for p in PARTIAL["purposes"]}}, "purposes"),
    ({"unexpected": 1}, "unexpected"),
]


@pytest.mark.parametrize("change, field", BAD_CONSENT)
def test_bad_consent_names_the_field_and_changes_nothing(client, store, change, field):
    case_id = create(client)
    before = tree_digest(store.data_dir)
    response = client.post(f"/api/captures/{case_id}/consent", json={**PARTIAL, **change})
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == field
    assert tree_digest(store.data_dir) == before


@pytest.mark.parametrize("path, body, field", [
    ("placements", {"published_at": "2026-11-23"}, "channel"),
    ("placements", {"channel": "tv", "published_at": "2026-11-23"}, "channel"),
    ("placements", {"channel": "website", "published_at": "2026-11-23", "url": "javascript:alert(1)"}, "url"),
    ("placements", {"channel": "website", "published_at": "2026-11-23", "url": "ftp://x.example/"}, "url"),
    ("placements", {"channel": "website", "published_at": "2999-11-23"}, "published_at"),
    ("revocation", {"received_via": "email"}, "received_at"),
    ("revocation", {"received_at": "2026-11-23", "received_via": "telepathy"}, "received_via"),
    ("revocation", [], "body"),
])
def test_bad_testimonial_steps(client, path, body, field):
    case_id = create(client)
    response = client.post(f"/api/captures/{case_id}/{path}", json=body)
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_bad_json_and_removal_before_publication(client):
    case_id = create(client)
    response = client.post(f"/api/captures/{case_id}/consent", data=b"{nope", content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["field"] == "body"
    client.post(f"/api/captures/{case_id}/consent", json={**PARTIAL, "evidence": None})
    client.post(f"/api/captures/{case_id}/placements", json={"channel": "website", "published_at": "2026-11-20"})
    early = client.patch(f"/api/captures/{case_id}/placements/p1", json={"removed_at": "2026-11-19"})
    assert early.status_code == 400 and early.json["error"]["field"] == "removed_at"


@pytest.mark.parametrize("body, field", [
    ({"date": "2026-11-23"}, "type"),
    ({"type": "sued", "date": "2026-11-23"}, "type"),
    ({"type": "contacted"}, "date"),
    ({"type": "contacted", "date": "2999-01-01"}, "date"),
    ({"type": "contacted", "date": "2026-11-23", "due": "2026-12-01"}, "due"),
    ({"type": "removal_demand_sent", "date": "2026-11-23", "due": "2026-11-23"}, "due"),
    ({"type": "removal_demand_sent", "date": "2026-11-23", "due": "2026-13-01"}, "due"),
    ({"type": "contacted", "date": "2026-11-23", "notes": "x" * 5001}, "notes"),
])
def test_bad_actions(client, body, field):
    case_id = create(client, "offence")
    response = client.post(f"/api/captures/{case_id}/actions", json=body)
    assert response.status_code == 400 and response.json["error"]["field"] == field


@pytest.mark.parametrize("body, field", [
    ({}, "body"),
    ({"reason": "why"}, "reason"),
    ({"known_since": "2999-01-01", "reason": "why"}, "known_since"),
    ({"known_since": "2026-11-01", "reason": ""}, "reason"),
    ({"signals": ["rude"]}, "signals.0"),
    ({"signals": ["impatience", "impatience"]}, "signals"),
    ({"status": "resolved"}, "status"),
])
def test_bad_case_patch(client, body, field):
    case_id = create(client, "offence")
    response = client.patch(f"/api/captures/{case_id}", json=body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["field"] == field


def test_signals_and_known_since_on_a_testimonial_are_refused(client):
    case_id = create(client)
    assert client.patch(f"/api/captures/{case_id}", json={"signals": []}).status_code == 409


@pytest.mark.parametrize("query, field", [
    ({}, "profile_url"), ({"profile_url": "mailto:x@y.z"}, "profile_url"),
    ({"profile_url": "https://a.b", "x": 1}, "x"),
])
def test_bad_author_queries(client, query, field):
    response = client.get("/api/authors", query_string=query)
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_withdrawal_drops_the_cached_pdfs(client):
    from io import BytesIO

    from pypdf import PdfReader

    from server.render import pdf as documents

    def pdf_text(path):
        response = client.get(path)
        assert response.status_code == 200, response.data[:200]
        return " ".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)

    case_id = create(client)
    assert "Cena splendida" in pdf_text(f"/api/captures/{case_id}/document.pdf")  # rendered and cached
    client.post(f"/api/captures/{case_id}/revocation", json={"received_at": "2026-11-23", "received_via": "email"})
    # The cache is keyed by content, so the old PDF would not be served again; it must not stay in memory either.
    assert case_id not in {owner for owner, _ in documents._cache.values()}
    assert "Cena splendida" not in pdf_text(f"/api/captures/{case_id}/document.pdf")
    assert "Ottavio" not in pdf_text(f"/api/captures/{case_id}/takedown.pdf")


def test_withdrawal_erases_every_copy_and_keeps_only_the_proof(client, store):
    """Issue 10.8: page_url stayed in the record, the journal and the dashboard; the consent request PDF
    was still served (and bundled); witness files kept the permalink."""
    import io
    import zipfile

    case_id = create(client)
    assert client.post(f"/api/captures/{case_id}/consent", json=PARTIAL).status_code == 201
    capture = make_capture("testimonial")
    store.add_evidence(case_id, "witness-1.json", json.dumps({"url": capture["permalink"]}).encode(),
                       "application/json")
    assert client.get(f"/api/captures/{case_id}/consent-request.pdf").status_code == 200
    withdrawn = client.post(f"/api/captures/{case_id}/revocation",
                            json={"received_at": "2026-11-23", "received_via": "email"})
    assert withdrawn.status_code == 200 and "witness-1.json" in withdrawn.json["erased"]

    record = client.get(f"/api/captures/{case_id}").json
    assert record["page_url"] is None and record["rating"] is None and record["context"] is None
    assert record["consent"]["withdrawal"] == {"received_at": "2026-11-23", "received_via": "email",
                                               "recorded_at": record["erasure"]["at"]}
    assert record["consent"]["purposes"]["website"] == "withdrawn"

    refused = client.get(f"/api/captures/{case_id}/consent-request.pdf")
    assert refused.status_code == 409 and "withdrawn" in refused.json["error"]["message"]
    assert client.get(f"/api/captures/{case_id}/document.pdf").status_code == 200  # the takedown checklist
    bundle = zipfile.ZipFile(io.BytesIO(client.get(f"/api/captures/{case_id}/bundle.zip").data))
    assert not [name for name in bundle.namelist() if "consent-request" in name]
    bundled = b"".join(bundle.read(name) for name in bundle.namelist())
    page = log_in(client, store.data_dir).get(f"/cases/{case_id}")
    assert page.status_code == 200 and case_id.encode() in page.data
    page = page.data

    store.close()
    Store(store.data_dir).close()  # a restart: the journal is folded into the snapshot as well
    everything = every_file_bytes(store.data_dir)
    secrets = [s.encode() for s in (capture["page_url"], capture["permalink"], "facebook.com/ottavio",
                                    "trattoria.demo/posts", "Ottavio", "Cena splendida")] + [CONSENT_REPLY]
    for secret in secrets:
        assert secret not in everything and secret not in bundled and secret not in page, secret
