"""Deadlines across every case: the soonest ones for the dashboard, and the iCalendar feed.

Both read the store's deadline index (cases by their soonest open deadline), never every case: the
dashboard reads the first few, the feed the ones due within FEED_DAYS. A case's deadlines are computed
again on reading (an open deadline turns missed with time alone).

The feed is made of events written once per case and kept in the case index until the case changes
(a case's open deadlines, due today or later, do not change with time alone: only their window in the
feed moves). So a feed built after a write writes the events of the cases that changed and reads the
rest; at 100,000 cases that is milliseconds where writing every event took seconds (docs/performance.md).
The built feed is kept as a file until the next write or midnight and served from it, so that calendar
apps polling a feed of megabytes cost neither a new build nor a copy of it in memory.
"""
import json
import threading
from datetime import date, datetime, timedelta, timezone
from itertools import islice

from ..domain import kinds
from ..domain.errors import Invalid
from ..domain.vocabulary import LANGUAGES
from ..render import ics
from . import cases

# The calendar carries what falls due within about a year: a civil-damages term five years away joins
# the feed when it comes within reach, and the feed stays small enough to refresh hourly.
FEED_DAYS = 366


def _open(record: dict, today: date) -> list[dict]:
    """The case's open deadlines as of `today`, soonest first (none once the case is settled)."""
    kind = kinds.of(record)
    if not kind.deadlines or record["status"] in kind.settled:
        return []
    return sorted((d for d in kind.deadlines(record, today) if d["status"] == "open"), key=lambda d: d["due"])


def soonest(store, count: int) -> list[tuple[dict, dict]]:
    """The `count` soonest open deadlines. They belong to the `count` cases whose own soonest deadline
    comes first, so only those cases are read."""
    today = cases.today()
    with_open = ((record, _open(record, today)) for record in store.with_deadlines(today.isoformat()))
    first = islice(((record, deadlines) for record, deadlines in with_open if deadlines), count)
    return sorted(((record, d) for record, deadlines in first for d in deadlines), key=lambda item: item[1]["due"])[:count]


def due_within(store, days: int) -> list[tuple[dict, dict]]:
    """(record, deadline) for each open deadline due from today to `days` days ahead, both included,
    soonest first (the extension's badge): only the cases with such a deadline are read."""
    today = cases.today()
    last, until = (today + timedelta(days=days)).isoformat(), (today + timedelta(days=days + 1)).isoformat()
    pairs = [(record, d) for record in store.with_deadlines(today.isoformat(), until)
             for d in _open(record, today) if d["due"] <= last]
    return sorted(pairs, key=lambda pair: pair[1]["due"])


BATCH = 256  # cases whose events are written and kept in one go (bounds the memory of a first build)


def _keep_missing(store, feed: str, lang: str, base_url: str, today: date, until: date) -> bool:
    """Write and keep the events of the cases with a deadline in the feed's window and none kept (new or
    changed since). False if the index cannot keep them (a full disk), or writes keep coming."""
    since, until = today.isoformat(), until.isoformat()
    for _ in range(5):  # a case written while its events were being written is written again
        missing = store.feed_missing(feed, since, until)
        if not missing:
            return True
        stamp = datetime.now(timezone.utc)
        for start in range(0, len(missing), BATCH):
            written = {}
            for seq, summary in store.raw_summaries(missing[start:start + BATCH]):
                record = json.loads(summary)
                written[seq] = summary, [(d["due"], ics.event(record, d, lang, base_url, stamp))
                                         for d in _open(record, today)]
            if not store.keep_feed_events(feed, written, ics.version()):
                return False
    return False


def _whole(store, lang: str, base_url: str, today: date, until: date):
    """The feed written event by event, nothing kept (when the index cannot keep events)."""
    pairs = ((record, d) for record in store.with_deadlines(today.isoformat(), until.isoformat())
             for d in _open(record, today) if d["due"] < until.isoformat())
    yield ics.deadlines_feed(sorted(pairs, key=lambda pair: pair[1]["due"]), lang, base_url)


def _chunks(store, lang: str, base_url: str, today: date):
    """The feed, in pieces: its head, each event, its tail."""
    until = today + timedelta(days=FEED_DAYS)
    feed = f"{ics.version()}|{lang}|{base_url}"
    if not _keep_missing(store, feed, lang, base_url, today, until):
        yield from _whole(store, lang, base_url, today, until)
        return
    yield ics.head(lang)
    yield from store.feed_events(feed, today.isoformat(), until.isoformat())
    yield ics.TAIL


def kept_feed(store, lang: str, base_url: str):
    """The iCalendar feed of the open deadlines due within FEED_DAYS (`base_url` links back to the
    dashboard) as (an open file, its entity tag); the caller closes the file.

    Calendar apps poll the feed (hourly, as it asks): the same store, unchanged, on the same day, gives
    the same feed, so it is built once and kept until a write or midnight."""
    if lang not in LANGUAGES:
        raise Invalid("lang", "lang.unknown")
    today = cases.today()
    key = (id(store), store.changes(), today, lang, base_url)
    with _lock:
        kept = _kept.get(key)
        handle = store.open_feed(kept[0]) if kept else None
        if handle is None:
            for stale in [k for k in _kept if k[:3] != key[:3]]:  # other stores, older writes, other days
                del _kept[stale]
            name, sha256 = store.write_feed(_chunks(store, lang, base_url, today),
                                            keep={name for name, _ in _kept.values()})
            _kept[key] = name, sha256[:32]
            handle = store.open_feed(name)
        return handle, _kept[key][1]


_lock = threading.Lock()  # one build at a time: polls that come together wait for it, they do not each build
_kept: dict = {}
