"""The evidence work done after a capture, in the background: the RFC 3161 timestamp, the clock record
and the second witness; and the retry of timestamps still pending.

Settings: TESTIMONE_TSA_URL (default https://freetsa.org/tsr, empty = off), TESTIMONE_TSA_CA_FILE
(PEM with the TSA's CA chain, stored with each timestamp), TESTIMONE_TSA_RETRY_SECONDS (300),
TESTIMONE_NTP_SERVER (empty = no NTP measurement), TESTIMONE_WITNESS (0 = no second witness).
"""
import logging
import queue
import threading
import time

from ..trust import anchors
from ..trust.clock import clock_report, measure_ntp
from ..trust.timestamps import (CHAIN, DEFAULT_TSA_URL, MANIFEST, TSQ, TSR, TimestampError, request_timestamp,
                                split_credentials)

log = logging.getLogger(__name__)


# -- in a case ------------------------------------------------------------------------------------

def _free_name(store, case_id: str, name: str) -> str:
    """`name`, or name-2, name-3... when an interrupted earlier attempt left a file with that name."""
    stem, dot, ext = name.partition(".")
    candidate, n = name, 1
    while store.case_file_exists(case_id, candidate):
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    return candidate


def stamp_case(store, case_id: str, tsa_url: str, ca_file: str | None = None) -> str:
    """Timestamp one case now; on failure mark it pending. Returns "stamped", "pending" (the TSA
    failed) or "skipped" (no such case, or its capture.json was erased)."""
    public_url = split_credentials(tsa_url)[0]
    record = store.get(case_id)
    if record is None:
        return "skipped"
    if (record.get("timestamp") or {}).get("status") == "stamped":
        return "stamped"
    try:
        data = store.read_evidence(case_id, MANIFEST)
    except FileNotFoundError:
        return "skipped"  # erased: nothing left to timestamp
    try:
        result = request_timestamp(data, tsa_url, ca_file)
    except TimestampError as error:
        log.warning("timestamp of case %s pending: %s", case_id, error)
        if (record.get("timestamp") or {}).get("status") != "pending":
            def pending(rec):
                rec["timestamp"] = {"status": "pending", "url": public_url, "since": record["captured_at"],
                                    "last_error": str(error)[:300]}
            store.update(case_id, pending, "timestamp.pending", tsa=public_url)
        return "pending"
    files = {}
    for key, name, media_type in (("tsq", TSQ, "application/timestamp-query"),
                                  ("tsr", TSR, "application/timestamp-reply"),
                                  ("chain", CHAIN, "application/x-pem-file")):
        files[key] = _free_name(store, case_id, name)
        store.add_evidence(case_id, files[key], result[key], media_type)
    info = {**result["info"], "url": public_url}

    def stamped(rec):
        rec["timestamp"] = {"status": "stamped", "files": files, **info}
    store.update(case_id, stamped, "timestamp.stamped", tsa=public_url, time=info["time"],
                 imprint_sha256=info["imprint_sha256"])
    return "stamped"


def pending_cases(store) -> list[str]:
    """Cases still waiting for a timestamp: marked pending, or never tried (the server stopped first)."""
    return [case_id for case_id in store.ids("unstamped") if store.case_file_exists(case_id, MANIFEST)]


def record_clock(store, case_id: str, ntp_server: str | None) -> None:
    record = store.get(case_id)
    if record is None or "clock" in record:
        return
    report = clock_report(record, measure_ntp(ntp_server))
    store.update(case_id, lambda rec: rec.__setitem__("clock", report), "clock.recorded",
                 difference_seconds=report["difference_seconds"],
                 ntp_offset_seconds=(report["ntp"] or {}).get("offset_seconds"))


def queued_cases(store) -> list[str]:
    """Cases whose background work was queued and never finished, oldest first."""
    return store.ids("queued")


# -- background worker ------------------------------------------------------------------------------

class EvidenceWorker:
    """One thread per app: after each capture, the timestamp (first: it should be as close to the
    capture as possible), the clock record and the second witness; every `retry` seconds, the
    timestamps still pending. The 201 never waits for any of it."""

    def __init__(self, app):
        self.store = app.extensions["testimone.store"]
        self.config = app.config
        self.queue = queue.Queue()
        self.pending = set()  # cases whose timestamp failed; filled from the records at start
        self.thread = threading.Thread(target=self._run, name="testimone-evidence", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self, timeout: float = 30):
        self.queue.put(None)
        self.thread.join(timeout)

    def on_capture(self, record: dict) -> dict:
        self.queue.put(record["id"])
        return record

    def _run(self):
        retry = float(self.config.get("TSA_RETRY_SECONDS", 300))
        if self.config.get("TSA_URL"):
            self.pending.update(pending_cases(self.store))  # also cases the server never got round to
        for case_id in queued_cases(self.store):  # the queue of the last run, cut by a stop or a crash
            self.queue.put(case_id)
        next_retry = next_anchor = time.monotonic()
        while True:
            if time.monotonic() >= next_retry:  # also under a steady stream of captures
                self.retry_pending()
                next_retry = time.monotonic() + retry
            if self.config.get("TSA_URL") and time.monotonic() >= next_anchor:
                self.anchor()
                next_anchor = time.monotonic() + float(self.config["ANCHOR_SECONDS"])
            try:
                case_id = self.queue.get(timeout=max(0.0, min(next_retry, next_anchor) - time.monotonic()))
            except queue.Empty:
                continue
            try:
                if case_id is None:
                    return
                self.handle(case_id)
            except Exception:  # a failed job must not kill the worker; a pending timestamp is retried
                log.exception("background evidence work on case %s failed", case_id)
            finally:
                self.queue.task_done()

    def _stamp(self, case_id: str) -> bool:
        """True unless the TSA failed (the case then stays pending)."""
        failed = stamp_case(self.store, case_id, self.config["TSA_URL"], self.config.get("TSA_CA_FILE")) == "pending"
        (self.pending.add if failed else self.pending.discard)(case_id)
        return not failed

    def handle(self, case_id: str):
        record = self.store.get(case_id)
        if record is None or record.get("background") != "queued" or "erasure" in record:
            return  # already done (queued at start and again by its capture), or erased: nothing to witness
        if self.config.get("TSA_URL"):
            self._stamp(case_id)
        record_clock(self.store, case_id, self.config.get("NTP_SERVER"))
        if self.config.get("WITNESS"):
            from ..trust.witness import witness_case

            witness_case(self.store, case_id, self.config, reason="capture")
        self.store.update(case_id, lambda rec: rec.pop("background", None), "background.done")

    def anchor(self):
        """Timestamp the audit chain's head (when new events were logged since the last anchor)."""
        try:
            anchors.anchor_now(self.store, self.config["TSA_URL"], self.config.get("TSA_CA_FILE"))
        except TimestampError as error:
            log.warning("audit chain not anchored this time: %s", error)

    def retry_pending(self):
        for case_id in sorted(self.pending):
            try:
                if not self._stamp(case_id):
                    return  # the TSA is still down: no point trying the others now
            except Exception:
                log.exception("timestamp retry of case %s failed", case_id)


def init_app(app, explicit_config: bool = False) -> None:
    """Defaults, and the worker. An app built from an explicit test config does no network work unless
    that config asks for it (TSA_URL, WITNESS, NTP_SERVER), so test suites never reach the internet."""
    network_default = not explicit_config
    app.config.setdefault("TSA_URL", DEFAULT_TSA_URL if network_default else "")
    app.config.setdefault("WITNESS", network_default)
    app.config.setdefault("NTP_SERVER", "")
    app.config.setdefault("TSA_RETRY_SECONDS", 300)
    app.config.setdefault("ANCHOR_SECONDS", 3600)
    if isinstance(app.config["WITNESS"], str):  # from the environment: TESTIMONE_WITNESS=0 turns it off
        app.config["WITNESS"] = app.config["WITNESS"].strip().lower() not in ("", "0", "false", "no", "off")
    if not app.config.get("BACKGROUND", True):  # commands that do the work in the foreground
        return
    if not (app.config["TSA_URL"] or app.config["WITNESS"] or app.config["NTP_SERVER"]):
        return
    worker = EvidenceWorker(app)
    app.extensions["testimone.evidence_worker"] = worker
    app.extensions.setdefault("testimone.on_capture", []).append(worker.on_capture)
    worker.start()
