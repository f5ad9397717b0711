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
                       "status": "open", "uncertain": True, "counted_from": "2026-11-30"}
    assert civil["due"] == "2031-11-30" and civil["basis"] == "art. 2947 c.c." and not civil["uncertain"]


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
