"""The JSON API (/api): authentication, error answers, and the routes of each area's module.

Every module of this package is imported here: it registers its routes on `bp` and describes them
in its `OPENAPI_PATHS` (collected by server/api/openapi.py).

Error messages come from the catalogues' "api" context (server/locales), in English unless the request's
Accept-Language prefers another language the server has (the extension shows them to its user).
"""
import importlib
import pkgutil

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import i18n
from ..domain.errors import DomainError, Invalid, NotAllowed, NotFound
from ..domain.vocabulary import LANGUAGES
from ..errors import ApiError, language, say  # noqa: F401 (language, say: for the routes)
from ..render.pool import RenderBusy
from ..security import check_token
from ..store import StoreFull

bp = Blueprint("api", __name__, url_prefix="/api")

# View functions that also accept the token as ?token= (calendar clients cannot send headers).
QUERY_TOKEN_VIEWS: set[str] = set()
PUBLIC_VIEWS = {"api.health"}


def query_token_allowed(view):
    QUERY_TOKEN_VIEWS.add(f"api.{view.__name__}")
    return view


def whole_number(name: str, default: int, maximum: int) -> int:
    """A query parameter that must be a whole number from 1 to `maximum` (`default` when absent)."""
    text = request.args.get(name, str(default))
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise Invalid(name, "parameter.limit", max=maximum)
    return int(text)


def only_parameters(*allowed: str) -> None:
    """Refuse a query parameter the route does not know (a typo would otherwise be silently ignored)."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise Invalid(unknown[0], "parameter.unknown")


@bp.before_request
def authenticate():
    if request.method == "OPTIONS" or request.endpoint in PUBLIC_VIEWS:
        return
    token = current_app.config["TOKEN"]
    if request.endpoint in QUERY_TOKEN_VIEWS and "token" in request.args:
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {request.args['token']}"
    check_token(token)


STATUS = {Invalid: 400, NotFound: 404, NotAllowed: 409}


@bp.app_errorhandler(ApiError)
def api_error(error: ApiError):
    return jsonify(error.to_dict()), error.status


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    """What the rules refused, as the JSON error every API answer takes."""
    return api_error(ApiError(STATUS[type(error)], error.code, error.message_in(language()), error.field))


@bp.app_errorhandler(RenderBusy)
def render_busy(error: RenderBusy):
    body = ApiError(503, "busy", say("busy", seconds=error.retry_after))
    return jsonify(body.to_dict()), 503, {"Retry-After": str(error.retry_after)}


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if not request.path.startswith("/api/"):
        return error
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    if error.code == 413:
        message = say("http.413", limit=current_app.config["MAX_CONTENT_LENGTH"])
    else:  # ours for the usual ones, werkzeug's English for the rare others
        message = say(f"http.{error.code}") if i18n.has("api", f"http.{error.code}") else error.description
    body = ApiError(error.code, codes.get(error.code, "http_error"), message, "body" if error.code == 413 else None)
    return jsonify(body.to_dict()), error.code


@bp.app_errorhandler(StoreFull)
def disk_full(error: StoreFull):
    current_app.logger.error("disk full on %s %s: the write was undone", request.method, request.path)
    # In every language, the request's first: the dashboard's pages get it too, as plain text.
    first = language()
    texts = [i18n.text("api", "disk_full", lang) for lang in sorted(LANGUAGES, key=lambda lang: lang != first)]
    body = ApiError(507, "insufficient_storage", " / ".join(texts))
    if not request.path.startswith("/api/"):
        return body.message, 507, {"Content-Type": "text/plain; charset=utf-8"}
    return jsonify(body.to_dict()), 507


@bp.app_errorhandler(Exception)
def unexpected_error(error: Exception):
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    body = ApiError(500, "internal_error", say("internal"))
    return jsonify(body.to_dict()), 500


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
