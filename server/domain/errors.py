"""What the rules refuse, in three kinds. Each adapter answers them its own way: the API with a JSON
error (400, 404, 409), the dashboard with a message on the page, the command line with an exit code.

An error names its message by key, in the catalogues' "api" context (server/locales/<lang>/LC_MESSAGES/
testimone.po), with the values for its {placeholders}; the adapter that shows it picks the language:
`Invalid("lang", "lang.unknown", allowed="it, en").message_in("it")`.
"""
from .. import i18n


class DomainError(Exception):
    """`field` names what is wrong (a dotted path, or None); `code` is stable for programs to test; `key` names
    the message and `values` fill it ({field} is the error's field unless given)."""

    code = "error"

    def __init__(self, field: str | None, key: str, /, *, code: str | None = None, **values):
        super().__init__(field, key)
        self.field = field
        self.key = key
        self.values = {"field": field, **values}
        self.code = code or self.code

    def message_in(self, lang: str) -> str:
        return i18n.text("api", self.key, lang).format(**self.values)

    @property
    def message(self) -> str:
        """In English: the API's default language, and the command line's."""
        return self.message_in("en")

    def __str__(self) -> str:
        return self.message


class Invalid(DomainError):
    """A value that is malformed or contradicts itself."""

    code = "invalid_field"


class NotFound(DomainError):
    """No such case (or placement)."""

    code = "not_found"


class NotAllowed(DomainError):
    """A valid request the case's kind or state does not allow."""

    code = "not_allowed"
