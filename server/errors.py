"""The one exception API routes raise, the JSON shape every error takes, and the language of its message.

Error messages come from the catalogues' "api" context (server/locales), in English unless the request's
Accept-Language prefers another language the server has (the extension shows them to its user).
"""
from flask import request

from . import i18n
from .domain.vocabulary import LANGUAGES

DEFAULT_LANGUAGE = "en"  # the documented contract's language (docs/api.md)

MAX_MESSAGE = 500  # an error quoting a client's value (a 3 MB field, a long unknown name) stays small
MAX_FIELD = 200


def _capped(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else f"{text[:limit - 1]}…"


class ApiError(Exception):
    """A client error answered as `{"error": {"code", "message", "field"}}`."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        message = _capped(message, MAX_MESSAGE)
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = _capped(field, MAX_FIELD)

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


def language() -> str:
    """The language of this request's error messages: English unless Accept-Language prefers another."""
    offered = sorted(LANGUAGES, key=lambda lang: lang != DEFAULT_LANGUAGE)  # English first: a tie goes to it
    return request.accept_languages.best_match(offered, default=DEFAULT_LANGUAGE)


def say(key: str, **values) -> str:
    """The "api" message `key` in the request's language, its {placeholders} filled."""
    return i18n.text("api", key, language()).format(**values)
