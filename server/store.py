"""Records (TinyDB) and evidence files: the only module that touches the data directory.

Layout (docs/architecture.md, "The data directory"):
    testimone.json   TinyDB snapshot of the settings table
    records/         the cases table: one TinyDB document per file, <doc id>-<case id>.json
    journal.jsonl    every change since the last compaction, one fsynced line each: the commit point
    audit.log        append-only, hash-chained events (server/domain/integrity.py)
    cases/<id>/      write-once evidence files and capture.json, the canonical record
    index.sqlite3    the case index (server/case_index.py): derived, rebuilt from the records
    stopped          present while no process holds the directory after a clean stop

Only the names of the record files are held in memory, so opening the store costs one directory
listing and its memory does not grow with the cases (docs/decisions/0005-record-files.md); a record is
read from its file when asked for, lists come from the case index. A write appends one journal line
and replaces one record file, so its cost does not grow with the number of stored cases. Every write
holds one lock, and is on disk before the call returns: its journal line is fsynced (the record file
is forced to disk when the journal is folded, before the journal lets go of it).
"""
import base64
import copy
import errno
import fcntl
import functools
import hashlib
import json
import logging
import mimetypes
import os
import re
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage

from .case_index import CaseIndex
from .verify_marks import VerifyMarks
from .domain.integrity import EMPTY_SHA256, audit_line, canonical_json, sha256_hex

# The data directory's layout, what a write leaves on disk: 1 = version 0.1 (every record in testimone.json),
# 2 = one file per record. Raise it with any change to the files a write leaves (the scale benchmark keys
# its filled data directories on it, with the code that shapes a record).
LAYOUT = 2
CASES = "cases"
SETTINGS = "settings"
RECORDS = "records"
STOPPED = "stopped"
JOURNAL_LIMIT = 1 << 20  # bytes: past this the journal is folded (its changes are in the record files already)
INDEX = "index.sqlite3"
AUDIT = "audit.log"
FEEDS = "feeds"  # the deadlines feed as last served, one file per version (derived: services/deadlines.py)
VERIFIED = "verified.sqlite3"  # what the last verify found intact (server/verify_marks.py): derived
TOKEN = "token"
LOGIN = "login"
SIGNING = "signing"
SUMMARY_LEAVES_OUT = ("history", "evidence", "comment_html", "context")
ANCHORS = "anchors.jsonl"
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
CASE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)

log = logging.getLogger(__name__)


class StoreLocked(RuntimeError):
    """Another process already holds this data directory."""


class StoreDamaged(RuntimeError):
    """The data directory cannot be opened as it is. The message says what, where and what to do."""


class StoreFull(OSError):
    """The disk (or the user's quota) is full. The write was undone: nothing of it is left."""


class UnknownCase(KeyError):
    pass


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _damaged(path: Path, problem: str) -> StoreDamaged:
    return StoreDamaged(
        f"{path}: {problem}.\n"
        "What to do: stop here and copy the whole data folder as it is. Then restore this file from a "
        "backup, or move it aside (rename it to *.damaged) to let Testimone rebuild the records from "
        "each case's capture.json and audit.log (consent answers, placements and steps recorded after "
        "a capture must then be entered again). Afterwards run `testimone verify`.\n"
        f"Testimone non può aprire {path}: il file è danneggiato o illeggibile. Copia la cartella dei "
        "dati così com'è, poi ripristina il file da un backup oppure rinominalo in *.damaged per "
        "ricostruire i casi da capture.json e audit.log; infine esegui `testimone verify`.")


# -- every write to the data directory goes through these functions ---------------------------------
# (tests/faults/sitecustomize.py kills the process or fills the disk at each of them, by name)

def _sync(path: Path) -> None:
    """Force a file written earlier, or a folder's entries (a rename, a new file), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes, mode: str, sync: bool = True) -> None:
    """Write a whole file (mode "wb" or "xb", readable by this user only) and, with `sync`, force it to disk."""
    with open(path, mode, opener=lambda name, flags: os.open(name, flags, 0o600)) as handle:
        try:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)  # a disk-full write leaves no half file
            raise


def _write_new_file(path: Path, data: bytes, synced: bool = True) -> None:
    """Create `path` (it must not exist: evidence is write-once) and, unless told, force it to disk
    (`synced=False`: the caller syncs it with `_sync_soon` and waits for that before going on)."""
    _write_file(path, data, "xb", sync=synced)


# A few threads that force files to disk while the request thread goes on (they start on first use).
_SYNCING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="testimone-fsync")


def _sync_soon(path: Path):
    """Start forcing `path` to disk in another thread; the caller waits for the returned future. A capture's
    evidence files are synced this way while it hashes them and writes the next (fsync releases the GIL)."""
    return _SYNCING.submit(_sync, path)


def _atomic_replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    _write_file(tmp, data, "wb")
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync(path.parent)


def _append(handle, data: bytes) -> None:
    """Append to an unbuffered file and force it to disk; if that fails, cut the file back."""
    end = handle.seek(0, os.SEEK_END)
    try:
        view = memoryview(data)
        while view:
            view = view[handle.write(view):]
        os.fsync(handle.fileno())
    except BaseException:
        _cut(handle, end)
        raise


def _cut(handle, size: int) -> None:
    handle.truncate(size)
    handle.seek(size)
    os.fsync(handle.fileno())


def _publish(tmp: Path, final: Path) -> None:
    """Move a complete case folder into place: from here on the capture exists."""
    os.rename(tmp, final)
    _sync(final.parent)


def _stage(path: Path, data: bytes) -> None:
    """Write the next version of a record file beside it (`path` is the temporary name). It is not forced
    to disk here: the journal line that follows holds the same record and is the commit point, and the
    journal is cut only after the record files written since its last fold are synced (`_sync`)."""
    _write_file(path, data, "wb", sync=False)


def _replace(staged: Path, final: Path) -> None:
    """Put a staged record file in place (the rename is made durable when the journal is folded)."""
    os.replace(staged, final)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def evidence_entry(name: str, data: bytes, media_type: str) -> dict:
    return {"name": name, "media_type": media_type, "size": len(data), "sha256": sha256_hex(data)}


def _read_lines(path: Path) -> tuple[list[bytes], bool]:
    """Complete lines of a file, and whether a torn last line (a write cut by a crash) was dropped."""
    if not path.exists():
        return [], False
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop() != b""
    return lines, torn


def read_tables(data_dir: Path) -> tuple[dict, dict | None, bool]:
    """The snapshot's tables with the journal applied, the last journal change, and whether the snapshot
    exists. Its cases table holds only the records newer than their record files: the journal's, and
    every record of a snapshot written before records/ existed (version 0.1). Raises StoreDamaged naming
    the file and the line."""
    snapshot, journal = data_dir / "testimone.json", data_dir / "journal.jsonl"
    try:
        exists = snapshot.exists()
        raw = snapshot.read_bytes() if exists else b"{}"
        lines, _ = _read_lines(journal)  # a torn last line was never acknowledged
    except OSError as error:
        raise _damaged(Path(error.filename or data_dir), f"cannot be read ({error.strerror})") from None
    try:
        tables = json.loads(raw)
    except ValueError as error:
        raise _damaged(snapshot, f"is not valid JSON ({error}; the file may be truncated)") from None
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise _damaged(snapshot, "is valid JSON but not a Testimone database (tables of records)")
    last = None
    for number, line in enumerate(lines, start=1):
        try:
            last = json.loads(line)
            table = tables.setdefault(last["table"], {})
            if last["doc"] is None:
                table.pop(str(int(last["doc_id"])), None)
            else:
                table[str(int(last["doc_id"]))] = last["doc"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _damaged(journal, f"line {number} is not a journal entry") from None
    for name in (CASES, SETTINGS):
        tables.setdefault(name, {})
    for doc_id, doc in tables[CASES].items():
        if not (isinstance(doc, dict) and isinstance(doc.get("id"), str) and doc_id.isdigit()):
            raise _damaged(snapshot, f"case record {doc_id!r} has no case id")
    return tables, last, exists


def journal_records(journal: Path) -> dict:
    """{doc id: record} of the case records the journal holds (the newest version of each)."""
    records = {}
    for line in _read_lines(journal)[0]:
        change = json.loads(line)
        if change["table"] == CASES and change["doc"] is not None:
            records[str(int(change["doc_id"]))] = change["doc"]
    return records


def record_file_name(doc_id, case_id) -> str:
    """records/<doc id>-<case id>.json: the listing alone gives both ids."""
    return f"{doc_id}-{case_id}.json"


class RecordFiles(Mapping):
    """The cases table on disk: records/<doc id>-<case id>.json, one TinyDB document each. TinyDB's cases
    table reads through this mapping; only the file names are kept in memory."""

    def __init__(self, folder: Path, tidy: bool = False):
        self.folder = folder
        self.names = {}  # doc id (str) -> file name
        self.unsynced = set()  # file names written since the journal was last folded (`sync`)
        self.ids = {}  # case id -> doc id (int)
        for name in os.listdir(folder):
            doc_id, _, rest = name.partition("-")
            case_id = rest[:-5]
            if doc_id.isdigit() and rest.endswith(".json") and CASE_ID.match(case_id):
                self.names[doc_id] = name
                self.ids[case_id] = int(doc_id)
            elif tidy and name.startswith(".") and name.endswith(".tmp"):
                _remove(folder / name)  # staged by a write that never committed

    def __getitem__(self, doc_id) -> dict:
        path = self.folder / self.names[str(doc_id)]
        try:
            doc = json.loads(path.read_bytes())
        except OSError as error:
            raise _damaged(path, f"cannot be read ({error.strerror})") from None
        except ValueError as error:
            raise _damaged(path, f"is not valid JSON ({error}; the file may be truncated)") from None
        if not (isinstance(doc, dict) and record_file_name(doc_id, doc.get("id")) == path.name):
            raise _damaged(path, "is not the case record its name says")
        return doc

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def case_ids(self) -> dict:
        """{case id: doc id} of every record file found when the folder was listed: handed over, once, to the
        caller, who keeps it up to date (one copy of 100,000 ids is enough)."""
        ids, self.ids = self.ids, {}
        return ids

    def stage(self, doc_id: int, doc: dict) -> tuple[Path, Path]:
        """Write the record's next version under a temporary name; `publish` puts it in place."""
        final = self.folder / record_file_name(doc_id, doc["id"])
        staged = final.with_name(f".{final.name}.tmp")
        _stage(staged, json.dumps(doc, ensure_ascii=False).encode())
        return staged, final

    def publish(self, doc_id: int, staged: Path, final: Path) -> None:
        _replace(staged, final)
        self.names[str(doc_id)] = final.name
        self.unsynced.add(final.name)

    def sync(self) -> None:
        """Force to disk every record file written since the last call, then the folder (the renames)."""
        for name in sorted(self.unsynced):
            _sync(self.folder / name)
            self.unsynced.discard(name)
        _sync(self.folder)

    def put(self, doc_id: int, doc: dict) -> None:
        """Stage and publish at once: start-up recovery, whose changes the journal already holds."""
        self.publish(doc_id, *self.stage(doc_id, doc))


class CaseFiles:
    """Reads that Store and StoreView share (they set data_dir and cases_dir): through these, no other
    module needs to know how the data directory is laid out."""

    def case_file_exists(self, case_id: str, name: str) -> bool:
        """Whether the case folder holds `name`, listed in the record or not (a write cut short leaves one)."""
        return bool(SAFE_NAME.match(case_id) and SAFE_NAME.match(name)) and (self.cases_dir / case_id / name).exists()

    def anchors_file(self) -> bytes | None:
        """anchors.jsonl as it is (None before the first anchor)."""
        path = self.data_dir / ANCHORS
        return path.read_bytes() if path.exists() else None

    def audit_lines(self, case_id: str | None = None) -> list[bytes]:
        """The complete lines of audit.log, verbatim (only the case's when `case_id` is given; lines that
        are not JSON are left out then: `testimone verify` names them).

        A case's lines are read at their offsets in the case index (decisions/0003, "Audit lines"): the cost
        is the case's lines, not the log. When the index does not match the log, one scan of the log."""
        if case_id is not None:
            found = self._indexed_audit_lines(case_id)
            if found is not None:
                return found
        lines, _ = _read_lines(self.data_dir / AUDIT)
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

    def _audit_index(self) -> CaseIndex | None:
        """The case index whose audit_lines table says where each case's lines are, or None (Store, StoreView)."""
        raise NotImplementedError

    def _indexed_audit_lines(self, case_id: str) -> list[bytes] | None:
        """The case's audit lines read at their indexed offsets, plus any in the log's tail the index does not
        cover yet (a reader beside the server); None when the index is missing or no longer fits the log."""
        index = self._audit_index()
        if index is None:
            return None
        try:
            state = index.audit_state()  # first the state, then the offsets: a line indexed in between is skipped
            offsets = index.audit_offsets(case_id) if state else []  # here and read in the tail below
        except sqlite3.Error:
            return None
        try:
            with open(self.data_dir / AUDIT, "rb") as audit:
                if state is None or not _audit_state_holds(audit, state):
                    return None
                size = state[0]
                lines = []
                for offset, length in offsets:
                    if offset >= size:
                        continue
                    audit.seek(offset)
                    line = audit.read(length)
                    if _case_of(line) != case_id:
                        return None
                    lines.append(line)
                audit.seek(size)
                tail = audit.read()
        except OSError:
            return None
        rows, _ = _scan_audit(tail, size)
        return lines + [tail[offset - size:offset - size + length] for offset, case, length in rows if case == case_id]

    # -- what `testimone verify` reads (services/verify.py) ------------------------------------------

    def case_file_stat(self, case_id: str, name: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of a file in the case folder, None when it is not there."""
        if not (SAFE_NAME.match(case_id) and SAFE_NAME.match(name)):
            return None
        try:
            stat = os.stat(f"{self.cases_dir}/{case_id}/{name}")  # not pathlib: called for every file of every case
        except (FileNotFoundError, NotADirectoryError):
            return None
        return stat.st_size, stat.st_mtime_ns

    def read_case_file(self, case_id: str, name: str) -> bytes | None:
        """Any file of the case folder, listed in the record or not; None when it is not there."""
        if not (SAFE_NAME.match(case_id) and SAFE_NAME.match(name)):
            return None
        try:
            return (self.cases_dir / case_id / name).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def read_audit_log(self, start: int = 0) -> bytes | None:
        """audit.log from byte `start` to its end, as it is (None when there is no log)."""
        try:
            with open(self.data_dir / AUDIT, "rb") as log:
                log.seek(start)
                return log.read()
        except FileNotFoundError:
            return None

    def verify_marks(self) -> VerifyMarks:
        """What the last verify found intact (derived: deleting the file makes the next verify a full one).
        A StoreView writes it too: it is not part of the record, and SQLite serialises two verifiers."""
        return VerifyMarks(self.data_dir / VERIFIED)


def _case_of(line: bytes) -> str | None:
    try:
        entry = json.loads(line)
        return entry.get("case") if isinstance(entry, dict) else None
    except ValueError:
        return None


def _scan_audit(data: bytes, base: int) -> tuple[list[tuple[int, str | None, int]], tuple[int, int, int, str] | None]:
    """The complete lines of `data` (audit.log from byte `base`): their (offset, case id, length) rows, and the
    index state they lead to (size covered, newest line's offset, length and SHA-256), None without a line."""
    rows, position = [], 0
    while True:
        end = data.find(b"\n", position)
        if end < 0:
            break
        rows.append((base + position, _case_of(data[position:end]), end - position))
        position = end + 1
    if not rows:
        return rows, None
    offset, _, length = rows[-1]
    head = data[offset - base:offset - base + length]
    return rows, (base + position, offset, length, sha256_hex(head))


def _audit_state_holds(audit, state: tuple[int, int, int, str]) -> bool:
    """Whether audit.log (an open file) still holds, at the indexed place, the newest line the index knows."""
    size, offset, length, sha = state
    if audit.seek(0, os.SEEK_END) < size:
        return False
    if size == 0:
        return True
    audit.seek(offset)
    line = audit.read(length + 1)
    return line.endswith(b"\n") and offset + length + 1 == size and sha256_hex(line[:-1]) == sha


class Store(CaseFiles):
    def __init__(self, data_dir, initial_state=None):
        """`initial_state(canonical)` gives the state fields of a case rebuilt from its capture.json."""
        self.data_dir = Path(data_dir)
        self.cases_dir = self.data_dir / CASES
        self._initial_state = initial_state or (lambda canonical: {})
        self._lock = threading.RLock()
        self._compaction_due = False
        self._resync = False  # a fold failed to sync the record files: the next one rewrites them (compact)
        self._index = None  # opened once the records are recovered
        self._in_memory = False  # the index moved to memory (a full disk)
        self._changes = 0  # writes committed by this process: what derived views (the feed) are keyed on
        try:
            self.cases_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir.chmod(0o700)  # personal data: readable by this user only
            self._hold_directory()
            (self.data_dir / RECORDS).mkdir(exist_ok=True)
            self._records = RecordFiles(self.data_dir / RECORDS, tidy=True)
            self.db = TinyDB(storage=MemoryStorage)
            self._cases = self.db.table(CASES, cache_size=0)
            self._settings = self.db.table(SETTINGS, cache_size=0)
            self._tables, last_change, snapshot_exists = read_tables(self.data_dir)
            pending = self._tables[CASES]  # newer than their record files: written out below
            self._tables[CASES] = self._records
            self.db.storage.write(self._tables)
            self._ids = self._records.case_ids()
            self._ids.update((doc["id"], int(doc_id)) for doc_id, doc in pending.items())
            self._next_case = max(self._ids.values(), default=0) + 1
            self._write_pending(pending)
            self._unindexed = dict(pending)  # what the case index may lack (_open_index)
            self._open_audit()
            rebuilt = self._recover(last_change, snapshot_exists, pending)
            self._journal = open(self.data_dir / "journal.jsonl", "ab", buffering=0)
            if last_change or rebuilt or pending or not snapshot_exists:
                self._try_compact()  # the record files and the snapshot hold everything: the journal starts afresh
            self._open_index()
        except BaseException as error:
            for handle in ("_index", "_journal", "_audit", "_lock_file"):
                if getattr(self, handle, None) is not None:
                    getattr(self, handle).close()
            if not isinstance(error, OSError):
                raise
            if error.errno in NO_SPACE:
                raise StoreDamaged(f"{self.data_dir}: the disk is full, Testimone cannot start. Free some "
                                   "space and start again. / Il disco è pieno: libera spazio e riavvia.") from None
            raise _damaged(Path(error.filename or self.data_dir), f"cannot be read or written ({error.strerror})") from None

    # -- opening ----------------------------------------------------------------------------

    def _hold_directory(self) -> None:
        self._lock_file = open(self.data_dir / "lock", "a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StoreLocked(f"another Testimone process is using {self.data_dir}") from None
        # `stopped` is written by close(), last: if it is here, the previous process stopped cleanly. It goes
        # (on disk) before anything else is written, so a crash of this process is never taken for a clean stop.
        marker = self.data_dir / STOPPED
        self._stopped_cleanly = marker.exists()
        if self._stopped_cleanly:
            _remove(marker)
            _sync(self.data_dir)

    def _write_snapshot(self) -> None:
        tables = {SETTINGS: self._tables[SETTINGS]}
        _atomic_replace(self.data_dir / "testimone.json", json.dumps(tables, ensure_ascii=False).encode())

    def _write_pending(self, pending: dict) -> None:
        """Write the records that are newer than their files (the journal's, or a 0.1 snapshot's) to their
        files, on disk. Many at once (the one-time move from a 0.1 snapshot) are flushed with one sync."""
        for doc_id, doc in pending.items():
            final = self._records.folder / record_file_name(doc_id, doc["id"])
            data = json.dumps(doc, ensure_ascii=False).encode()
            self._records.names[doc_id] = final.name
            if final.exists() and final.read_bytes() == data:
                continue  # put in place before the stop (the usual case): nothing to write, even on a full disk
            if len(pending) <= 64:
                self._records.put(int(doc_id), doc)
            else:
                final.write_bytes(data)
        if len(pending) > 64:
            os.sync()
        if pending:
            self._records.sync()

    def _open_audit(self) -> None:
        """Open audit.log for appending, reading only its end: the newest line and the line count. (Start-up
        recovery reads every line, `_audit_lines`, only when it has something to look up.)"""
        path = self.data_dir / "audit.log"
        self._audit = open(path, "ab", buffering=0)
        with open(path, "rb") as log_file:
            count, size, tail = 0, 0, b""
            for chunk in iter(lambda: log_file.read(1 << 20), b""):
                count, size, tail = count + chunk.count(b"\n"), size + len(chunk), (tail + chunk)[-(1 << 16):]
        complete = tail[:tail.rfind(b"\n") + 1]
        if len(complete) != len(tail):  # an event cut by a crash was never acknowledged: drop the fragment
            _cut(self._audit, size - (len(tail) - len(complete)))
        head = complete[:-1].rpartition(b"\n")[2] if count else b""
        if count and len(head) + 1 == len(complete) and size > len(tail):  # the newest line is longer than the tail
            head = _read_lines(path)[0][-1]
        self._audit_seq = count
        self._audit_head = head
        self._audit_prev = sha256_hex(head) if count else EMPTY_SHA256

    @functools.cached_property
    def _audit_lines(self) -> list[bytes]:
        """Every complete line of audit.log, for start-up recovery (dropped once it is done)."""
        return _read_lines(self.data_dir / "audit.log")[0]

    # -- start-up recovery: an interrupted write is completed or undone; evidence is never deleted ----

    def _recover(self, last_change: dict | None, snapshot_exists: bool, pending: dict) -> int:
        """Returns how many case records were rebuilt."""
        self._complete_last_write(last_change)
        # After a crash, every start tidies the folders and then writes the snapshot: a folder unchanged since
        # the snapshot was written has nothing to tidy (a scan of every folder costs 0.1 ms a case), unless its
        # erasure committed and a crash stopped it before its files were deleted. After a clean stop nothing
        # was cut short: only the names are looked at (a capture folder with no record, a temporary folder).
        tidied_at = (self.data_dir / "testimone.json").stat().st_mtime_ns if snapshot_exists else -1
        names = os.listdir(self.cases_dir)
        erased = {doc["id"] for doc in pending.values() if "erasure" in doc}  # an erasure compacts once done
        rebuilt = []
        for name in names:
            if name.startswith(".tmp-"):  # never moved into place: never a capture
                _remove_tree(self.cases_dir / name)
            elif name in self._ids:
                if name in erased or not self._stopped_cleanly and (
                        os.stat(self.cases_dir / name).st_mtime_ns >= tidied_at):
                    self._tidy_case_folder(self.cases_dir / name)
            elif CASE_ID.match(name) and (self.cases_dir / name).is_dir():
                rebuilt += filter(None, [self._rebuild_case(self.cases_dir / name)])
        for _, record in sorted(rebuilt, key=lambda item: item[0]):  # in the order they were captured
            self._records.put(self._next_case, record)
            self._unindexed[str(self._next_case)] = record
            self._ids[record["id"]] = self._next_case
            self._next_case += 1
        _sync(self.cases_dir)
        self._records.sync()
        if not snapshot_exists and names:
            log.warning("%s was missing: the case records were rebuilt from the case folders; the settings "
                        "(business profile) must be entered again. / testimone.json mancava: i casi sono stati "
                        "ricostruiti, il profilo dell'attività va reinserito.", self.data_dir / "testimone.json")
        self.__dict__.pop("_audit_lines", None)
        return len(rebuilt)

    def _logged(self, case_id: str | None, event: str, at: str) -> bool:
        needle = f'"at":"{at}"'.encode()
        if needle in self._audit_head:  # the usual case: the write's audit line is the newest one
            entry = json.loads(self._audit_head)
            if entry.get("case") == case_id and entry.get("event") == event:
                return True
        for line in reversed(self._audit_lines):
            if needle in line:
                entry = json.loads(line)
                if entry.get("case") == case_id and entry.get("event") == event:
                    return True
        return False

    def _case_events(self, case_id: str) -> list[dict]:
        needle = f'"case":"{case_id}"'.encode()
        events = []
        for line in self._audit_lines:
            if needle in line:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue  # verify reports it
        return events

    def _complete_last_write(self, change: dict | None) -> None:
        """The journal line is the commit point of a write, its audit line follows: a crash between the
        two leaves the last journal line without its audit line. Write it now, as it would have been."""
        doc = (change or {}).get("doc")
        if not doc:
            return
        if change["table"] == CASES and doc.get("history"):
            entry = doc["history"][-1]
            case_id, event, at = doc["id"], entry["event"], entry["at"]
            details = {k: v for k, v in entry.items() if k not in ("at", "event")}
        elif change["table"] == SETTINGS and "changed_at" in doc:
            case_id, event, at, details = None, "setting.changed", doc["changed_at"], {"key": doc["key"]}
        else:
            return
        if not self._logged(case_id, event, at):
            self._write_audit(at, event, case_id, details)

    def _tidy_case_folder(self, folder: Path) -> None:
        """Finish an erasure cut by a crash; drop a file whose record change never committed."""
        record = self._records[self._ids[folder.name]]
        erased = set((record.get("erasure") or {}).get("erased") or ())
        known = {e["name"] for e in record.get("evidence", [])} | {"capture.json"}
        for path in folder.iterdir():
            if path.name in erased:
                _remove(path)
            elif path.name not in known:
                sha256 = sha256_hex(path.read_bytes())
                if any(sha256.encode() in line for line in self._audit_lines if folder.name.encode() in line):
                    log.warning("%s is not in its case record but the audit log lists it: kept", path)
                    continue
                _remove(path)
                self._write_audit(iso_utc(utc_now()), "evidence.discarded", folder.name,
                                  {"name": path.name, "sha256": sha256, "reason": "its record was never written"})

    def _rebuild_case(self, folder: Path) -> tuple[tuple, dict] | None:
        """A case folder without a record: an interrupted capture (its files are complete, only the record
        is missing) or a lost snapshot. Never delete it: rebuild the record from capture.json and the
        audit log; when that is impossible, keep the folder and say so."""
        try:
            raw = (folder / "capture.json").read_bytes()
            canonical = json.loads(raw)
            assert canonical["id"] == folder.name and isinstance(canonical["evidence"], list)
        except (OSError, ValueError, KeyError, TypeError, AssertionError):
            log.warning("%s has no record and no readable capture.json: kept as it is, not listed. "
                        "Run `testimone verify`.", folder)
            return None
        events = self._case_events(folder.name)
        evidence = list(canonical["evidence"])
        listed = {e["name"] for e in evidence} | {"capture.json"}
        logged = b"\n".join(self._audit_lines[e["seq"] - 1] for e in events if isinstance(e.get("seq"), int)
                            and 0 < e["seq"] <= len(self._audit_lines))
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            if path.name not in listed and sha256_hex(data).encode() in logged:  # added later, acknowledged
                evidence.append(evidence_entry(path.name, data, mimetypes.guess_type(path.name)[0]
                                               or "application/octet-stream"))
        record = {**canonical, **self._initial_state(canonical), "evidence": evidence, "sha256": sha256_hex(raw),
                  "history": [{"at": e.get("at"), "event": e.get("event"), **(e.get("details") or {})}
                              for e in events]}
        created = {"sha256": record["sha256"], "evidence": {e["name"]: e["sha256"] for e in canonical["evidence"]}}
        if not any(e.get("event") == "capture.created" for e in events):  # interrupted before its 201: complete it
            record["history"].insert(0, {"at": canonical["captured_at"], "event": "capture.created", **created})
            self._write_audit(canonical["captured_at"], "capture.created", folder.name, created)
        else:  # acknowledged, but its record was lost with the snapshot
            at = iso_utc(utc_now())
            record["rebuilt"] = {"at": at, "from": ["capture.json", "audit.log"]}
            record["history"].append({"at": at, "event": "capture.rebuilt"})
            self._write_audit(at, "capture.rebuilt", folder.name, {})
            log.warning("case %s rebuilt from capture.json and audit.log", folder.name)
        first_seq = min((e.get("seq") for e in events if isinstance(e.get("seq"), int)), default=float("inf"))
        return (first_seq, canonical["captured_at"], folder.name), record

    def _open_index(self) -> None:
        """The case index is derived data (server/case_index.py). It took every change in the store lock right
        after the change's journal line, and every fold of the journal first makes it durable (a checkpoint):
        so it lacks at most changes the journal still holds, and those written at start-up. They are put in
        again here, and it is trusted if it then holds as many cases as there are records. A write it ever
        missed deleted it (_index_missed); a missing, damaged or miscounted one is rebuilt from the records."""
        path = self.data_dir / INDEX
        try:
            try:
                self._index = CaseIndex(path)
                for doc_id, doc in self._unindexed.items():
                    self._index.put(int(doc_id), index_entry(doc))
                current = self._index.count() == len(self._ids)
            except sqlite3.DatabaseError:
                self._delete_index()
                self._index, current = CaseIndex(path), False
            if not current:
                self._index.rebuild((int(doc_id), index_entry(doc)) for doc_id, doc in self._records.items())
        except sqlite3.Error as error:  # not even a fresh one can be written: a full disk, in practice
            self._index_in_memory(error)
            return
        finally:
            del self._unindexed
        self._audit_indexed = None
        self._sync_audit_index()

    def _delete_index(self) -> None:
        """Remove index.sqlite3 (its log first: an old log must never meet a new file), for good."""
        if self._index is not None:
            self._index.close()
            self._index = None
        for suffix in ("-wal", "-shm", ""):
            _remove(self.data_dir / (INDEX + suffix))
        _sync(self.data_dir)

    def _index_in_memory(self, error: sqlite3.Error) -> None:
        """The disk is full: the records are all there, so serve them from an index in memory for this run
        (rebuilt from the record files); the next start rebuilds it on disk (it was not closed cleanly)."""
        log.warning("%s cannot be written (%s): the case index is kept in memory until the next start. Free some "
                    "space. / L'indice dei casi è tenuto in memoria: libera spazio su disco.", self.data_dir / INDEX, error)
        self._delete_index()  # it lacks this change: the next start rebuilds it
        self._audit_indexed = None
        index = CaseIndex(f"file:testimone-index-{id(self)}?mode=memory&cache=shared")
        index.rebuild((int(doc_id), index_entry(doc)) for doc_id, doc in self._records.items())
        self._index, self._in_memory = index, True

    def _audit_index(self) -> CaseIndex | None:
        with self._lock:
            if self._index is not None and self._audit_indexed is None:
                self._sync_audit_index()
            return self._index if self._audit_indexed is not None else None

    def _sync_audit_index(self) -> None:
        """Index the audit lines the index does not cover yet, or all of them (one scan) when the log no longer
        starts with what was indexed (a missing or rebuilt index, a log restored from a backup)."""
        try:
            state = self._index.audit_state()
            with open(self.data_dir / AUDIT, "rb") as audit:
                holds = state is not None and _audit_state_holds(audit, state)
                start = state[0] if holds else 0
                audit.seek(start)
                rows, new_state = _scan_audit(audit.read(), start)
            if rows or not holds:
                self._index.add_audit_lines(rows, new_state or (0, 0, 0, ""), replace=not holds)
            self._audit_indexed = new_state[0] if rows else state[0] if holds else 0
        except (sqlite3.Error, OSError) as error:
            self._audit_indexed = None
            log.error("the audit-line index could not be brought up to date (%s): bundles read the whole log", error)

    def _index_audit_line(self, offset: int, case_id: str | None, line: bytes) -> None:
        """Index a line just appended to audit.log (a missed line is caught up by _sync_audit_index)."""
        if self._index is None:
            return  # start-up recovery: _open_index catches up
        if self._audit_indexed != offset:
            self._sync_audit_index()
            return
        state = (offset + len(line) + 1, offset, len(line), sha256_hex(line))
        try:
            self._index.add_audit_lines([(offset, case_id, len(line))], state)
            self._audit_indexed = state[0]
        except sqlite3.Error as error:
            self._audit_indexed = None
            self._index_missed(error)

    def _index_missed(self, error: sqlite3.Error) -> None:
        """The change is on disk (the journal, its record file); only the derived index missed it (a full disk, a
        damaged file). The index on disk is deleted and this run goes on with one in memory, rebuilt from the
        record files, so the change is listed at once; the next start rebuilds the index on disk."""
        if self._in_memory:
            log.error("the case index (in memory) missed a change (%s): it is rebuilt at the next start", error)
            return
        self._index_in_memory(error)

    def close(self) -> None:
        with self._lock:
            if self._journal.closed:
                return
            try:
                self.compact()  # a clean stop leaves an empty journal: the next start has nothing to replay
                _write_file(self.data_dir / STOPPED, b"", "wb")
                _sync(self.data_dir)
            except OSError as error:
                log.warning("the journal could not be folded at shutdown (%s): the next start does it", error)
            if self._index is not None:
                self._index.close()
            self._journal.close()
            self._audit.close()
            self._lock_file.close()

    # -- writes (callers hold self._lock) -------------------------------------------------------------

    def _commit(self, table: str, doc_id: int, doc: dict, at: str, event: str, case_id: str | None,
                details: dict) -> None:
        """The one way a change reaches the disk: the record file's next version is staged, then its journal
        line (the commit point) and its audit line are appended and fsynced, and then the staged file takes
        the old one's place (synced at the journal's next fold, `compact`: until then the journal holds the
        record, and start-up writes it again if the file did not reach the disk). If any step before the
        commit point fails, nothing of the change is left."""
        line = json.dumps({"table": table, "doc_id": doc_id, "doc": doc}, ensure_ascii=False).encode() + b"\n"
        journal_end = self._journal.seek(0, os.SEEK_END)
        staged = None
        try:
            if table == CASES:
                staged = self._records.stage(doc_id, doc)
            _append(self._journal, line)
            try:
                self._write_audit(at, event, case_id, details)
            except BaseException:
                _cut(self._journal, journal_end)
                raise
        except BaseException as error:
            if staged:
                _remove(staged[0])
            if isinstance(error, OSError) and error.errno in NO_SPACE:
                raise StoreFull(error.errno, "disk full: nothing was stored") from error
            raise
        self._changes += 1
        if staged:  # a crash before this is completed at start-up from the journal
            self._records.publish(doc_id, *staged)
        else:
            # TinyDB's Table.insert/update rebuild the whole table dict on every call (147 ms per write with
            # 100,000 records, benchmarks/tinydb_storage.py); setting the one key keeps a write O(1). TinyDB
            # reads the same dict, so its queries see the change at once (its query cache is off).
            self._tables[table][str(doc_id)] = doc
        if table == CASES and self._index is not None:
            try:
                self._index.put(doc_id, index_entry(doc))
            except sqlite3.Error as error:
                self._index_missed(error)
        if self._compaction_due or journal_end + len(line) > JOURNAL_LIMIT:
            self._try_compact()

    def _write_audit(self, at: str, event: str, case_id: str | None, details: dict) -> None:
        line = audit_line(self._audit_prev, self._audit_seq + 1, at, event, case_id, details)
        offset = self._audit.seek(0, os.SEEK_END)
        _append(self._audit, line + b"\n")
        self._audit_seq += 1
        self._audit_head = line
        self._audit_prev = sha256_hex(line)
        self._index_audit_line(offset, case_id, line)

    def audit_head(self) -> tuple[int, bytes]:
        """The number and bytes of the newest audit line (0, b"" for an empty log): what an anchor stamps."""
        with self._lock:
            return self._audit_seq, self._audit_head

    def add_anchor(self, entry: dict) -> None:
        """Keep one anchor of the audit chain (server/trust/anchors.py) in anchors.jsonl, on disk."""
        with self._lock, open(self.data_dir / ANCHORS, "ab", buffering=0) as anchors:
            _append(anchors, canonical_json(entry) + b"\n")

    def audit(self, event: str, case_id: str | None = None, **details) -> str:
        """Append one event to audit.log (never personal content: ids, hashes, dates). Returns its time."""
        with self._lock:
            at = iso_utc(utc_now())
            try:
                self._write_audit(at, event, case_id, details)
            except OSError as error:
                if error.errno in NO_SPACE:
                    raise StoreFull(error.errno, "disk full: nothing was stored") from error
                raise
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
        tmp, final = self.cases_dir / f".tmp-{case_id}", self.cases_dir / case_id
        syncing = []
        try:
            tmp.mkdir()
            evidence = []
            for name, (data, media_type) in files.items():
                _write_new_file(tmp / name, data, synced=False)
                syncing.append(_sync_soon(tmp / name))  # on disk while the rest is hashed and written
                evidence.append({"name": name, "media_type": media_type, "size": len(data),
                                 "sha256": sha256_hex(data)})
            canonical = {**fields, "id": case_id, "captured_at": iso_utc(now), "evidence": evidence}
            raw = canonical_json(canonical)
            _write_new_file(tmp / "capture.json", raw)
            for sync in syncing:
                sync.result()  # raises what the sync raised
            _sync(tmp)
            _publish(tmp, final)  # from here a crash is completed at start-up (Store._rebuild_case)
            record = {**canonical, **state, "sha256": sha256_hex(raw), "history": []}
            details = {"sha256": record["sha256"], "evidence": {e["name"]: e["sha256"] for e in evidence}}
            record["history"].append({"at": record["captured_at"], "event": "capture.created", **details})
            with self._lock:
                doc_id = self._next_case
                self._commit(CASES, doc_id, record, record["captured_at"], "capture.created", case_id, details)
                self._next_case += 1
                self._ids[case_id] = doc_id
        except BaseException as error:
            for sync in syncing:
                sync.exception()  # wait: no sync may still be running on a file removed below
            _remove_tree(tmp)
            _remove_tree(final)
            with self._lock:
                self._ids.pop(case_id, None)
            if isinstance(error, OSError) and error.errno in NO_SPACE and not isinstance(error, StoreFull):
                raise StoreFull(error.errno, "disk full: nothing was stored") from error
            raise
        return copy.deepcopy(record)

    def get(self, case_id: str) -> dict | None:
        with self._lock:
            doc_id = self._ids.get(case_id)
            if doc_id is None:
                return None
            return dict(self._cases.get(doc_id=doc_id))  # read from its file: a fresh copy

    def update(self, case_id: str, mutate, event: str, attach=(), **details) -> dict:
        """Apply `mutate(record)` and record `event` in the case history and the audit log, in one write.

        `attach`: new write-once files, (name, bytes, media type) each, listed in the record's evidence.
        `mutate` runs first, under the store lock: when it refuses (raises), no file is written.
        """
        with self._lock:
            record = self.get(case_id)
            if record is None:
                raise UnknownCase(case_id)
            mutate(record)
            folder, written = self.cases_dir / case_id, []
            try:
                for name, data, media_type in attach:
                    if not SAFE_NAME.match(name):
                        raise ValueError(f"unsafe evidence file name: {name!r}")
                    _write_new_file(folder / name, data)
                    written.append(folder / name)
                    record["evidence"].append(evidence_entry(name, data, media_type))
                if written:
                    _sync(folder)
                at = iso_utc(utc_now())
                record["history"].append({"at": at, "event": event, **details})
                self._commit(CASES, self._ids[case_id], record, at, event, case_id, details)
            except BaseException as error:
                for path in written:
                    _remove(path)
                if isinstance(error, OSError) and error.errno in NO_SPACE and not isinstance(error, StoreFull):
                    raise StoreFull(error.errno, "disk full: nothing was stored") from error
                raise
            return copy.deepcopy(record)

    def list(self, kind=None, status=None, platform=None, q=None, limit=50, cursor=None, permalink=None,
             text_sha256=None):
        """Cases newest first, filtered, from the case index: (summaries, next_cursor or None). A summary is
        the record without its history, evidence list, comment HTML and capture context (`get` has them).

        `q`: words of the text or the author's name (prefixes; case and accents ignored). `permalink` and
        `text_sha256` find earlier captures of the same comment (either matches); an erased case has
        neither its permalink nor its text any more, so it never matches."""
        before = decode_cursor(cursor) if cursor else None
        summaries, next_before = self._index.page(kind=kind, status=status, platform=platform, q=q, limit=limit,
                                                  before=before, permalink=permalink, text_sha256=text_sha256)
        return summaries, encode_cursor(next_before) if next_before is not None else None

    def with_deadlines(self, since: str, until: str | None = None):
        """Summaries of the cases with an open deadline due from `since` (before `until`), soonest first."""
        return self._index.with_deadlines(since, until)

    def ids(self, flag: str) -> "list[str]":  # quoted: `list` is a method of this class
        """Cases whose background work is "queued", or "unstamped" (no timestamp yet), oldest first."""
        return self._index.ids(flag)

    def by_author(self, profile_url: str) -> "list[dict]":
        """Summaries of every case of one author profile, newest first."""
        return self._index.by_author(profile_url)

    # -- the deadlines feed (server/services/deadlines.py): its events kept in the index, its file -----------

    def feed_missing(self, feed: str, since: str, until: str) -> "list[int]":
        """The cases (seq) with a deadline in [since, until) whose `feed` events are not kept."""
        return self._index.feed_missing(feed, since, until)

    def raw_summaries(self, seqs) -> "list[tuple[int, str]]":
        """(seq, summary JSON) of these cases, as the index holds them (keep_feed_events compares them)."""
        return self._index.raw_summaries(list(seqs))

    def keep_feed_events(self, feed: str, cases: dict, version: str) -> bool:
        """Keep cases' feed events ({seq: (summary JSON, [(due, bytes)])}, CaseIndex.keep_feed_events) under
        the store lock, so that a case written meanwhile is skipped. False if the index could not take them."""
        with self._lock:
            try:
                self._index.keep_feed_events(feed, cases, version)
                return True
            except sqlite3.Error as error:  # derived and optional: the feed is written without them
                log.warning("the deadlines feed's events could not be kept in the case index (%s)", error)
                return False

    def feed_events(self, feed: str, since: str, until: str):
        return self._index.feed_events(feed, since, until)

    def write_feed(self, chunks, keep=()) -> tuple[str, str]:
        """Keep a feed, written from `chunks` (bytes) one at a time, as feeds/deadlines-<SHA-256>.ics (derived
        data, not synced: built again when missing); of the other files there, only those named in `keep`
        stay. Returns its name and its SHA-256."""
        folder = self.data_dir / FEEDS
        folder.mkdir(exist_ok=True)
        digest = hashlib.sha256()
        tmp = folder / f".{threading.get_ident()}.tmp"
        try:
            with open(tmp, "wb") as feed:
                for chunk in chunks:
                    digest.update(chunk)
                    feed.write(chunk)
            name = f"deadlines-{digest.hexdigest()[:32]}.ics"
            os.replace(tmp, folder / name)
        except BaseException as error:
            _remove(tmp)
            if isinstance(error, OSError) and error.errno in NO_SPACE:
                raise StoreFull(error.errno, "disk full: the deadlines feed could not be written") from error
            raise
        for old in os.listdir(folder):
            if old != name and old not in keep and not old.startswith("."):
                _remove(folder / old)  # a reader that opened it still reads it whole (POSIX)
        return name, digest.hexdigest()

    def open_feed(self, name: str):
        """The kept feed's file, open for reading (the caller closes it), or None if it is gone."""
        try:
            return open(self.data_dir / FEEDS / name, "rb")
        except FileNotFoundError:
            return None

    def changes(self) -> int:
        """How many writes this store has committed since it opened: equal numbers, same records."""
        return self._changes

    def count(self) -> int:
        with self._lock:
            return len(self._cases)

    # -- evidence files -------------------------------------------------------------------------

    def evidence_path(self, case_id: str, name: str) -> Path:
        return _evidence_path(self.cases_dir, self.get(case_id), case_id, name)

    def read_evidence(self, case_id: str, name: str) -> bytes:
        return self.evidence_path(case_id, name).read_bytes()

    def add_evidence(self, case_id: str, name: str, data: bytes, media_type: str) -> dict:
        """A further write-once file in the case folder (a timestamp, a witness report...)."""
        entry = evidence_entry(name, data, media_type)
        self.update(case_id, lambda record: None, "evidence.added", attach=[(name, data, media_type)],
                    name=name, sha256=entry["sha256"])
        return entry

    def erase(self, case_id: str, mutate, event: str, **details) -> dict:
        """Delete evidence files and personal fields for good, leaving no copy in the data directory.

        `mutate` blanks the record's fields and returns {file name: sha256} of the files to delete; it runs
        under the store lock, so a file added a moment earlier (a consent reply) is among them. The record
        change commits first (a crash after it is finished at start-up, Store._tidy_case_folder); then the
        files go, and the snapshot is rewritten and the journal emptied so that no earlier version of the
        record survives on disk.
        """
        erased = {}

        def blank(record):
            erased.update(mutate(record))

        with self._lock:
            record = self.update(case_id, blank, event, erased=erased, **details)
            folder = self.cases_dir / case_id
            for name in erased:
                _remove(folder / name)
            _sync(folder)
            self._try_compact()
            try:
                self._index.purge()
            except sqlite3.Error as error:  # the next start rebuilds it, and a rebuild purges too
                self._index_missed(error)
            return record

    def compact(self) -> None:
        """Fold the journal into the record files and the snapshot (start-up does this too): the record
        files already hold every change; the ones written since the last fold are forced to disk here, before
        the journal that also holds them is cut. If that fails (a disk error), what the failed sync held may
        never reach the disk, whatever a later sync says: the next fold writes those records again from the
        journal first."""
        with self._lock:
            if self._resync:
                for doc_id, doc in journal_records(self.data_dir / "journal.jsonl").items():
                    self._records.put(int(doc_id), doc)
            try:
                self._records.sync()
            except OSError:
                self._resync = True
                raise
            self._resync = False
            if self._index is not None and not self._in_memory:
                try:
                    self._index.checkpoint()  # what the index took is durable before the journal lets go of it
                except sqlite3.Error as error:
                    self._index_missed(error)
            self._write_snapshot()
            _cut(self._journal, 0)
            self._compaction_due = False

    def _try_compact(self) -> None:
        """Compact now, or, on a full disk, at the next write (start-up compacts in any case)."""
        try:
            self.compact()
        except OSError as error:
            if error.errno not in NO_SPACE:
                raise
            self._compaction_due = True
            log.warning("disk full: the journal could not be folded into the snapshot (after an erasure it "
                        "still holds the erased record); retried at the next write and at start-up")

    # -- settings ---------------------------------------------------------------------------------

    def get_setting(self, key: str, default=None):
        with self._lock:
            doc = self._settings.get(Query().key == key)
            return copy.deepcopy(doc["value"]) if doc else default

    def put_setting(self, key: str, value) -> None:
        with self._lock:
            doc = self._settings.get(Query().key == key)
            doc_id = doc.doc_id if doc else max(map(int, self._tables[SETTINGS]), default=0) + 1
            at = iso_utc(utc_now())
            self._commit(SETTINGS, doc_id, {"key": key, "value": copy.deepcopy(value), "changed_at": at}, at,
                         "setting.changed", None, {"key": key})


def index_entry(record: dict) -> dict:
    """What the case index keeps of a record: its summary, the words to search, its open deadlines."""
    text = record.get("text")
    return {"id": record["id"], "kind": record["kind"], "status": record.get("status") or "",
            "platform": record.get("platform"), "text": text, "author": (record.get("author") or {}).get("name"),
            "permalink": record.get("permalink"), "author_url": (record.get("author") or {}).get("profile_url"),
            "queued": record.get("background") == "queued",
            "unstamped": (record.get("timestamp") or {}).get("status") != "stamped",
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest() if isinstance(text, str) else None,
            "dues": [d["due"] for d in record.get("deadlines") or [] if d.get("status") == "open"],
            "summary": {key: value for key, value in record.items() if key not in SUMMARY_LEAVES_OUT}}


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


class StoreView(CaseFiles):
    """A read-only view of a data directory. It takes no lock, so it works beside the running server that
    holds the directory (`testimone export`, `testimone verify`): the journal's records are taken as they
    were when the view was made, the others are read from their files when asked for."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.cases_dir = self.data_dir / CASES
        tables, _, _ = read_tables(self.data_dir)  # StoreDamaged names the file when it cannot
        folder = self.data_dir / RECORDS
        self._files = RecordFiles(folder) if folder.is_dir() else {}
        self._ids = self._files.case_ids() if self._files else {}
        self._newer = {doc["id"]: doc for doc in tables[CASES].values()}  # the journal's, newer than the files
        self._ids.update((doc["id"], int(doc_id)) for doc_id, doc in tables[CASES].items())
        self._settings = {doc["key"]: doc["value"] for doc in tables[SETTINGS].values()}

    def case_ids(self) -> list[str]:
        """Every case's id, in the order the cases were stored."""
        return sorted(self._ids, key=self._ids.get)

    def get(self, case_id: str) -> dict | None:
        if case_id in self._newer:
            return copy.deepcopy(self._newer[case_id])
        doc_id = self._ids.get(case_id)
        return None if doc_id is None else self._files[doc_id]

    def record_stamp(self, case_id: str) -> str | None:
        """What changes when the case's record changes (verify's marks): "<size>:<mtime_ns>" of its file, or the
        SHA-256 of a record still in the journal (in memory here). None when there is no such record."""
        if case_id in self._newer:
            return sha256_hex(canonical_json(self._newer[case_id]))
        doc_id = self._ids.get(case_id)
        if doc_id is None or not self._files:
            return None
        try:
            stat = os.stat(f"{self._files.folder}/{self._files.names[str(doc_id)]}")
        except (KeyError, FileNotFoundError):
            return None
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    def iter_records(self):
        """(case id, record) of every case, one at a time, in the order they were stored."""
        for case_id in self.case_ids():
            yield case_id, self.get(case_id)

    def records(self) -> dict:
        """{case id: record} of every case (all in memory: `iter_records` reads one at a time)."""
        return dict(self.iter_records())

    def _audit_index(self) -> CaseIndex | None:
        """The server's case index, read only (None when there is none: the log is scanned instead)."""
        path = self.data_dir / INDEX
        if getattr(self, "_reader", None) is None and path.is_file():
            self._reader = CaseIndex(path, reader=True)
        return getattr(self, "_reader", None)

    def get_setting(self, key: str, default=None):
        return copy.deepcopy(self._settings.get(key, default))

    def read_evidence(self, case_id: str, name: str) -> bytes:
        return _evidence_path(self.cases_dir, self.get(case_id), case_id, name).read_bytes()


# -- small files beside the records, for callers that may run without a Store (the CLI beside a server) ------

def holds_data(data_dir) -> bool:
    """Whether `data_dir` is a Testimone data directory (a store has opened it: it has an audit log)."""
    return (Path(data_dir) / AUDIT).exists()


def protect_data_dir(data_dir) -> None:
    """Only the operator's OS account may read the data folder (cases, token, login links)."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    Path(data_dir).chmod(0o700)


def pairing_token_file(data_dir, new_token: str) -> str:
    """The token kept in DATA_DIR/token; `new_token` is written there (mode 0600) when there is none yet.
    The first of two racing processes wins (O_EXCL), and both get its token."""
    path = Path(data_dir) / TOKEN
    try:
        _write_new_file(path, new_token.encode() + b"\n")
    except FileExistsError:
        return path.read_text().strip()
    return new_token


def add_login_key(data_dir, digest: str, max_age_seconds: float) -> None:
    """Keep a login key as an empty file named by its digest in DATA_DIR/login/, dropping the expired ones."""
    folder = Path(data_dir) / LOGIN
    folder.mkdir(mode=0o700, exist_ok=True)
    cutoff = datetime.now().timestamp() - max_age_seconds
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    _write_new_file(folder / digest, b"")


def take_login_key(data_dir, digest: str) -> float | None:
    """Remove a login key and return when it was made (epoch seconds); None when there is no such key. Of
    two racing callers only one gets it."""
    path = Path(data_dir) / LOGIN / digest
    try:
        made = path.stat().st_mtime
        path.unlink()
    except FileNotFoundError:
        return None
    return made


def signing_path(data_dir, name: str) -> Path:
    """Where this install's signing key or certificate lives (pyHanko loads them by path, in a render worker)."""
    return Path(data_dir) / SIGNING / name


def read_signing_file(data_dir, name: str) -> bytes | None:
    try:
        return signing_path(data_dir, name).read_bytes()
    except FileNotFoundError:
        return None


def write_signing_file(data_dir, name: str, data: bytes) -> Path:
    """Write (or replace) the key or certificate, readable by this user only, on disk when this returns."""
    path = signing_path(data_dir, name)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    _atomic_replace(path, data)
    return path


def get_store() -> Store:
    return current_app.extensions["testimone.store"]
