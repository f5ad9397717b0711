"""Access control, in one place (docs/security.md):

- Host check: the server answers only to its own names (DNS rebinding).
- The API needs the pairing token (Authorization: Bearer), held by the paired extension.
- CORS: only a browser extension's origin, and once an extension is paired only that one.
- The dashboard needs a session, opened by a one-time login link that only the operator's own
  OS account can make (`make run` prints one; `testimone login-url` makes another).
- Every request acts for an operator: today the one implicit operator, OWNER.
"""
import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app, g, request
from flask_cors import CORS

from .errors import ApiError, say
from .store import add_login_key, pairing_token_file, take_login_key

# Chrome derives an extension id from its key as 32 letters a–p; Firefox gives each install a UUID.
# Compiled, so that flask-cors matches them case-sensitively (it ignores case in plain strings);
# \Z because it matches from the start only.
EXTENSION_ORIGIN = re.compile(r"(?:chrome-extension://[a-p]{32}"
                              r"|moz-extension://[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\Z")
PAIRED_SETTING = "paired_extension"
PAIRING_VIEW = "api.pair"  # open to any extension origin: a new install pairs through it
PAIRING_CODE_SECONDS = 300
LOGIN_LINK_HOURS = 24
OWNER = "owner"  # the single operator until several are added; sessions and tokens name the operator
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_extension_origin(origin: str | None) -> bool:
    return bool(origin) and EXTENSION_ORIGIN.fullmatch(origin) is not None


def pairing_token(config, data_dir: Path) -> str:
    """The configured token, else the one kept in DATA_DIR/token (created on first start, mode 0600)."""
    if config.get("TOKEN"):
        return str(config["TOKEN"])
    return pairing_token_file(data_dir, secrets.token_urlsafe(32))


def allowed_hosts(config) -> set[str]:
    port = config["PORT"]
    names = {"127.0.0.1", "localhost", "[::1]", config["HOST"]}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return hosts


def remote_binding_refused(config) -> str | None:
    """Why the server must not listen on HOST, or None. Another address needs ALLOW_REMOTE: without TLS,
    anyone on the network can read the token and the cases as they travel."""
    if config["HOST"] in LOOPBACK_HOSTS:
        return None
    if str(config.get("ALLOW_REMOTE") or "").lower() in ("1", "true", "yes"):
        return None
    return (f"TESTIMONE_HOST={config['HOST']} would open Testimone to the network without encryption. "
            "Keep 127.0.0.1, or set TESTIMONE_ALLOW_REMOTE=1 behind a TLS proxy (docs/security.md).")


def check_host() -> None:
    if request.host.lower() not in current_app.config["ALLOWED_HOSTS"]:
        raise ApiError(403, "host_not_allowed", say("host.not_allowed"), "Host")


def check_token(token: str) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "unauthorized", say("token.wrong"), "Authorization")
    g.operator = OWNER


# -- the paired extension ------------------------------------------------------------------------

def paired_origin(store) -> str | None:
    return (store.get_setting(PAIRED_SETTING) or {}).get("origin")


def record_pairing(store, origin: str) -> None:
    if paired_origin(store) != origin:
        store.put_setting(PAIRED_SETTING, {"origin": origin, "operator": OWNER,
                                           "paired_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def check_api_origin() -> None:
    """A browser names the page or extension behind a request in Origin: refuse all but the paired
    extension (any extension while none is paired). Requests without Origin (tools, calendar apps)
    still need the token."""
    origin = request.headers.get("Origin")
    if origin is None or not request.path.startswith("/api/"):
        return
    if not is_extension_origin(origin):
        raise ApiError(403, "origin_not_allowed", say("origin.not_allowed"), "Origin")
    paired = paired_origin(current_app.extensions["testimone.store"])
    if paired and origin != paired and request.endpoint != PAIRING_VIEW:
        raise ApiError(403, "origin_not_paired", say("origin.not_paired"), "Origin")


class PairingCodes:
    """One-time codes the dashboard hands to an extension (in memory: they live five minutes)."""

    def __init__(self):
        self._codes: dict[str, tuple[str, float]] = {}

    def issue(self, origin: str) -> str:
        now = time.monotonic()
        self._codes = {key: value for key, value in self._codes.items() if value[1] > now}
        code = secrets.token_urlsafe(24)
        self._codes[_digest(code)] = (origin, now + PAIRING_CODE_SECONDS)
        return code

    def redeem(self, code: str, origin: str) -> bool:
        entry = self._codes.pop(_digest(code), None)
        return entry is not None and entry[0] == origin and entry[1] > time.monotonic()


# -- dashboard login links -------------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_login_key(data_dir: Path) -> str:
    """A one-time login key, kept as its hash in DATA_DIR/login/ so that `testimone login-url` can make
    one while the server runs; only the data folder's owner can."""
    key = secrets.token_urlsafe(32)
    add_login_key(data_dir, _digest(key), LOGIN_LINK_HOURS * 3600)
    return key


def redeem_login_key(data_dir: Path, key: str) -> bool:
    """True once per key, within LOGIN_LINK_HOURS of its making."""
    if not key or len(key) > 100:
        return False
    made = take_login_key(data_dir, _digest(key))  # only one of two racing requests gets it
    return made is not None and time.time() - made < LOGIN_LINK_HOURS * 3600


def login_url(config, key: str) -> str:
    return f"http://127.0.0.1:{config['PORT']}/login?key={key}"


def init_app(app) -> None:
    app.config["ALLOWED_HOSTS"] = allowed_hosts(app.config)
    app.extensions["testimone.pairing_codes"] = PairingCodes()
    app.before_request(check_host)
    app.before_request(check_api_origin)
    CORS(app, resources={r"/api/*": {"origins": [EXTENSION_ORIGIN]}},
         allow_headers=["Authorization", "Content-Type", "Idempotency-Key"], max_age=600)
    app.after_request(_security_headers)


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
