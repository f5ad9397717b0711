"""GET /api/deadlines.ics, parsed back with the icalendar library."""
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from conftest import TOKEN, make_capture
from server.render import ics


pytestmark = pytest.mark.usefixtures("pinned_today")


def create(client, category="defamation", known_since="2026-11-22"):
    body = make_capture("offence", offence={"category": category, "known_since": known_since})
    return client.post("/api/captures", json=body).json["id"]


def feed(client, **query):
    response = client.get("/api/deadlines.ics", query_string=query)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events(calendar):
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def test_every_open_deadline_is_an_all_day_event_with_two_alarms(client):
    case_id = create(client)
    calendar = feed(client)
    assert str(calendar["version"]) == "2.0" and "prodid" in calendar
    found = events(calendar)
    assert set(found) == {f"{case_id}-querela@testimone.localhost"}  # civil damages: five years away
    querela = found[f"{case_id}-querela@testimone.localhost"]
    assert querela.decoded("dtstart") == date(2027, 2, 22)  # a date, not a date-time: all day
    assert querela.decoded("dtend") == date(2027, 2, 23)
    assert str(querela["summary"]) == f"Termine per la querela — caso {case_id[-6:]} (diffamazione)"
    description = str(querela["description"])
    assert "22/11/2026" in description and "art. 124 c.p." in description and f"/cases/{case_id}" in description
    assert sorted(alarm.decoded("trigger") for alarm in querela.walk("VALARM")) == [timedelta(days=-14),
                                                                                  timedelta(days=-7)]
    assert all(str(alarm["action"]) == "DISPLAY" and alarm["description"] for alarm in querela.walk("VALARM"))


def test_the_feed_carries_what_falls_due_within_a_year(client, pinned_today):
    old = create(client, known_since="2022-06-01")   # civil damages due 2027-06-01: within a year
    recent = create(client, known_since="2026-11-22")  # civil damages due 2031: not yet
    found = events(feed(client))
    assert f"{old}-civil_damages@testimone.localhost" in found
    assert f"{old}-querela@testimone.localhost" not in found  # missed long ago
    assert f"{recent}-civil_damages@testimone.localhost" not in found
    assert f"{recent}-querela@testimone.localhost" in found


def test_the_feed_names_no_author_and_quotes_no_text(client):
    create(client)
    raw = client.get("/api/deadlines.ics").data
    assert b"Ottavio" not in raw and b"incapace" not in raw


def test_met_missed_and_resolved_deadlines_are_left_out(client):
    filed = create(client)
    client.post(f"/api/captures/{filed}/actions", json={"type": "complaint_filed", "date": "2026-11-23"})
    old = create(client, known_since="2021-12-10")  # querela missed in 2022; civil damages due 10 Dec 2026
    closed = create(client, known_since="2021-12-10")
    client.post(f"/api/captures/{closed}/actions", json={"type": "resolved", "date": "2026-11-23"})
    uids = set(events(feed(client)))
    assert uids == {f"{old}-civil_damages@testimone.localhost"}


def test_english_feed_and_stalking(client):
    case_id = create(client, "harassment", "2026-08-31")
    event = events(feed(client, lang="en"))[f"{case_id}-querela_stalking@testimone.localhost"]
    assert str(event["summary"]) == f"Deadline for the criminal complaint (stalking) — case {case_id[-6:]} (harassment)"
    assert event.decoded("dtstart") == date(2027, 2, 28)
    assert "to be confirmed by your lawyer" in str(event["description"])


def test_the_token_may_come_as_a_query_parameter(client):
    create(client)
    assert client.get("/api/deadlines.ics", headers={"Authorization": ""}).status_code == 401
    assert client.get("/api/deadlines.ics", headers={"Authorization": ""},
                      query_string={"token": "wrong"}).status_code == 401
    response = client.get("/api/deadlines.ics", headers={"Authorization": ""}, query_string={"token": TOKEN})
    assert response.status_code == 200 and len(events(Calendar.from_ical(response.data))) == 1
    # Only this route: the rest of the API still wants the header.
    assert client.get("/api/captures", headers={"Authorization": ""}, query_string={"token": TOKEN}).status_code == 401


@pytest.mark.parametrize("query, field", [({"lang": "fr"}, "lang"), ({"format": "json"}, "format")])
def test_bad_parameters(client, query, field):
    response = client.get("/api/deadlines.ics", query_string=query)
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_an_empty_feed_is_still_a_valid_calendar(client):
    calendar = feed(client)
    assert calendar.walk("VEVENT") == [] and str(calendar["x-wr-calname"]) == "Testimone — scadenze"


@pytest.mark.parametrize("value", ["", "breve", "a" * 75, "a" * 76, "è" * 80, "€" * 60 + "x", "🙂" * 40,
                                   "virgola, punto; e virgola\\ a capo\nfine", "x" * 73 + "é" + "y" * 10])
def test_folding_and_escaping_read_back_exactly(value):
    """Every physical line is at most 75 octets, no UTF-8 character is cut, and a parser gets the value back."""
    from icalendar import Event

    from server.render.ics import fold, text

    raw = b"BEGIN:VEVENT\r\n" + fold(f"DESCRIPTION:{text(value)}") + b"END:VEVENT\r\n"
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    raw.decode("utf-8")  # whole characters on every line
    assert str(Event.from_ical(raw)["description"]) == value


def test_a_feed_of_many_deadlines_parses_back_whole(client):
    ids = [create(client, known_since="2026-11-0" + str(day)) for day in range(1, 10)]
    found = events(feed(client))
    assert {f"{case_id}-querela@testimone.localhost" for case_id in ids} <= set(found)
    raw = client.get("/api/deadlines.ics").data
    assert raw.endswith(b"END:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")


def test_an_unchanged_feed_is_kept_and_a_client_that_has_it_gets_304(client, pinned_today, monkeypatch):
    first_case = create(client)
    first = client.get("/api/deadlines.ics")
    built, real = [], ics.head
    monkeypatch.setattr(ics, "head", lambda *args: built.append(args) or b"rebuilt")
    again = client.get("/api/deadlines.ics")
    assert again.data == first.data and built == []  # nothing changed: the kept feed, not a new build
    assert client.get("/api/deadlines.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    monkeypatch.setattr(ics, "head", real)
    second_case = create(client)  # a write: the feed is built again and carries it
    changed = client.get("/api/deadlines.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert set(events(Calendar.from_ical(changed.data))) == {f"{first_case}-querela@testimone.localhost",
                                                             f"{second_case}-querela@testimone.localhost"}
    assert client.get("/api/deadlines.ics", query_string={"lang": "en"}).data != changed.data


def written_events(monkeypatch):
    """Record the events the server writes (rather than reads back from the case index)."""
    written, real = [], ics.event
    monkeypatch.setattr(ics, "event", lambda record, deadline, *rest: written.append(
        (record["id"], deadline["kind"])) or real(record, deadline, *rest))
    return written


def test_events_are_written_once_and_kept_until_their_case_changes(client, monkeypatch):
    first, second = create(client), create(client, known_since="2022-06-01")
    written = written_events(monkeypatch)
    before = feed(client)
    # Every open deadline of a case is written, also those beyond the feed's year (kept for later days).
    assert sorted(written) == sorted([(first, "querela"), (first, "civil_damages"), (second, "civil_damages")])
    written.clear()
    third = create(client)  # a write: the feed is built again, writing only the new case's events
    after = events(feed(client))
    assert sorted(written) == [(third, "civil_damages"), (third, "querela")]
    assert set(after) == set(events(before)) | {f"{third}-querela@testimone.localhost"}
    # A case that changes has its events written again, from its new record.
    written.clear()
    client.post(f"/api/captures/{first}/actions", json={"type": "complaint_filed", "date": "2026-11-23"})
    assert set(events(feed(client))) == set(after) - {f"{first}-querela@testimone.localhost"}
    assert written == []  # its querela is met; its civil damages are years away: written when within the year
    client.post(f"/api/captures/{second}/actions", json={"type": "removal_demand_sent", "date": "2026-11-23"})
    found = events(feed(client))
    assert sorted(written) == [(second, "civil_damages"), (second, "removal_demand")]
    assert f"{second}-removal_demand@testimone.localhost" in found
    # Kept events survive a restart: a new process builds the feed without writing them again.
    from conftest import LocalClient
    from server import create_app
    written.clear()
    client.application.extensions["testimone.store"].close()
    restarted = create_app({**client.application.config})
    restarted.test_client_class = LocalClient
    try:
        assert restarted.test_client().get("/api/deadlines.ics").data.count(b"BEGIN:VEVENT") == len(found)
        assert written == []
    finally:
        restarted.extensions["testimone.store"].close()


def test_a_case_written_while_its_events_are_written_is_not_kept_stale(client, monkeypatch):
    from server.services import cases
    case_id = create(client)
    real, raced = ics.event, []

    def event_then_a_write(record, deadline, *rest):
        if not raced:  # the owner files the complaint while the feed is being written
            raced.append(True)
            cases.record_action(client.application.extensions["testimone.store"], case_id,
                                {"type": "complaint_filed", "date": "2026-11-23"})
        return real(record, deadline, *rest)

    monkeypatch.setattr(ics, "event", event_then_a_write)
    assert events(feed(client)) == {}  # the event written from the old record was not kept, nor served
    assert events(feed(client)) == {}


def test_when_the_index_cannot_keep_events_the_feed_is_written_whole(client, monkeypatch):
    from server.store import Store
    case_id = create(client)
    monkeypatch.setattr(Store, "keep_feed_events", lambda *args: False)  # a full disk, say
    assert set(events(feed(client))) == {f"{case_id}-querela@testimone.localhost"}


def test_kept_events_of_another_version_are_not_used(client, monkeypatch):
    case_id = create(client)
    feed(client)
    written = written_events(monkeypatch)
    monkeypatch.setattr(ics, "version", lambda: "another")  # new wording in the catalogues, say
    create(client)  # any write: the feed is built again
    feed(client)
    assert (case_id, "querela") in written


def test_the_window_moves_with_the_day_without_writing_events_again(client, monkeypatch, pinned_today):
    from server.domain import schemas
    case_id = create(client, known_since="2022-06-01")  # civil damages due 2027-06-01, querela long missed
    create(client)  # querela due 2027-02-22
    feed(client)
    written = written_events(monkeypatch)
    monkeypatch.setattr(schemas, "today_in_italy", lambda: date(2027, 3, 1))  # past the querela's due date
    assert set(events(feed(client))) == {f"{case_id}-civil_damages@testimone.localhost"}
    assert written == []


def test_the_feed_is_sent_from_one_kept_file(client, tmp_path):
    data_dir = tmp_path / "data"
    create(client)
    first = client.get("/api/deadlines.ics")
    files = list((data_dir / "feeds").iterdir())
    assert [f.read_bytes() for f in files] == [first.data]
    create(client)
    second = client.get("/api/deadlines.ics")
    english = client.get("/api/deadlines.ics", query_string={"lang": "en"})
    kept = sorted(f.read_bytes() for f in (data_dir / "feeds").iterdir())
    assert kept == sorted([second.data, english.data])  # the older one is gone; each language has its file


def test_the_deadlines_due_soon_are_counted_without_the_feed(client, pinned_today):
    """GET /api/deadlines: what the extension's badge shows (open deadlines within 14 days, today included)."""
    soon = create(client, known_since="2026-08-25")  # querela due 2026-11-25 (a Wednesday): in two days
    edge = create(client, known_since="2026-09-07")  # querela due 2026-12-07: the 14th day, included
    create(client, known_since="2026-09-08")  # due 2026-12-08: the 15th day
    filed = create(client, known_since="2026-08-26")
    client.post(f"/api/captures/{filed}/actions", json={"type": "complaint_filed", "date": "2026-11-23"})
    answer = client.get("/api/deadlines")
    assert answer.status_code == 200
    assert answer.json == {"within_days": 14, "count": 2, "deadlines": [
        {"case_id": soon, "kind": "querela", "due": "2026-11-25"},
        {"case_id": edge, "kind": "querela", "due": "2026-12-07"}]}
    assert client.get("/api/deadlines", query_string={"within": "15"}).json["count"] == 3
    for bad in ("0", "367", "-1", "2.5", "x", ""):
        refused = client.get("/api/deadlines", query_string={"within": bad})
        assert refused.status_code == 400 and refused.json["error"]["field"] == "within", bad
    assert client.get("/api/deadlines", query_string={"days": "3"}).json["error"]["field"] == "days"


def test_a_full_disk_while_writing_the_feed_is_a_507_and_leaves_no_file(client, tmp_path, monkeypatch):
    import builtins
    import errno

    import server.store as store_module
    create(client)

    def no_space(path, mode="r", *args, **kwargs):
        if "w" in mode and "feeds" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        return builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(store_module, "open", no_space, raising=False)
    answer = client.get("/api/deadlines.ics")
    assert answer.status_code == 507 and answer.json["error"]["code"] == "insufficient_storage"
    assert list((tmp_path / "data" / "feeds").iterdir()) == []
    monkeypatch.delattr(store_module, "open")  # space again: the feed is written
    assert client.get("/api/deadlines.ics").status_code == 200
