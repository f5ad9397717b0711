"""What the last `testimone verify` found intact, so that the next one can skip it (one SQLite file).

Derived data, like the case index: deleting the file only makes the next verify a full one. The store
hands out its path (store.CaseFiles.verify_marks); server/services/verify.py decides what to trust.

- files: (case, name) -> size, mtime_ns and SHA-256 of a file whose hash matched its record;
- cases: case -> SHA-256 of the record as it was when the whole case verified without a problem;
- meta: the audit log's last verified line (seq, byte offset, length, SHA-256) and the last full run.

Size and mtime say a file was probably not touched; a local attacker can restore both, so only a full
verify proves integrity (docs/security.md, "Verify: full and incremental").
"""
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (case_id TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, verified_at TEXT NOT NULL, PRIMARY KEY (case_id, name))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, record_sha256 TEXT NOT NULL, verified_at TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class VerifyMarks:
    def __init__(self, path: Path | str):
        self.path = str(path)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)  # closed by the callers below
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # derived: a lost tail means more hashing, never a wrong answer
        db.executescript(SCHEMA)
        return db

    def load(self) -> tuple[dict, dict, dict]:
        """({(case, name): (size, mtime_ns, sha256, verified_at)}, {case: (record_sha256, verified_at)}, meta)."""
        db = self._connect()
        try:
            files = {(case, name): rest for case, name, *rest in db.execute(
                "SELECT case_id, name, size, mtime_ns, sha256, verified_at FROM files")}
            cases = {case: (sha, at) for case, sha, at in db.execute(
                "SELECT case_id, record_sha256, verified_at FROM cases")}
            meta = dict(db.execute("SELECT key, value FROM meta"))
        finally:
            db.close()
        return files, cases, meta

    def save(self, files, cases, forget, meta: dict, start_afresh: bool = False) -> None:
        """One transaction: upsert `files` rows (case, name, size, mtime_ns, sha256, verified_at) and `cases`
        rows (case, record_sha256, verified_at), after dropping every mark of the cases in `forget` (checked
        again: only what held now is in `files` and `cases`), set `meta` (a None value removes the key). `start_afresh`: a full run,
        which replaces every mark."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            if start_afresh:
                for table in ("files", "cases"):
                    db.execute(f"DELETE FROM {table}")
            for table in ("files", "cases"):
                db.executemany(f"DELETE FROM {table} WHERE case_id = ?", [(case,) for case in forget])
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", files)
            db.executemany("INSERT OR REPLACE INTO cases VALUES (?, ?, ?)", cases)
            for key, value in meta.items():
                if value is None:
                    db.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))
            db.execute("COMMIT")
        finally:
            db.close()
