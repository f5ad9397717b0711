"""The words a case is made of, defined once: kinds, platforms, purposes, offence categories, steps,
signals, languages. The JSON Schemas, the rules, the dashboard and the documents read them here; the
browser extension reads the copy generated from this module (extension/lib/vocabulary.js, written by
`testimone vocabulary`; tests/test_vocabulary.py fails when it is out of date).

A new platform is one entry in PLATFORMS and PLATFORM_HOSTS (plus, for the extension to read its pages,
an extractor in extension/sites/). A value without a label anywhere is shown as itself (`label()`).
"""
import json
import re

LANGUAGES = ("it", "en")

KINDS = ["testimonial", "offence"]

PLATFORMS = ["facebook", "tripadvisor", "google", "instagram", "other"]
# Which host names belong to a platform (the rest is "other"); the extension's extractors claim a subset.
PLATFORM_HOSTS = {
    "facebook": r"(^|\.)(facebook\.com|fb\.com)$",
    "tripadvisor": r"(^|\.)tripadvisor\.(com?\.)?[a-z]{2,3}$",
    "google": r"^(www\.|maps\.)?google\.(com?\.)?[a-z]{2,3}$",
    "instagram": r"(^|\.)instagram\.com$",
}
PLATFORM_PATHS = {"google": "/maps"}  # on a shared host, only these pages are the platform's

PURPOSES = ["website", "landing_page", "social", "print", "ads"]
CHANNELS = PURPOSES + ["other"]  # where a testimonial is published: a purpose, or elsewhere
ATTRIBUTIONS = ["full_name", "first_name_initial", "anonymous"]
RECEIVED_VIA = ["email", "platform_message", "paper", "other"]
TARGETS = ["business", "person", "both"]  # who an offending content targets (the querela is theirs to file)
TESTIMONIAL_STATUSES = ["consent_requested", "consent_granted", "consent_partial", "consent_denied",
                        "consent_withdrawn", "taken_down"]

OFFENCE_CATEGORIES = ["insult", "defamation", "threat_or_blackmail", "fake_review", "harassment", "other"]
ACTION_TYPES = ["contacted", "removal_demand_sent", "platform_report", "dsa_notice", "management_response",
                "lawyer", "complaint_filed", "resolved"]
OFFENCE_STATUSES = ["documented"] + ACTION_TYPES  # an offence case's status is its latest step
SIGNALS = ["nonstop_contact", "constant_discount_requests", "resource_drain", "review_blackmail", "impatience",
           "verbal_aggression"]


def platform_of(host: str, path: str = "") -> str:
    """The platform a page belongs to, from its host name and path ("other" when none claims it)."""
    host = host.lower().rstrip(".")
    return next((name for name, pattern in PLATFORM_HOSTS.items()
                 if re.search(pattern, host) and path.startswith(PLATFORM_PATHS.get(name, ""))), "other")


def label(labels: dict, value, lang: str) -> str:
    """`labels[value][lang]`, or the value itself when a label is missing (a new platform, an old status):
    a missing word must never stop a page or a PDF."""
    entry = labels.get(value) if isinstance(labels, dict) else None
    if isinstance(entry, dict) and entry.get(lang):
        return entry[lang]
    return str(value).replace("_", " ")


PUBLISHED = {"LANGUAGES": list(LANGUAGES), "KINDS": KINDS, "PLATFORMS": PLATFORMS, "PURPOSES": PURPOSES,
             "OFFENCE_CATEGORIES": OFFENCE_CATEGORIES, "ACTION_TYPES": ACTION_TYPES, "SIGNALS": SIGNALS}


def javascript() -> str:
    """extension/lib/vocabulary.js: the same lists for the extension, and the host patterns as RegExps."""
    lines = ["// Generated from server/domain/vocabulary.py by `testimone vocabulary`: do not edit by hand.",
             "// tests/test_vocabulary.py fails when this file is out of date.", ""]
    lines += [f"export const {name} = Object.freeze({json.dumps(values)});" for name, values in PUBLISHED.items()]
    hosts = ", ".join(f"{json.dumps(name)}: /{pattern}/" for name, pattern in PLATFORM_HOSTS.items())
    lines += [f"export const PLATFORM_HOSTS = Object.freeze({{ {hosts} }});", ""]
    return "\n".join(lines)
