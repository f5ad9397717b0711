"""The business profile: who signs the documents (pure functions, no I/O).

The profile is stored by the API as the setting "profile". Documents render even when it is
incomplete: each missing field shows a visible placeholder ("[indirizzo da completare]") and
`missing_fields()` tells the user what to fill in.
"""
import hashlib
import json
import re

from jsonschema import Draft202012Validator

from .. import i18n
from .errors import Invalid
from .vocabulary import LANGUAGES

FIELDS = ("business_name", "legal_form", "address", "vat_number", "email", "pec", "phone", "website",
          "dpo_contact", "signatory_name", "signatory_role", "social_accounts", "capture_operator", "default_language")

# Needed by at least one document's legal content (who asks, who is the controller, who signs).
REQUIRED = ("business_name", "address", "vat_number", "email", "pec", "signatory_name")


_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_TEXT = {"type": ["string", "null"], "maxLength": 200}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Business profile",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "business_name": _TEXT,
        "legal_form": {"type": ["string", "null"], "maxLength": 80},
        "address": {"type": ["string", "null"], "maxLength": 300},
        # IT + 11 digits, or another EU format (country code + 2-12 letters/digits); spaces are dropped.
        "vat_number": {"type": ["string", "null"], "pattern": r"^([A-Z]{2})?[0-9A-Z]{8,13}$"},
        "email": {"type": ["string", "null"], "maxLength": 254, "pattern": _EMAIL},
        "pec": {"type": ["string", "null"], "maxLength": 254, "pattern": _EMAIL},
        "phone": {"type": ["string", "null"], "pattern": r"^\+?[0-9][0-9 ()./-]{5,24}$"},
        "website": {"type": ["string", "null"], "maxLength": 300, "pattern": r"^https?://[^\s/$.?#][^\s]*$"},
        "dpo_contact": {"type": ["string", "null"], "maxLength": 300},
        "signatory_name": _TEXT,
        # "legale rappresentante", "titolare": printed under the signature of the removal demand.
        "signatory_role": {"type": ["string", "null"], "maxLength": 80},
        # "Facebook, Instagram": named in the consent request when the author is asked about social media.
        "social_accounts": {"type": ["string", "null"], "maxLength": 200},
        # Who captures evidence with this installation: the incident report names a person only when set.
        "capture_operator": {"type": ["string", "null"], "maxLength": 200},
        "default_language": {"enum": list(LANGUAGES)},
    },
}

DEFAULTS = {**{field: None for field in FIELDS}, "default_language": "it"}

# What each field is called, from the catalogues (context "profile", "field.<name>").
FIELD_NAMES = i18n.table("profile", "field", FIELDS)

_validator = Draft202012Validator(SCHEMA)


def normalise(data: dict) -> dict:
    """Trim strings, turn blanks into None, drop spaces from the VAT number and upper-case it."""
    clean = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip() or None
        if key == "vat_number" and isinstance(value, str):
            value = re.sub(r"[\s.-]", "", value).upper()
        clean[key] = value
    return clean


def validate(data) -> dict:
    """Return the complete, normalised profile or raise Invalid naming the first bad field."""
    if not isinstance(data, dict):
        raise Invalid(None, "profile.not_object")
    clean = normalise(data)
    for error in sorted(_validator.iter_errors(clean), key=lambda e: list(e.absolute_path)):
        if error.validator == "additionalProperties":
            unknown = sorted(set(clean) - set(FIELDS))[0]
            raise Invalid(unknown, "profile.unknown")
        field = str(error.absolute_path[0]) if error.absolute_path else None
        key, values = _explain(error)
        raise Invalid(field, key, **values)
    return {**DEFAULTS, **clean}


def _explain(error) -> tuple[str, dict]:
    """The message's key and values (our own words in every language, not jsonschema's English)."""
    if error.validator == "pattern":
        return "profile.format", {}
    if error.validator == "maxLength":
        return "profile.too_long", {"limit": error.validator_value}
    if error.validator == "enum":
        return "profile.choice", {"allowed": ", ".join(map(str, error.validator_value))}
    if error.validator == "type":
        return "profile.type", {}
    return "field.invalid", {}


def complete(profile: dict | None) -> dict:
    """The stored profile with defaults for what was never set (no validation: it was validated on PUT)."""
    return {**DEFAULTS, **(profile or {})}


def missing_fields(profile: dict | None) -> list[str]:
    """The required fields still empty, in form order."""
    full = complete(profile)
    return [field for field in REQUIRED if not full[field]]


def placeholder(field: str, lang: str) -> str:
    return i18n.text("profile", "placeholder", lang).format(field=FIELD_NAMES[field][lang])


def profile_hash(profile: dict | None) -> str:
    canonical = json.dumps(complete(profile), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
