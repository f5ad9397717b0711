"""What the rules refuse, in three kinds. Each adapter answers them its own way: the API with a JSON
error (400, 404, 409), the dashboard with a message on the page, the command line with an exit code."""


class DomainError(Exception):
    """`field` names what is wrong (a dotted path, or None); `code` is stable for programs to test."""

    code = "error"

    def __init__(self, field: str | None, message: str, code: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code or self.code


class Invalid(DomainError):
    """A value that is malformed or contradicts itself."""

    code = "invalid_field"


class NotFound(DomainError):
    """No such case (or placement)."""

    code = "not_found"


class NotAllowed(DomainError):
    """A valid request the case's kind or state does not allow."""

    code = "not_allowed"
