"""Deadlines per docs/legal.md: calendar months, same day-number, start day not counted, last day of a short month."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain import legal


@pytest.mark.parametrize("start, months, due, moved", [
    (date(2016, 10, 14), 3, date(2017, 1, 14), False),   # docs/legal.md's own example, across a year boundary
    (date(2026, 11, 22), 3, date(2027, 2, 22), False),
    (date(2026, 11, 30), 3, date(2027, 2, 28), True),    # 30 Feb does not exist
    (date(2026, 11, 29), 3, date(2027, 2, 28), True),    # nor 29 Feb 2027
    (date(2027, 11, 29), 3, date(2028, 2, 29), False),   # ...but 29 Feb 2028 does (leap year)
    (date(2027, 11, 30), 3, date(2028, 2, 29), True),
    (date(2026, 3, 31), 3, date(2026, 6, 30), True),     # the 31st into a 30-day month
    (date(2026, 5, 31), 3, date(2026, 8, 31), False),
    (date(2026, 10, 31), 3, date(2027, 1, 31), False),
    (date(2026, 12, 31), 3, date(2027, 3, 31), False),
    (date(2026, 8, 31), 6, date(2027, 2, 28), True),     # stalking: 6 months
    (date(2026, 1, 1), 6, date(2026, 7, 1), False),
    (date(2028, 2, 29), 60, date(2033, 2, 28), True),    # civil damages: 5 years from a leap day
    (date(2024, 2, 29), 48, date(2028, 2, 29), False),
])
def test_add_months(start, months, due, moved):
    assert legal.add_months(start, months) == (due, moved)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(1, 72))
def test_add_months_keeps_the_day_number_or_ends_the_month(start, months):
    due, moved = legal.add_months(start, months)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    if moved:
        assert due.day < start.day and (due + (date(2000, 1, 2) - date(2000, 1, 1))).day == 1
    else:
        assert due.day == start.day


def kinds(deadlines):
    return [d["kind"] for d in deadlines]


@pytest.mark.parametrize("category, expected", [
    ("defamation", ["querela", "civil_damages"]),
    ("insult", ["querela", "civil_damages"]),
    ("fake_review", ["querela", "civil_damages"]),
    ("threat_or_blackmail", ["querela", "civil_damages"]),
    ("harassment", ["querela_stalking", "civil_damages"]),
    ("other", ["civil_damages"]),
])
def test_which_categories_get_a_querela(category, expected):
    assert kinds(legal.compute_deadlines(category, date(2026, 11, 22), [], date(2026, 11, 23))) == expected


def test_deadline_fields_and_counting():
    querela, civil = legal.compute_deadlines("defamation", date(2026, 11, 30), [], date(2026, 12, 1))
    assert querela == {"kind": "querela", "due": "2027-02-28", "basis": "art. 124 c.p.; art. 595 c.p.",
                       "status": "open", "uncertain": True, "counted_from": "2026-11-30",
                       "counted_from_kind": "knowledge", "non_working": "sunday", "file_by": "2027-02-26"}
    assert civil["due"] == "2031-11-30" and civil["basis"] == "art. 2947 c.c." and not civil["uncertain"]
    assert civil["counted_from_kind"] == "knowledge"


def test_status_open_on_the_last_day_missed_the_day_after():
    due = date(2027, 2, 22)
    assert legal.deadline_status("querela", due, [], due) == "open"
    assert legal.deadline_status("querela", due, [], date(2027, 2, 23)) == "missed"


def test_complaint_filed_in_time_meets_the_querela_late_does_not():
    in_time = [{"type": "complaint_filed", "date": "2027-02-22"}]
    late = [{"type": "complaint_filed", "date": "2027-02-23"}]
    today = date(2027, 3, 1)
    assert legal.compute_deadlines("defamation", date(2026, 11, 22), in_time, today)[0]["status"] == "met"
    assert legal.compute_deadlines("defamation", date(2026, 11, 22), late, today)[0]["status"] == "missed"
    # A complaint does not satisfy the civil limitation period.
    assert legal.compute_deadlines("defamation", date(2026, 11, 22), in_time, today)[1]["status"] == "open"


def test_removal_demand_uses_the_latest_demand_and_its_compliance_date():
    actions = [{"type": "removal_demand_sent", "date": "2026-11-24"},
               {"type": "removal_demand_sent", "date": "2026-12-01", "due": "2026-12-08"}]
    deadlines = legal.compute_deadlines("defamation", date(2026, 11, 22), actions, date(2026, 12, 2))
    demand = next(d for d in deadlines if d["kind"] == "removal_demand")
    assert demand["due"] == "2026-12-08" and demand["counted_from"] == "2026-12-01"
    assert [d["due"] for d in deadlines] == sorted(d["due"] for d in deadlines)


def test_removal_demand_defaults_to_7_days_like_the_letter_and_is_met_when_resolved_in_time():
    actions = [{"type": "removal_demand_sent", "date": "2026-11-24"},
               {"type": "resolved", "date": "2026-11-30"}]
    demand = next(d for d in legal.compute_deadlines("insult", date(2026, 11, 22), actions, date(2027, 1, 1))
                  if d["kind"] == "removal_demand")
    assert demand["due"] == "2026-12-01" and demand["status"] == "met"
    late = [actions[0], {"type": "resolved", "date": "2026-12-05"}]
    demand = next(d for d in legal.compute_deadlines("insult", date(2026, 11, 22), late, date(2027, 1, 1))
                  if d["kind"] == "removal_demand")
    assert demand["status"] == "missed"


def test_explain_says_how_it_was_counted_in_both_languages():
    querela = legal.compute_deadlines("defamation", date(2026, 11, 30), [], date(2026, 12, 1))[0]
    italian, english = legal.explain(querela, "it"), legal.explain(querela, "en")
    assert "30/11/2026" in italian and "28/02/2027" in italian and "avvocato" in italian
    assert "30 Nov 2026" in english and "28 Feb 2027" in english and "lawyer" in english
    # From knowledge of the fact, not "of the fact and its author": a querela can be against persons unknown.
    assert "notizia del fatto" in italian and "dell'autore" not in italian and "anche se l'autore è ignoto" in italian
    assert "learned of the fact" in english and "its author" not in english
    assert "domenica" in italian and "venerdì 26/02/2027" in italian and "Friday 26 Feb 2027" in english
    plain = legal.compute_deadlines("defamation", date(2026, 11, 22), [], date(2026, 12, 1))[0]
    assert "avvocato" not in legal.explain(plain, "it")


def test_ingiuria_is_never_called_a_crime():
    note = legal.CATEGORY_NOTES["insult"]
    assert "non è più reato" in note["it"] and "no longer a crime" in note["en"]


def test_every_text_exists_in_both_languages():
    for table in (legal.LABELS, legal.STATUS_LABELS, legal.CATEGORY_LABELS, legal.CATEGORY_NOTES, legal.ADVICE,
                  legal.DISCLAIMER):
        for entry in (table.values() if table not in (legal.ADVICE, legal.DISCLAIMER) else [table]):
            assert set(entry) == {"it", "en"} and all(entry.values())
    assert len(legal.ADVICE["it"]) == len(legal.ADVICE["en"]) == 2


@pytest.mark.parametrize("day, expected", [
    (date(2027, 2, 20), "saturday"),
    (date(2027, 2, 21), "sunday"),
    (date(2027, 2, 22), None),
    (date(2026, 12, 8), "holiday"),      # Immacolata Concezione
    (date(2027, 3, 29), "holiday"),      # Easter Monday 2027
    (date(2026, 10, 5), None),
    (date(2027, 10, 4), "holiday"),      # San Francesco, a national holiday again from 2026
    (date(2027, 4, 26), None),
])
def test_non_working_days(day, expected):
    assert legal.non_working(day) == expected


@pytest.mark.parametrize("due, file_by", [
    (date(2027, 2, 20), date(2027, 2, 19)),   # Saturday → Friday
    (date(2027, 2, 21), date(2027, 2, 19)),   # Sunday → Friday
    (date(2027, 3, 29), date(2027, 3, 26)),   # Easter Monday → the Friday before Easter
    (date(2026, 12, 26), date(2026, 12, 24)), # Santo Stefano (Saturday) after Christmas → 24 December
    (date(2027, 1, 6), date(2027, 1, 5)),     # Epifania (Wednesday) → Tuesday
])
def test_working_day_before(due, file_by):
    assert legal.working_day_before(due) == file_by


def test_querela_due_on_a_saturday_is_flagged_with_the_working_day_before():
    querela = legal.compute_deadlines("defamation", date(2026, 11, 20), [], date(2026, 11, 21))[0]
    assert querela["due"] == "2027-02-20" and querela["non_working"] == "saturday"
    assert querela["file_by"] == "2027-02-19"
    assert "sabato" in legal.explain(querela, "it") and "19/02/2027" in legal.explain(querela, "it")
    assert "Saturday" in legal.explain(querela, "en") and "19 Feb 2027" in legal.explain(querela, "en")
    holiday = legal.compute_deadlines("defamation", date(2026, 9, 8), [], date(2026, 9, 9))[0]
    assert holiday["due"] == "2026-12-08" and holiday["non_working"] == "holiday"
    assert "Immacolata Concezione" in legal.explain(holiday, "it")
    working = legal.compute_deadlines("defamation", date(2026, 11, 22), [], date(2026, 11, 23))[0]
    assert working["non_working"] is None and working["file_by"] is None
    assert "lavorativo" not in legal.explain(working, "it")


def test_civil_damages_run_from_publication_when_known():
    civil = legal.compute_deadlines("defamation", date(2026, 11, 22), [], date(2026, 11, 23),
                                    published_on=date(2026, 11, 18))[-1]
    assert civil["kind"] == "civil_damages" and civil["due"] == "2031-11-18"
    assert civil["counted_from"] == "2026-11-18" and civil["counted_from_kind"] == "publication"
    assert "pubblicazione (18/11/2026)" in legal.explain(civil, "it")
    unknown = legal.compute_deadlines("defamation", date(2026, 11, 22), [], date(2026, 11, 23))[-1]
    assert unknown["due"] == "2031-11-22" and "non è nota" in legal.explain(unknown, "it")
    assert "not known" in legal.explain(unknown, "en")


def test_publication_date_is_the_italian_day_of_posted_at():
    assert legal.publication_date({"posted_at": "2026-11-18T23:30:00Z"}) == date(2026, 11, 19)
    assert legal.publication_date({"posted_at": None}) is None
    assert legal.publication_date({"posted_at": "ieri"}) is None
    assert legal.publication_date({"posted_at": "0001-01-01T00:00:00+14:00"}) is None


def test_qualifications_cover_every_category_once():
    for category in legal.RELEVANT:
        shown, others = legal.qualifications(category)
        assert sorted(shown + others) == sorted(legal.QUALIFICATIONS)
    assert legal.qualifications("unknown") == legal.qualifications("other")
