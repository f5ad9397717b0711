"""The one exception API routes raise, and the JSON shape every error takes."""


class ApiError(Exception):
    """A client error answered as `{"error": {"code", "message", "field"}}`."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}
