"""The one exception API routes raise, and the JSON shape every error takes."""

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
