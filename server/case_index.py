"""The case index: what lists, filters, search and the deadline feed read, in one SQLite file.

It is derived data. The records stay the record of truth; this index can be deleted at any time and
is rebuilt from them (`rebuild`). It exists so that reading a page of cases costs the page, not the
number of cases: a page is a keyset query on `seq` (the order cases were stored in, newest first),
filters use plain indexes, and text search uses SQLite's FTS5 full-text index. FTS5 ships with the
standard library's sqlite3 and its `unicode61` tokeniser with `remove_diacritics 2` folds case and
accents, so "citta" finds "città" and "CUOCO" finds "cuoco"; every word of a query is a prefix
("cuoc" finds "cuoco") and all of them must match.

The owner of the index (the store) serialises writes; reads may come from any thread.
"""
import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

TOKENISER = "unicode61 remove_diacritics 2"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, status TEXT NOT NULL,
    platform TEXT, permalink TEXT, text_sha256 TEXT, author_url TEXT,
    queued INTEGER NOT NULL DEFAULT 0, unstamped INTEGER NOT NULL DEFAULT 0, summary TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cases_author_url ON cases (author_url, seq);
CREATE INDEX IF NOT EXISTS cases_queued ON cases (seq) WHERE queued;
CREATE INDEX IF NOT EXISTS cases_unstamped ON cases (seq) WHERE unstamped;
CREATE INDEX IF NOT EXISTS cases_kind ON cases (kind, seq);
CREATE INDEX IF NOT EXISTS cases_status ON cases (status, seq);
CREATE INDEX IF NOT EXISTS cases_platform ON cases (platform, seq);
CREATE INDEX IF NOT EXISTS cases_permalink ON cases (permalink);
CREATE INDEX IF NOT EXISTS cases_text_sha256 ON cases (text_sha256);
CREATE TABLE IF NOT EXISTS deadlines (
    seq INTEGER NOT NULL REFERENCES cases (seq) ON DELETE CASCADE, due TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deadlines_due ON deadlines (due, seq);
CREATE TABLE IF NOT EXISTS feed_cases (
    seq INTEGER NOT NULL REFERENCES cases (seq) ON DELETE CASCADE, feed TEXT NOT NULL, PRIMARY KEY (feed, seq));
CREATE INDEX IF NOT EXISTS feed_cases_seq ON feed_cases (seq);
CREATE TABLE IF NOT EXISTS feed_events (
    seq INTEGER NOT NULL REFERENCES cases (seq) ON DELETE CASCADE, feed TEXT NOT NULL, due TEXT NOT NULL,
    body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS feed_events_due ON feed_events (feed, due, seq);
CREATE INDEX IF NOT EXISTS feed_events_seq ON feed_events (seq);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5 (
    text, author, tokenize='{TOKENISER}');
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_lines (offset INTEGER PRIMARY KEY, case_id TEXT, length INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_lines_case ON audit_lines (case_id, offset);
"""
# meta keys of the audit-line index: how many bytes of audit.log it covers, and where its newest line is
# (offset, length, SHA-256), so a reader can tell whether the log still starts with what was indexed.
AUDIT_STATE = ("audit_size", "audit_head_offset", "audit_head_length", "audit_head_sha256")
WORD = re.compile(r"\w+")
# A query word is a prefix. FTS5 answers a prefix by merging the whole posting list of every word that
# starts with it before it can stop at a page (13 ms for a word in most of 100,000 cases); one exact word,
# or a few joined by OR, it reads lazily from the newest match down and stops at the page (0.02 ms). So a
# prefix is first looked up in `terms` (every word the index holds, a B-tree) and sent as an OR of the
# words it stands for, unless there are more than this many.
EXPANDED_TERMS = 64


class CaseIndex:
    def __init__(self, path: Path | str, reader: bool = False):
        """`reader`: only read an index another process owns (StoreView): no schema, no writes."""
        self.path = str(path)
        self._reader = reader
        self._local = threading.local()
        self._connections = []  # every thread's, to close them all
        if not reader:
            with self._db() as db:
                db.executescript(SCHEMA)
            if self.meta("terms") != "complete":  # an index written before `terms` existed
                with self._transaction() as db:
                    self._fill_terms(db)

    def _db(self) -> sqlite3.Connection:
        """One connection per thread (sqlite3 connections are not shared across threads)."""
        db = getattr(self._local, "db", None)
        if db is None and self._reader:
            db = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                                 check_same_thread=False)  # closed by close()
            self._local.db = db
            self._connections.append(db)
            self._scratch(db)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,  # closed by close()
                                 uri=self.path.startswith("file:"))  # a file: URI: an index in memory
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # derived data: a lost tail is rebuilt, not fatal
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA secure_delete=ON")  # erased text is overwritten, not left in free pages
            self._local.db = db
            self._connections.append(db)
            self._scratch(db)
        return db

    @staticmethod
    def _scratch(db: sqlite3.Connection) -> None:
        """Per connection, in its temporary schema: a one-row full-text table that tokenises a text exactly
        as `words` does (`_tokens`), and the list of the words `words` holds (to fill `terms`)."""
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.scratch USING fts5 (text, tokenize='{TOKENISER}')")
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.scratch_terms USING fts5vocab('temp', 'scratch', 'row')")
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.words_terms USING fts5vocab('main', 'words', 'row')")

    @staticmethod
    def _tokens(db: sqlite3.Connection, text: str) -> list[str]:
        """The words of `text` as the full-text index stores them (folded case and accents), by SQLite's
        own tokeniser: no second implementation to disagree with it."""
        db.execute("INSERT INTO temp.scratch (rowid, text) VALUES (1, ?)", (text,))
        tokens = [term for term, in db.execute("SELECT term FROM temp.scratch_terms")]
        db.execute("DELETE FROM temp.scratch WHERE rowid = 1")
        return tokens

    def close(self) -> None:
        for db in self._connections:
            db.close()
        self._connections.clear()
        self._local = threading.local()

    # -- writing ----------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self):
        db = self._db()
        db.execute("BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def put(self, seq: int, entry: dict) -> None:
        """Add or replace one case. `entry`: id, kind, status, platform, text, author, summary (any
        JSON the lists show), dues (the ISO dates of its open deadlines)."""
        with self._transaction() as db:
            self._delete(db, seq)
            self._insert(db, seq, entry)

    def remove(self, case_id: str) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT seq FROM cases WHERE id = ?", (case_id,)).fetchone()
            if row:
                self._delete(db, row[0])

    def rebuild(self, entries) -> None:
        """Empty the index and fill it from (seq, entry) pairs, in one transaction."""
        with self._transaction() as db:
            for table in ("feed_events", "feed_cases", "deadlines", "cases", "words", "terms"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key = 'terms'")  # until purge fills them (or the next opening)
            for seq, entry in entries:
                self._insert(db, seq, entry, terms=False)  # once for all, below: quicker than case by case
        self.purge()  # nothing of what was there before (an erased text, say) stays in the file; fills `terms`

    @staticmethod
    def _fill_terms(db: sqlite3.Connection) -> None:
        """`terms` := every word `words` holds (reads the whole full-text index: a rebuild, an erasure)."""
        db.execute("DELETE FROM terms")
        db.execute("INSERT INTO terms (term) SELECT term FROM temp.words_terms")
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('terms', 'complete')")

    @staticmethod
    def _delete(db: sqlite3.Connection, seq: int) -> None:
        if db.execute("DELETE FROM cases WHERE seq = ?", (seq,)).rowcount:
            db.execute("DELETE FROM words WHERE rowid = ?", (seq,))

    @classmethod
    def _insert(cls, db: sqlite3.Connection, seq: int, entry: dict, terms: bool = True) -> None:
        db.execute("INSERT INTO cases (seq, id, kind, status, platform, permalink, text_sha256, author_url, queued, "
                   "unstamped, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (seq, entry["id"], entry["kind"], entry["status"], entry.get("platform"), entry.get("permalink"),
                    entry.get("text_sha256"), entry.get("author_url"), bool(entry.get("queued")),
                    bool(entry.get("unstamped")), json.dumps(entry["summary"], ensure_ascii=False, separators=(",", ":"))))
        words = (entry.get("text") or "", entry.get("author") or "")
        db.execute("INSERT INTO words (rowid, text, author) VALUES (?, ?, ?)", (seq, *words))
        if terms:  # a word no case holds any more stays until the next purge: it matches nothing
            db.executemany("INSERT OR IGNORE INTO terms (term) VALUES (?)",
                           [(term,) for term in cls._tokens(db, " ".join(words))])
        db.executemany("INSERT INTO deadlines (seq, due) VALUES (?, ?)",
                       [(seq, due) for due in sorted(set(entry.get("dues", [])))])

    # -- where each case's audit lines are (Store._write_audit appends, CaseFiles.audit_lines reads) ----

    def add_audit_lines(self, rows, state: tuple[int, int, int, str], replace: bool = False) -> None:
        """Index (offset, case id, length) rows of audit.log and the state they bring it to (AUDIT_STATE),
        in one transaction; `replace` empties the table first (a rebuild)."""
        with self._transaction() as db:
            if replace:
                db.execute("DELETE FROM audit_lines")
            db.executemany("INSERT OR REPLACE INTO audit_lines (offset, case_id, length) VALUES (?, ?, ?)", rows)
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                           [(key, str(value)) for key, value in zip(AUDIT_STATE, state)])

    def audit_state(self) -> tuple[int, int, int, str] | None:
        rows = dict(self._db().execute(f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * 4)})",
                                       AUDIT_STATE).fetchall())
        if len(rows) < len(AUDIT_STATE):
            return None
        size, offset, length, sha = (rows[key] for key in AUDIT_STATE)
        return int(size), int(offset), int(length), sha

    def audit_offsets(self, case_id: str) -> list[tuple[int, int]]:
        """(offset, length) of the case's audit lines, in log order."""
        return self._db().execute("SELECT offset, length FROM audit_lines WHERE case_id = ? ORDER BY offset",
                                  (case_id,)).fetchall()

    def set_meta(self, key: str, value: str) -> None:
        self._db().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- reading ----------------------------------------------------------------------------------

    def page(self, kind=None, status=None, platform=None, q=None, limit=50, before=None, permalink=None,
             text_sha256=None):
        """Summaries newest first and the `seq` to pass as `before` for the next page (or None).
        `permalink` and `text_sha256`: the cases with that permalink or that text (either)."""
        # With a text query the FTS table leads, in its own rowid order (its rowid is `seq`), so SQLite
        # stops after `limit` matches instead of sorting every match.
        key = "w.rowid" if q is not None else "c.seq"
        where, params = [], []
        for column, value in (("kind", kind), ("status", status), ("platform", platform)):
            if value is not None:
                where.append(f"c.{column} = ?")
                params.append(value)
        same = [(column, value) for column, value in (("permalink", permalink), ("text_sha256", text_sha256))
                if value is not None]
        if same:
            where.append("(" + " OR ".join(f"c.{column} = ?" for column, _ in same) + ")")
            params += [value for _, value in same]
        if before is not None:
            where.append(f"{key} < ?")
            params.append(before)
        source = "cases c"
        if q is not None:
            match = self._match(q)
            if match is None:
                return [], None
            source = "words w JOIN cases c ON c.seq = w.rowid"
            where.insert(0, "words MATCH ?")
            params.insert(0, match)
        sql = (f"SELECT c.seq, c.summary FROM {source}"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + f" ORDER BY {key} DESC LIMIT ?")
        rows = self._db().execute(sql, (*params, limit + 1)).fetchall()
        next_before = rows[limit - 1][0] if len(rows) > limit else None
        return [json.loads(summary) for _, summary in rows[:limit]], next_before

    def _match(self, q: str) -> str | None:
        """The FTS5 query for a user's words (`fts_query`), each prefix spelt out as the words it stands for
        (EXPANDED_TERMS). None: no words, or a word that no case holds, so nothing can match."""
        db = self._db()
        parts = []
        for word in WORD.findall(q):
            for token in self._tokens(db, word):
                terms = [term for term, in db.execute(
                    "SELECT term FROM terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
                    (token, token + "\U0010ffff", EXPANDED_TERMS + 1))]
                if not terms:
                    return None
                if len(terms) > EXPANDED_TERMS:
                    parts.append(fts_query(token))
                else:
                    parts.append("(" + " OR ".join('"' + term.replace('"', '""') + '"' for term in terms) + ")")
        return " AND ".join(parts) or None

    def with_deadlines(self, since: str, until: str | None = None):
        """Summaries of the cases with a deadline due from `since` (and before `until`), soonest first,
        each case once; a generator, so a caller that wants the first few reads only those."""
        rows = self._db().execute(
            "SELECT c.id, c.summary FROM deadlines d JOIN cases c ON c.seq = d.seq "
            "WHERE d.due >= ? AND d.due < ? ORDER BY d.due, d.seq", (since, until or "9999-12-31"))
        seen = set()
        for case_id, summary in rows:
            if case_id not in seen:
                seen.add(case_id)
                yield json.loads(summary)

    # -- the deadlines feed's events, written once per case and kept until the case changes ---------------
    # `feed` names one feed: the event format's version, the language and the link's base. A case's rows go
    # with it whenever it is put again (ON DELETE CASCADE), so what is kept is always of its current record.

    def feed_missing(self, feed: str, since: str, until: str) -> list[int]:
        """The cases (seq) with a deadline due from `since` to before `until` whose events for `feed` are not
        kept yet."""
        return [seq for seq, in self._db().execute(
            "SELECT DISTINCT d.seq FROM deadlines d WHERE d.due >= ? AND d.due < ? AND NOT EXISTS "
            "(SELECT 1 FROM feed_cases f WHERE f.feed = ? AND f.seq = d.seq) ORDER BY d.seq", (since, until, feed))]

    def raw_summaries(self, seqs: list[int]) -> list[tuple[int, str]]:
        """(seq, summary JSON) of these cases (at most a few hundred at a time)."""
        return self._db().execute(f"SELECT seq, summary FROM cases WHERE seq IN ({','.join('?' * len(seqs))})",
                                  seqs).fetchall()

    def keep_feed_events(self, feed: str, cases: dict, version: str) -> None:
        """Keep each case's events: {seq: (the summary JSON they were written from, [(due, event bytes)])}.
        A case whose summary is no longer that one (it changed meanwhile) is skipped. Events of another
        `version` are dropped first."""
        with self._transaction() as db:
            if db.execute("SELECT value FROM meta WHERE key = 'feed_version'").fetchone() != (version,):
                db.execute("DELETE FROM feed_events")
                db.execute("DELETE FROM feed_cases")
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('feed_version', ?)", (version,))
            for seq, (summary, events) in cases.items():
                if db.execute("SELECT summary FROM cases WHERE seq = ?", (seq,)).fetchone() != (summary,):
                    continue
                db.execute("INSERT OR REPLACE INTO feed_cases (seq, feed) VALUES (?, ?)", (seq, feed))
                db.executemany("INSERT INTO feed_events (seq, feed, due, body) VALUES (?, ?, ?, ?)",
                               [(seq, feed, due, body) for due, body in events])

    def feed_events(self, feed: str, since: str, until: str):
        """The kept events due from `since` to before `until`, by due date (then in the order cases came);
        a generator: a feed of megabytes is read one event at a time."""
        for body, in self._db().execute(
                "SELECT body FROM feed_events WHERE feed = ? AND due >= ? AND due < ? ORDER BY due, seq, rowid",
                (feed, since, until)):
            yield body

    def purge(self) -> None:
        """After an erasure: no trace of deleted text may stay in the file. secure_delete zeroes freed
        pages; "optimize" merges the full-text segments (dropping the deleted words' entries); the WAL
        checkpoint writes everything back and empties the log."""
        db = self._db()
        db.execute("INSERT INTO words (words) VALUES ('optimize')")
        with self._transaction() as db:
            self._fill_terms(db)  # the erased text's words go from `terms` too
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def ids(self, flag: str) -> list[str]:
        """The ids of the cases marked `flag` ("queued": background work not done; "unstamped": no timestamp
        yet), in the order they were stored."""
        if flag not in ("queued", "unstamped"):
            raise ValueError(flag)
        return [row[0] for row in self._db().execute(f"SELECT id FROM cases WHERE {flag} ORDER BY seq")]

    def by_author(self, profile_url: str) -> list[dict]:
        """Summaries of every case of one author profile, newest first."""
        rows = self._db().execute("SELECT summary FROM cases WHERE author_url = ? ORDER BY seq DESC", (profile_url,))
        return [json.loads(summary) for summary, in rows]

    def checkpoint(self) -> None:
        """Write the log back into the file and sync it: what the index holds now survives a power cut."""
        self._db().execute("PRAGMA wal_checkpoint(FULL)")

    def count(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM cases").fetchone()[0]


def fts_query(text: str) -> str | None:
    """A user's words as an FTS5 query: every word a quoted prefix, all required. None: no words."""
    words = WORD.findall(text)
    return " AND ".join(f'"{word}"*' for word in words) if words else None
