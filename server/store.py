"""Records (TinyDB) and evidence files: the only module that touches the data directory.

Layout (docs/architecture.md, "The data directory"):
    testimone.json   TinyDB snapshot of every table (rewritten only at start-up and after an erasure)
    journal.jsonl    every change since the snapshot, one fsynced line each
    audit.log        append-only, hash-chained events (server/domain/integrity.py)
    cases/<id>/      write-once evidence files and capture.json, the canonical record

Reads are served from memory (TinyDB on MemoryStorage). A write appends one journal line, so its cost
does not grow with the number of stored cases; the snapshot absorbs the journal when the store opens.
Every write holds one lock, and is on disk (fsync) before the call returns.
"""
import base64
import copy
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage

from .domain.integrity import EMPTY_SHA256, audit_line, canonical_json, sha256_hex

CASES = "cases"
SETTINGS = "settings"
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class StoreLocked(RuntimeError):
    """Another process already holds this data directory."""


class UnknownCase(KeyError):
    pass


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist: evidence is write-once) and force it to disk."""
    with open(path, "xb", opener=lambda name, flags: os.open(name, flags, 0o600)) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _atomic_replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read_lines(path: Path) -> tuple[list[bytes], bool]:
    """Complete lines of a file, and whether a torn last line (a write cut by a crash) was dropped."""
    if not path.exists():
        return [], False
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop() != b""
    return lines, torn


class CaseFiles:
    """Reads that Store and StoreView share (they set data_dir and cases_dir): through these, no other
    module needs to know how the data directory is laid out."""

    def case_file_exists(self, case_id: str, name: str) -> bool:
        """Whether the case folder holds `name`, listed in the record or not (a write cut short leaves one)."""
        return bool(SAFE_NAME.match(case_id) and SAFE_NAME.match(name)) and (self.cases_dir / case_id / name).exists()

    def audit_lines(self, case_id: str | None = None) -> list[bytes]:
        """The complete lines of audit.log, verbatim (only the case's when `case_id` is given; lines that
        are not JSON are left out then: `testimone verify` names them)."""
        lines, _ = _read_lines(self.data_dir / "audit.log")
        if case_id is None:
            return lines
        mine = []
        for line in lines:
            try:
                if json.loads(line).get("case") == case_id:
                    mine.append(line)
            except (ValueError, AttributeError):
                continue
        return mine


class Store(CaseFiles):
    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.cases_dir = self.data_dir / CASES
        self.cases_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # personal data: readable by this user only
        self._lock = threading.RLock()
        self._hold_directory()
        self.db = TinyDB(storage=MemoryStorage)
        self._cases = self.db.table(CASES, cache_size=0)
        self._settings = self.db.table(SETTINGS, cache_size=0)
        self._load()
        self._ids = {doc["id"]: doc.doc_id for doc in self._cases.all()}
        self._open_audit()
        self._discard_unacknowledged()

    # -- opening ----------------------------------------------------------------------------

    def _hold_directory(self) -> None:
        self._lock_file = open(self.data_dir / "lock", "a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StoreLocked(f"another Testimone process is using {self.data_dir}") from None

    def _load(self) -> None:
        snapshot = self.data_dir / "testimone.json"
        tables = json.loads(snapshot.read_bytes()) if snapshot.exists() else {}
        journal_path = self.data_dir / "journal.jsonl"
        lines, _ = _read_lines(journal_path)
        for line in lines:
            change = json.loads(line)
            table = tables.setdefault(change["table"], {})
            if change["doc"] is None:
                table.pop(str(change["doc_id"]), None)
            else:
                table[str(change["doc_id"])] = change["doc"]
        for name in (CASES, SETTINGS):
            tables.setdefault(name, {})
        self.db.storage.write(tables)
        self._tables = tables
        self._next_case = max(map(int, tables[CASES]), default=0) + 1
        if lines or not snapshot.exists():
            self._write_snapshot()
        self._journal = open(journal_path, "wb")  # the snapshot now holds everything: start afresh

    def _write_snapshot(self) -> None:
        _atomic_replace(self.data_dir / "testimone.json", json.dumps(self._tables, ensure_ascii=False).encode())

    def _open_audit(self) -> None:
        path = self.data_dir / "audit.log"
        lines, torn = _read_lines(path)
        if torn:  # an event cut by a crash was never acknowledged: drop the fragment
            with open(path, "r+b") as handle:
                handle.truncate(sum(len(line) + 1 for line in lines))
                os.fsync(handle.fileno())
        self._audit_seq = len(lines)
        self._audit_prev = sha256_hex(lines[-1]) if lines else EMPTY_SHA256
        self._audit = open(path, "ab")

    def _discard_unacknowledged(self) -> None:
        """Case folders without a record were never answered 201: the client still has them queued."""
        for folder in self.cases_dir.iterdir():
            if folder.name not in self._ids:
                shutil.rmtree(folder)
                if not folder.name.startswith(".tmp-"):
                    self.audit("capture.discarded", folder.name, reason="no record: interrupted before 201")
        _fsync_dir(self.cases_dir)

    def close(self) -> None:
        with self._lock:
            self._journal.close()
            self._audit.close()
            self._lock_file.close()

    # -- low-level writes (callers hold self._lock) -----------------------------------------------

    def _put(self, table: str, doc_id: int, doc: dict) -> None:
        """Store one document in memory and in the journal.

        TinyDB's Table.insert/update rebuild the whole table dict on every call (147 ms per write with
        100,000 records, benchmarks/tinydb_storage.py); setting the one key keeps a write O(1). TinyDB
        reads the same dict, so its queries see the change at once (its query cache is off).
        """
        self._tables[table][str(doc_id)] = doc
        self._log_change(table, doc_id, doc)

    def _log_change(self, table: str, doc_id: int, doc) -> None:
        line = json.dumps({"table": table, "doc_id": doc_id, "doc": doc}, ensure_ascii=False)
        self._journal.write(line.encode() + b"\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def audit(self, event: str, case_id: str | None = None, **details) -> str:
        """Append one event to audit.log (never personal content: ids, hashes, dates). Returns its time."""
        with self._lock:
            at = iso_utc(utc_now())
            line = audit_line(self._audit_prev, self._audit_seq + 1, at, event, case_id, details)
            self._audit.write(line + b"\n")
            self._audit.flush()
            os.fsync(self._audit.fileno())
            self._audit_seq += 1
            self._audit_prev = sha256_hex(line)
            return at

    # -- cases ------------------------------------------------------------------------------------

    def _new_case_id(self, now: datetime) -> str:
        while True:
            case_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
            if case_id not in self._ids:
                return case_id

    def create_capture(self, fields: dict, files: dict, **state) -> dict:
        """Write the evidence files and capture.json, then the record: on disk when this returns.

        `files` maps a file name to (bytes, media type). The canonical record (capture.json) is
        `fields` plus id, captured_at and the evidence list; its SHA-256 goes in the record, with
        `state` (status and other fields that change over the life of the case).
        """
        now = utc_now()
        with self._lock:
            case_id = self._new_case_id(now)
            self._ids[case_id] = None  # reserved
        tmp = self.cases_dir / f".tmp-{case_id}"
        try:
            tmp.mkdir()
            evidence = []
            for name, (data, media_type) in files.items():
                _write_new_file(tmp / name, data)
                evidence.append({"name": name, "media_type": media_type, "size": len(data),
                                 "sha256": sha256_hex(data)})
            canonical = {**fields, "id": case_id, "captured_at": iso_utc(now), "evidence": evidence}
            raw = canonical_json(canonical)
            _write_new_file(tmp / "capture.json", raw)
            _fsync_dir(tmp)
            os.rename(tmp, self.cases_dir / case_id)
            _fsync_dir(self.cases_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            with self._lock:
                self._ids.pop(case_id, None)
            raise
        record = {**canonical, **state, "sha256": sha256_hex(raw), "history": []}
        details = {"sha256": record["sha256"], "evidence": {e["name"]: e["sha256"] for e in evidence}}
        with self._lock:
            record["history"].append({"at": record["captured_at"], "event": "capture.created", **details})
            doc_id, self._next_case = self._next_case, self._next_case + 1
            self._put(CASES, doc_id, record)
            self._ids[case_id] = doc_id
            self.audit("capture.created", case_id, **details)
        return copy.deepcopy(record)

    def get(self, case_id: str) -> dict | None:
        with self._lock:
            doc_id = self._ids.get(case_id)
            if doc_id is None:
                return None
            return copy.deepcopy(dict(self._cases.get(doc_id=doc_id)))

    def update(self, case_id: str, mutate, event: str, **details) -> dict:
        """Apply `mutate(record)` and record `event` in the case history and the audit log."""
        with self._lock:
            record = self.get(case_id)
            if record is None:
                raise UnknownCase(case_id)
            mutate(record)
            at = self.audit(event, case_id, **details)
            record["history"].append({"at": at, "event": event, **details})
            self._put(CASES, self._ids[case_id], record)
            return copy.deepcopy(record)

    def list(self, kind=None, status=None, platform=None, q=None, limit=50, cursor=None, permalink=None,
             text_sha256=None):
        """Cases newest first, filtered; returns (records, next_cursor or None).

        `permalink` and `text_sha256` find earlier captures of the same comment (either matches); an
        erased case has neither its permalink nor its text any more, so it never matches."""
        case = Query()
        conditions = []
        same = []
        if permalink:
            same.append(case.permalink == permalink)
        if text_sha256:
            same.append(case.text.test(lambda value: isinstance(value, str)
                                       and hashlib.sha256(value.encode("utf-8")).hexdigest() == text_sha256))
        if same:
            conditions.append(same[0] | same[1] if len(same) == 2 else same[0])
        if kind:
            conditions.append(case.kind == kind)
        if status:
            conditions.append(case.status == status)
        if platform:
            conditions.append(case.platform == platform)
        if q:
            needle = q.casefold()

            def contains(value):
                return isinstance(value, str) and needle in value.casefold()

            conditions.append(case.text.test(contains) | case.author.name.test(contains))
        before = decode_cursor(cursor) if cursor else None
        with self._lock:
            if conditions:
                condition = conditions[0]
                for extra in conditions[1:]:
                    condition &= extra
                docs = self._cases.search(condition)
            else:
                docs = self._cases.all()
            docs.sort(key=lambda doc: doc.doc_id, reverse=True)
            if before is not None:
                docs = [doc for doc in docs if doc.doc_id < before]
            page = [copy.deepcopy(dict(doc)) for doc in docs[:limit]]
            next_cursor = encode_cursor(docs[limit - 1].doc_id) if len(docs) > limit else None
        return page, next_cursor

    def count(self) -> int:
        with self._lock:
            return len(self._cases)

    # -- evidence files -------------------------------------------------------------------------

    def evidence_path(self, case_id: str, name: str) -> Path:
        return _evidence_path(self.cases_dir, self.get(case_id), case_id, name)

    def read_evidence(self, case_id: str, name: str) -> bytes:
        return self.evidence_path(case_id, name).read_bytes()

    def add_evidence(self, case_id: str, name: str, data: bytes, media_type: str) -> dict:
        """A further write-once file in the case folder (a consent reply, a removal proof...)."""
        if not SAFE_NAME.match(name):
            raise ValueError(f"unsafe evidence file name: {name!r}")
        entry = {"name": name, "media_type": media_type, "size": len(data), "sha256": sha256_hex(data)}
        with self._lock:
            if self.get(case_id) is None:
                raise UnknownCase(case_id)
            folder = self.cases_dir / case_id
            _write_new_file(folder / name, data)
            _fsync_dir(folder)
            self.update(case_id, lambda record: record["evidence"].append(entry), "evidence.added",
                        name=name, sha256=entry["sha256"])
        return entry

    def erase(self, case_id: str, names, mutate, event: str, **details) -> dict:
        """Delete evidence files and personal fields for good, leaving no copy in the data directory.

        `mutate` blanks the record's fields; the snapshot is rewritten and the journal emptied so that
        no earlier version of the record survives on disk.
        """
        with self._lock:
            if self.get(case_id) is None:
                raise UnknownCase(case_id)
            folder = self.cases_dir / case_id
            for name in names:
                (folder / name).unlink(missing_ok=True)
            _fsync_dir(folder)
            record = self.update(case_id, mutate, event, **details)
            self.compact()
            return record

    def compact(self) -> None:
        """Fold the journal into the snapshot (start-up does this too)."""
        with self._lock:
            self._write_snapshot()
            self._journal.truncate(0)
            self._journal.seek(0)
            os.fsync(self._journal.fileno())

    # -- settings ---------------------------------------------------------------------------------

    def get_setting(self, key: str, default=None):
        with self._lock:
            doc = self._settings.get(Query().key == key)
            return copy.deepcopy(doc["value"]) if doc else default

    def put_setting(self, key: str, value) -> None:
        with self._lock:
            doc = self._settings.get(Query().key == key)
            doc_id = doc.doc_id if doc else max(map(int, self._tables[SETTINGS]), default=0) + 1
            self._put(SETTINGS, doc_id, {"key": key, "value": copy.deepcopy(value)})
            self.audit("setting.changed", None, key=key)


def encode_cursor(doc_id: int) -> str:
    return base64.urlsafe_b64encode(f"before:{doc_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Raises ValueError for anything that is not a cursor this store handed out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, number = text.split(":")
        if prefix != "before" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("invalid cursor") from error


def _evidence_path(cases_dir: Path, record: dict | None, case_id: str, name: str) -> Path:
    """Only a file the record lists (or capture.json): a name from a request never reaches the disk."""
    if record is None:
        raise UnknownCase(case_id)
    known = {e["name"] for e in record["evidence"]} | {"capture.json"}
    if name not in known:
        raise FileNotFoundError(f"{case_id}/{name}")
    return cases_dir / case_id / name


def read_tables(data_dir) -> tuple[dict, dict | None, bool]:
    """The tables as the store sees them, without opening (or locking) the directory: the snapshot with
    the journal's complete lines replayed on top (a line without its newline is a write in progress);
    also the last journal change and whether the snapshot exists."""
    data_dir = Path(data_dir)
    snapshot = data_dir / "testimone.json"
    exists = snapshot.exists()
    tables = json.loads(snapshot.read_bytes()) if exists else {}
    lines, _ = _read_lines(data_dir / "journal.jsonl")
    last = None
    for line in lines:
        last = json.loads(line)
        tables.setdefault(last["table"], {})[str(last["doc_id"])] = last["doc"]
    for name in (CASES, SETTINGS):
        tables.setdefault(name, {})
    return tables, last, exists


class StoreView(CaseFiles):
    """A read-only view of a data directory, as it was when the view was made. It takes no lock, so it
    works beside the running server that holds the directory (`testimone export`, `testimone verify`)."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.cases_dir = self.data_dir / CASES
        tables, _, _ = read_tables(self.data_dir)
        self._cases = {doc["id"]: doc for doc in tables[CASES].values()}
        self._settings = {doc["key"]: doc["value"] for doc in tables[SETTINGS].values()}

    def get(self, case_id: str) -> dict | None:
        return copy.deepcopy(self._cases.get(case_id))

    def records(self) -> dict:
        """{case id: record} of every case."""
        return copy.deepcopy(self._cases)

    def get_setting(self, key: str, default=None):
        return copy.deepcopy(self._settings.get(key, default))

    def read_evidence(self, case_id: str, name: str) -> bytes:
        return _evidence_path(self.cases_dir, self.get(case_id), case_id, name).read_bytes()


def get_store() -> Store:
    return current_app.extensions["testimone.store"]
