"""Retries of one capture (the Idempotency-Key header of POST /api/captures).

The extension gives each capture a key and keeps it with the capture in its offline queue. When the
201 of a capture is lost (the connection dropped after the server stored it), the retry carries the
same key and gets back the case already made instead of a second one. This is not duplicate
detection: a deliberate second capture of the same comment has a new key.

The key is kept (as its SHA-256) in the canonical record (capture.json), so the answer survives a
restart, even one that rebuilds the records from the case folders; the index from key to case is
rebuilt from the records on first use.
"""
import hashlib
import re
import threading

from ..domain.errors import Invalid

HEADER = "Idempotency-Key"
RECORD_FIELD = "idempotency_key_sha256"
VALID_KEY = re.compile(r"[\x21-\x7e]{8,200}")  # printable ASCII: a UUID fits


def key_digest(key: str | None) -> str | None:
    """The stored form of a key sent in the header, or None when there is none; a 400 when malformed."""
    if key is None:
        return None
    if not VALID_KEY.fullmatch(key):
        raise Invalid(HEADER, "parameter.idempotency_key")
    return hashlib.sha256(key.encode()).hexdigest()


class Deliveries:
    """Which case each key made."""

    def __init__(self, store):
        self.store = store
        self.lock = threading.Lock()  # creating under it: two racing retries make one case
        self._cases: dict[str, str] | None = None

    def _index(self) -> dict[str, str]:
        if self._cases is None:
            self._cases, cursor = {}, None
            while True:
                page, cursor = self.store.list(limit=500, cursor=cursor)
                self._cases.update({record[RECORD_FIELD]: record["id"] for record in page if record.get(RECORD_FIELD)})
                if cursor is None:
                    break
        return self._cases

    def capture_once(self, digest: str, create) -> tuple[dict, bool]:
        """(record, replayed): the case this key already made, else the one `create()` makes now."""
        with self.lock:
            case_id = self._index().get(digest)
            earlier = self.store.get(case_id) if case_id else None
            if earlier is not None:
                return earlier, True
            record = create()
            self._cases[digest] = record["id"]
            return record, False
