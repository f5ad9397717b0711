"""Retries and honest times with the real extension (issue #10 items 18-19): a capture made while the
server is down waits in the offline queue with its Idempotency-Key; delivered later it keeps the
browser's screenshot time and says it came from the queue; sent again (its 201 lost) it is the same case."""
import hashlib
import time
from datetime import datetime

from server.trust.clock import clock_report

from .conftest import wait_until
from .test_extension_capture import capture_fake_review_while_down


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_queued_capture_is_delivered_once_with_its_times(browser, testimone):
    [item] = capture_fake_review_while_down(browser, testimone)
    time.sleep(1.5)  # the server stays down a while

    testimone.start()
    popup = browser.extension_page("popup/popup.html")
    popup.click("#retry")
    wait_until(lambda: browser.storage()["queue"] == [], message="the queue to empty")
    [summary] = testimone.captures()
    record = testimone.get(f"/api/captures/{summary['id']}")
    assert record["idempotency_key_sha256"] == hashlib.sha256(item["id"].encode()).hexdigest()
    context = record["context"]
    assert context["queued"] is True
    assert moment(context["screenshot_at_client"]) <= moment(context["sent_at_client"])
    assert (moment(record["captured_at"]) - moment(context["screenshot_at_client"])).total_seconds() > 1.5
    clock = record.get("clock") or clock_report(record)
    assert abs(clock["difference_seconds"]) < 5  # the two clocks at delivery, not the wait in the queue

    # The 201 was lost on the way back: the extension still holds the item and sends it again.
    browser.storage({"queue": [item]})
    popup.evaluate("chrome.runtime.sendMessage({type: 'retry'})")
    wait_until(lambda: browser.storage()["queue"] == [], message="the repeated delivery")
    assert [c["id"] for c in testimone.captures()] == [summary["id"]], "one case, not two"
