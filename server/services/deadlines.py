"""Deadlines across every case: the soonest ones for the dashboard, and the iCalendar feed.

Both read the store's deadline index (cases by their soonest open deadline), never every case: the
dashboard reads the first few, the feed the ones due within FEED_DAYS. A case's deadlines are computed
again on reading (an open deadline turns missed with time alone).
"""
import hashlib
from datetime import date, timedelta
from itertools import islice

from ..domain import kinds
from ..domain.errors import Invalid
from ..domain.vocabulary import LANGUAGES
from ..render import ics
from . import cases

# The calendar carries what falls due within about a year: a civil-damages term five years away joins
# the feed when it comes within reach, and the feed stays small enough to refresh hourly.
FEED_DAYS = 366


def _with_open(records, today: date):
    """(record, its open deadlines) for each case not yet settled that has any."""
    for record in records:
        kind = kinds.of(record)
        if not kind.deadlines or record["status"] in kind.settled:
            continue
        deadlines = [d for d in kind.deadlines(record, today) if d["status"] == "open"]
        if deadlines:
            yield record, deadlines


def _by_due(pairs) -> list[tuple[dict, dict]]:
    return sorted(pairs, key=lambda item: item[1]["due"])


def open_deadlines(store, until: date):
    """(record, deadline) for every open deadline due before `until`, one case after the other in the order
    of their soonest deadline; a generator, so that a feed of thousands of cases holds one at a time."""
    today = cases.today()
    for record, deadlines in _with_open(store.with_deadlines(today.isoformat(), until.isoformat()), today):
        for deadline in _by_due((record, d) for d in deadlines if d["due"] < until.isoformat()):
            yield deadline


def soonest(store, count: int) -> list[tuple[dict, dict]]:
    """The `count` soonest open deadlines. They belong to the `count` cases whose own soonest deadline
    comes first, so only those cases are read."""
    today = cases.today()
    first = islice(_with_open(store.with_deadlines(today.isoformat()), today), count)
    return _by_due((record, d) for record, deadlines in first for d in deadlines)[:count]


def feed(store, lang: str, base_url: str) -> bytes:
    """The iCalendar feed of the open deadlines due within FEED_DAYS; `base_url` links back to the dashboard.

    Calendar apps poll the feed (hourly, as it asks): the same store, unchanged, on the same day, gives
    the same feed, so it is built once and kept until a write or midnight (at 100,000 cases a build
    takes seconds, a kept feed milliseconds; docs/performance.md)."""
    return kept_feed(store, lang, base_url)[0]


def kept_feed(store, lang: str, base_url: str) -> tuple[bytes, str]:
    """`feed` and its entity tag (a hash of it, computed once: the feed may be megabytes)."""
    if lang not in LANGUAGES:
        raise Invalid("lang", "lang.unknown")
    today = cases.today()
    key = (id(store), store.changes(), today, lang, base_url)
    if _kept.get(key) is None:
        until = today + timedelta(days=FEED_DAYS)
        built = ics.deadlines_feed(open_deadlines(store, until), lang, base_url)
        for stale in [k for k in _kept if k[:3] != key[:3]]:  # other stores, older writes, other days
            del _kept[stale]
        _kept[key] = built, hashlib.sha256(built).hexdigest()[:32]
    return _kept[key]


_kept: dict = {}
