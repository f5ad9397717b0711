"""Honest times for a capture sent late from the offline queue (issue #10 item 19): captured_at stays the
server's receipt time; the browser's screenshot time and queued:true are kept and printed; the clock
check compares the two clocks at delivery, not the time spent in the queue."""
import pytest

from conftest import make_capture, png_bytes
from server.render import samples
from server.trust.clock import clock_report
from test_documents import render_checked, squeezed, text_of


def queued_capture(**context):
    body = make_capture()
    body["context"].update(screenshot_at_client="2026-11-23T02:43:10.000Z", captured_at_client="2026-11-23T02:43:11.000Z",
                           queued=True, **context)
    return body


def test_a_queued_capture_keeps_both_times(client):
    created = client.post("/api/captures", json=queued_capture(sent_at_client="2026-11-23T02:46:00.000Z")).json
    record = client.get(created["links"]["self"]).json
    assert record["captured_at"] == created["captured_at"]  # the server's receipt time, hashed and ordered by
    assert record["context"]["screenshot_at_client"] == "2026-11-23T02:43:10.000Z"
    assert record["context"]["queued"] is True
    plain = client.post("/api/captures", json=make_capture()).json
    assert client.get(plain["links"]["self"]).json["context"]["queued"] is False


def test_the_clock_check_compares_at_delivery_not_the_queue_delay():
    context = {"screenshot_at_client": "2026-11-23T02:43:10Z", "captured_at_client": "2026-11-23T02:43:11Z",
               "sent_at_client": "2026-11-23T02:46:01.500Z", "queued": True}
    report = clock_report({"captured_at": "2026-11-23T02:46:03.000Z", "context": context})
    assert report["difference_seconds"] == 1.5 and report["client"] == context["sent_at_client"]
    # A queued capture from an extension that did not say when it sent: unknown, not 172 s.
    del context["sent_at_client"]
    assert clock_report({"captured_at": "2026-11-23T02:46:03.000Z", "context": context})["difference_seconds"] is None
    # Sent at once: the capture time is the sending time.
    context["queued"] = False
    assert clock_report({"captured_at": "2026-11-23T02:43:12.000Z", "context": context})["difference_seconds"] == 1.0


@pytest.mark.parametrize("lang,expected", [
    ("en", "screenshot taken at 23 November 2026, 02:43:10 UTC (browser clock), received at 23 November 2026, "
           "02:46:03 UTC (server clock), delivered from the offline queue"),
    ("it", "schermata acquisita il 23 novembre 2026, 02:43:10 UTC (orologio del browser), ricevuta il "
           "23 novembre 2026, 02:46:03 UTC (orologio del server), consegnata dalla coda offline")])
def test_the_incident_report_says_when_the_screenshot_was_taken_and_received(lang, expected):
    record = samples.offence()
    record = {**record, "captured_at": "2026-11-23T02:46:03.000Z", "clock": None,
              "context": {**record["context"], "screenshot_at_client": "2026-11-23T02:43:10.000Z",
                          "sent_at_client": "2026-11-23T02:46:01.500Z", "queued": True}}
    text = squeezed(text_of(render_checked("incident_report", record, lang=lang, shot=png_bytes())))
    assert squeezed(expected) in text
    # The clocks compared at delivery, not the 173 s spent in the queue.
    assert squeezed("browser +1.5 s" if lang == "en" else "browser +1,5 s") in text
    assert squeezed("Screenshot captured on 23 November 2026, 02:43:10 UTC (browser clock)" if lang == "en"
                    else "Schermata acquisita il 23 novembre 2026, 02:43:10 UTC (orologio del browser)") in text
